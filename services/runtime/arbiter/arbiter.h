#ifndef PARLEY_SERVICES_RUNTIME_ARBITER_ARBITER_H_
#define PARLEY_SERVICES_RUNTIME_ARBITER_ARBITER_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "services/runtime/arbiter/arbiter_scratch.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/expression/bindings.h"

// Offer arbitration for one GetOffers call, as in the classic Interact
// runtime: gather the rules for the visitor's segments in the interaction
// point's zone, filter them by dates, eligibility and suppression, keep the
// best score per offer, order with the channel's tie-break and return the
// top N. A pure function of its inputs: no I/O, no session storage.
namespace parley::arbiter {

// The most offers one call may request.
inline constexpr int kMaxRequestedOffers = 100;

// What the session knows about one offer, for suppression.
struct OfferState {
  // Times the offer was presented in this session.
  uint32_t presentations = 0;
  // Whether the visitor accepted it in this session.
  bool accepted = false;
  // Whether the visitor rejected it in this session.
  bool rejected = false;
};

// The inputs of one arbitration. Spans and the bindings must outlive the
// Arbitrate call.
struct ArbitrationInput {
  // The interaction point's zone index.
  int zone = -1;
  // The visitor's segment indices.
  absl::Span<const int> segments;
  // How many offers to return, 1 to kMaxRequestedOffers.
  int requested = 1;
  // The current time, milliseconds since the Unix epoch; rule and offer
  // date windows are [effective, expiration).
  int64_t now_millis = 0;
  // Values for the channel's rule_schema(), NOW() included; eligibility and
  // score expressions read them. Required.
  const expression::Bindings* bindings = nullptr;
  // The session's state per offer index; offers past the end are fresh.
  absl::Span<const OfferState> offer_states;
  // Offer indices never to return (e.g. already given to another
  // interaction point of the same call with NO_DUPLICATION).
  absl::Span<const int> excluded_offers;
  // Skips the channel's suppression settings (classic
  // UACIIgnoreSuppressionRules); excluded_offers still apply.
  bool ignore_suppression = false;
  // Seeds the random tie-break so a call's order is reproducible, e.g. a
  // hash of the session ID and the call counter.
  uint64_t tie_break_seed = 0;
};

// One offer chosen, best first.
struct RankedOffer {
  // Offer index.
  int offer = -1;
  // The best score any applicable rule gave it.
  double score = 0;
  // The index of the rule that gave that score.
  int rule = -1;
};

// The work one arbitration did, to observe its cost.
struct ArbitrationStats {
  // Rules looked at (those indexed for the segments and zone).
  int rules_considered = 0;
  // Eligibility and score expressions evaluated.
  int expressions_evaluated = 0;
};

// Chooses up to input.requested offers for the visitor and writes them to
// `out` (cleared first), best score first. `scratch` is reused across calls
// so that, once warmed up on a channel, arbitration does not allocate.
// `stats` may be null. InvalidArgument for a bad zone, segment or offer
// index, a requested count out of range or missing bindings.
absl::Status Arbitrate(const channel::CompiledChannel& channel,
                       const ArbitrationInput& input, ArbiterScratch& scratch,
                       std::vector<RankedOffer>* out,
                       ArbitrationStats* stats = nullptr);

}  // namespace parley::arbiter

#endif  // PARLEY_SERVICES_RUNTIME_ARBITER_ARBITER_H_
