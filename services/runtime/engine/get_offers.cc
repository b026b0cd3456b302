// SessionEngine::GetOffers.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/runtime/arbiter/arbiter.h"
#include "services/runtime/arbiter/arbiter_scratch.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/engine_internal.h"
#include "services/runtime/engine/offer_output.h"
#include "services/runtime/engine/visitor_values.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/session/parameters.h"

namespace parley::engine {

absl::StatusOr<v1::GetOffersResponse> SessionEngine::GetOffers(
    const v1::GetOffersRequest& request) {
  for (int attempt = 1;; ++attempt) {
    v1::GetOffersResponse response;
    response.set_session_id(request.session_id());
    response.mutable_offer_list()->set_interaction_point(
        request.interaction_point());
    const absl::Time now = Now();
    const int64_t now_millis = absl::ToUnixMillis(now);

    absl::optional<LiveSession> live;
    if (absl::Status s =
            LoadLiveSession(request.session_id(), now, response, &live);
        !s.ok()) {
      return s;
    }
    if (!live.has_value()) return response;
    v1::SessionState* state = &live->state;
    const ActiveChannel& active = live->channel;
    const channel::CompiledChannel& channel = *active.channel;
    const int ip_index =
        channel.FindInteractionPoint(request.interaction_point());
    if (ip_index < 0) {
      AddAdvisory(response, v1::INVALID_INTERACTION_POINT, v1::ERROR,
                  "unknown interaction point", request.interaction_point());
      return response;
    }
    const channel::CompiledInteractionPoint& ip =
        channel.interaction_points()[ip_index];
    response.mutable_offer_list()->set_interaction_point(ip.name);

    std::vector<v1::NameValue> transient;
    const absl::Status applied =
        session::ApplyParameters(*state, request.parameters(), &transient);
    if (!applied.ok()) {
      AddAdvisory(response, v1::INVALID_PARAMETER, v1::ERROR,
                  "invalid parameter", applied.message());
      return response;
    }

    std::vector<int> segments;
    for (const std::string& name : state->segments()) {
      const int segment = channel.FindSegment(name);
      if (segment >= 0) segments.push_back(segment);
    }
    std::vector<arbiter::OfferState> offer_states(channel.offers().size());
    for (const auto& [name, history] : state->offers()) {
      const int offer = channel.FindOffer(name);
      if (offer < 0) continue;
      offer_states[offer].presentations = history.presentations();
      offer_states[offer].accepted = history.accepted();
      offer_states[offer].rejected = history.rejected();
    }
    state->set_sequence(state->sequence() + 1);

    std::vector<arbiter::RankedOffer> ranked;
    if (ip.zone >= 0) {
      expression::Bindings bindings(channel.rule_schema());
      FillBindings(channel.rule_schema(), *state, transient, now_millis,
                   bindings);
      arbiter::ArbitrationInput input;
      input.zone = ip.zone;
      input.segments = segments;
      input.requested = std::clamp(
          static_cast<int>(std::min<uint32_t>(request.number_requested(),
                                              arbiter::kMaxRequestedOffers)),
          1, arbiter::kMaxRequestedOffers);
      input.now_millis = now_millis;
      input.bindings = &bindings;
      input.offer_states = offer_states;
      input.tie_break_seed = absl::Hash<std::pair<std::string, uint64_t>>()(
          {state->session_id(), state->sequence()});
      arbiter::ArbiterScratch scratch;
      const absl::Status arbitrated =
          arbiter::Arbitrate(channel, input, scratch, &ranked);
      if (!arbitrated.ok()) return arbitrated;
    }

    v1::OfferList& list = *response.mutable_offer_list();
    state->clear_last_recommended();
    for (const arbiter::RankedOffer& choice : ranked) {
      const channel::CompiledOffer& offer = channel.offers()[choice.offer];
      const std::string code = treatment_codes_.Next();
      v1::Presentation* presentation = state->add_last_recommended();
      presentation->set_treatment_code(code);
      presentation->set_offer(offer.name);
      presentation->set_interaction_point(ip.name);
      presentation->set_score(choice.score);
      SetTimestampMillis(now_millis, presentation->mutable_presented_at());
      v1::OfferHistory& history = (*state->mutable_offers())[offer.name];
      history.set_presentations(history.presentations() + 1);
      FillOffer(offer, code, choice.score, list.add_offers());
    }
    if (list.offers().empty()) list.set_default_string(ip.default_string);

    const absl::StatusOr<uint64_t> written =
        store_->Update(*std::move(state), now);
    if (absl::IsAborted(written.status()) &&
        attempt < internal::kMaxWriteAttempts) {
      continue;
    }
    if (absl::IsNotFound(written.status())) {
      response.clear_offer_list();
      AddAdvisory(response, v1::INVALID_SESSION_ID, v1::ERROR,
                  "session ended during the call", request.session_id());
      return response;
    }
    if (!written.ok()) return written.status();
    return response;
  }
}

}  // namespace parley::engine
