// SessionEngine::GetOffers.
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/engine_internal.h"
#include "services/runtime/engine/offer_chooser.h"
#include "services/runtime/engine/visitor_values.h"
#include "services/runtime/session/await.h"

namespace parley::engine {

absl::StatusOr<v1::GetOffersResponse> SessionEngine::GetOffers(
    const v1::GetOffersRequest& request) {
  return session::Await<absl::StatusOr<v1::GetOffersResponse>>(
      [&](Completion<v1::GetOffersResponse> done) {
        GetOffersAsync(request, std::move(done));
      });
}

void SessionEngine::GetOffersAsync(const v1::GetOffersRequest& request,
                                   Completion<v1::GetOffersResponse> done) {
  if (absl::Status s = internal::CheckSessionId(request.session_id());
      !s.ok()) {
    return done(s);
  }
  ChangeSessionAsync<v1::GetOffersResponse>(
      request.session_id(),
      [&](v1::GetOffersResponse& response) {
        response.mutable_offer_list()->set_interaction_point(
            request.interaction_point());
      },
      [&](LiveSession& live, v1::GetOffersResponse& response,
          absl::Time now) -> absl::StatusOr<bool> {
        const channel::CompiledChannel& channel = *live.channel.channel;
        const int ip =
            channel.FindInteractionPoint(request.interaction_point());
        if (ip < 0) {
          AddAdvisory(response, v1::INVALID_INTERACTION_POINT, v1::ERROR,
                      "unknown interaction point", request.interaction_point());
          return false;
        }
        std::vector<v1::NameValue> transient;
        const absl::Status applied = ApplyChannelParameters(
            channel, live.state, request.parameters(), &transient);
        if (!applied.ok()) {
          AddAdvisory(response, v1::INVALID_PARAMETER, v1::ERROR,
                      "invalid parameter", applied.message());
          return false;
        }
        internal::OfferChooser chooser(channel, live.state, transient,
                                       absl::ToUnixMillis(now));
        if (absl::Status s = chooser.Choose(ip, request.number_requested(), {},
                                            treatment_codes_,
                                            *response.mutable_offer_list());
            !s.ok()) {
          return s;
        }
        return true;
      },
      /*written=*/nullptr, std::move(done));
}

}  // namespace parley::engine
