#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_OFFER_CHOOSER_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_OFFER_CHOOSER_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/arbiter/arbiter.h"
#include "services/runtime/arbiter/arbiter_scratch.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/session/treatment_code.h"

namespace parley::engine::internal {

// Chooses offers for the interaction points of one GetOffers-style call
// from a live session and records each presentation in it. Not
// thread-safe; one per call attempt.
class OfferChooser {
 public:
  // Reads the session's segments and offer history and clears its last
  // recommended offers (the call's offers replace them). `channel`,
  // `state` and `transient` (the call's transient parameters) must outlive
  // the chooser.
  OfferChooser(const channel::CompiledChannel& channel, v1::SessionState& state,
               const std::vector<v1::NameValue>& transient, int64_t now_millis);

  OfferChooser(const OfferChooser&) = delete;
  OfferChooser& operator=(const OfferChooser&) = delete;

  // Chooses up to `requested` offers (clamped to 1..kMaxRequestedOffers)
  // for interaction point index `ip`, never those in `excluded`, and writes
  // them with new treatment codes from `codes` to `list` (named after the
  // interaction point; the default string when no offer qualifies). Each
  // is added to the session's last recommended offers and counted as
  // presented, also for this chooser's later calls; the session's sequence
  // is bumped (it seeds the tie-break). `chosen`, if set, gets the offer
  // indices appended. Fails only on an arbitration error.
  absl::Status Choose(int ip, uint32_t requested,
                      absl::Span<const int> excluded,
                      session::TreatmentCodeGenerator& codes,
                      v1::OfferList& list, std::vector<int>* chosen = nullptr);

 private:
  const channel::CompiledChannel& channel_;
  v1::SessionState& state_;
  const std::vector<v1::NameValue>& transient_;
  const int64_t now_millis_;
  // Segment indices of the session's segments still in the channel.
  std::vector<int> segments_;
  // Per offer index.
  std::vector<arbiter::OfferState> offer_states_;
  // UACIIgnoreSuppressionRules is set.
  const bool ignore_suppression_;
  // Rule bindings, filled on first use.
  absl::optional<expression::Bindings> bindings_;
  arbiter::ArbiterScratch scratch_;
  std::vector<arbiter::RankedOffer> ranked_;
};

}  // namespace parley::engine::internal

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_OFFER_CHOOSER_H_
