#include "services/runtime/engine/offer_chooser.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/hash/hash.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/offer_output.h"
#include "services/runtime/engine/reserved_parameters.h"
#include "services/runtime/engine/visitor_values.h"

namespace parley::engine::internal {

OfferChooser::OfferChooser(const channel::CompiledChannel& channel,
                           v1::SessionState& state,
                           const std::vector<v1::NameValue>& transient,
                           int64_t now_millis)
    : channel_(channel),
      state_(state),
      transient_(transient),
      now_millis_(now_millis),
      offer_states_(channel.offers().size()),
      ignore_suppression_(IgnoresSuppression(state, transient)) {
  for (const std::string& name : state.segments()) {
    const int segment = channel.FindSegment(name);
    if (segment >= 0) segments_.push_back(segment);
  }
  for (const auto& [name, history] : state.offers()) {
    const int offer = channel.FindOffer(name);
    if (offer < 0) continue;
    offer_states_[offer].presentations = history.presentations();
    offer_states_[offer].accepted = history.accepted();
    offer_states_[offer].rejected = history.rejected();
  }
  // The previous call's offers stay valid for events, up to a bound.
  auto* earlier = state.mutable_earlier_presentations();
  for (v1::Presentation& presentation : *state.mutable_last_recommended()) {
    earlier->Add(std::move(presentation));
  }
  if (earlier->size() > kMaxEarlierPresentations) {
    earlier->DeleteSubrange(0, earlier->size() - kMaxEarlierPresentations);
  }
  state.clear_last_recommended();
}

absl::Status OfferChooser::Choose(int ip_index, uint32_t requested,
                                  absl::Span<const int> excluded,
                                  session::TreatmentCodeGenerator& codes,
                                  v1::OfferList& list,
                                  std::vector<int>* chosen) {
  const channel::CompiledInteractionPoint& ip =
      channel_.interaction_points()[ip_index];
  list.set_interaction_point(ip.name);
  state_.set_sequence(state_.sequence() + 1);

  ranked_.clear();
  if (ip.zone >= 0) {
    if (!bindings_.has_value()) {
      bindings_.emplace(channel_.rule_schema());
      FillBindings(channel_.rule_schema(), state_, transient_, now_millis_,
                   *bindings_);
    }
    arbiter::ArbitrationInput input;
    input.zone = ip.zone;
    input.segments = segments_;
    input.requested = std::clamp(static_cast<int>(std::min<uint32_t>(
                                     requested, arbiter::kMaxRequestedOffers)),
                                 1, arbiter::kMaxRequestedOffers);
    input.now_millis = now_millis_;
    input.bindings = &*bindings_;
    input.offer_states = offer_states_;
    input.excluded_offers = excluded;
    input.ignore_suppression = ignore_suppression_;
    input.tie_break_seed = absl::Hash<std::pair<std::string, uint64_t>>()(
        {state_.session_id(), state_.sequence()});
    if (absl::Status s =
            arbiter::Arbitrate(channel_, input, scratch_, &ranked_);
        !s.ok()) {
      return s;
    }
  }

  for (const arbiter::RankedOffer& choice : ranked_) {
    const channel::CompiledOffer& offer = channel_.offers()[choice.offer];
    const std::string code = codes.Next();
    v1::Presentation* presentation = state_.add_last_recommended();
    presentation->set_treatment_code(code);
    presentation->set_offer(offer.name);
    presentation->set_interaction_point(ip.name);
    presentation->set_score(choice.score);
    SetTimestampMillis(now_millis_, presentation->mutable_presented_at());
    v1::OfferHistory& history = (*state_.mutable_offers())[offer.name];
    history.set_presentations(history.presentations() + 1);
    ++offer_states_[choice.offer].presentations;
    FillOffer(offer, code, choice.score, list.add_offers());
    if (chosen != nullptr) chosen->push_back(choice.offer);
  }
  if (list.offers().empty()) list.set_default_string(ip.default_string);
  return absl::OkStatus();
}

}  // namespace parley::engine::internal
