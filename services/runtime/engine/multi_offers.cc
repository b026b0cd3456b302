// SessionEngine::GetOffersForMultipleInteractionPoints.
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/engine_internal.h"
#include "services/runtime/engine/offer_chooser.h"
#include "services/runtime/engine/offer_filter.h"
#include "services/runtime/engine/visitor_values.h"
#include "services/runtime/session/await.h"

namespace parley::engine {
namespace {

using Request = v1::GetOffersForMultipleInteractionPointsRequest;
using Response = v1::GetOffersForMultipleInteractionPointsResponse;

// Looks up every request's interaction point into `ips` and checks the
// filters; reports each problem in `response`. Whether all are fine.
bool ResolveRequests(const channel::CompiledChannel& channel,
                     const Request& request, Response& response,
                     std::vector<int>& ips) {
  bool ok = true;
  ips.clear();
  for (const v1::InteractionPointRequest& ip_request : request.requests()) {
    const int ip = channel.FindInteractionPoint(ip_request.interaction_point());
    if (ip < 0) {
      AddAdvisory(response, v1::INVALID_INTERACTION_POINT, v1::ERROR,
                  "unknown interaction point", ip_request.interaction_point());
      ok = false;
    }
    const absl::Status filter =
        CheckOfferFilter(ip_request.offer_attribute_filter());
    if (!filter.ok()) {
      AddAdvisory(
          response, v1::INVALID_PARAMETER, v1::ERROR,
          "invalid offer attribute filter",
          absl::StrCat(ip_request.interaction_point(), ": ", filter.message()));
      ok = false;
    }
    ips.push_back(ip);
  }
  return ok;
}

}  // namespace

absl::StatusOr<Response> SessionEngine::GetOffersForMultipleInteractionPoints(
    const Request& request) {
  return session::Await<absl::StatusOr<Response>>(
      [&](Completion<Response> done) {
        GetOffersForMultipleInteractionPointsAsync(request, std::move(done));
      });
}

void SessionEngine::GetOffersForMultipleInteractionPointsAsync(
    const Request& request, Completion<Response> done) {
  if (absl::Status s = internal::CheckSessionId(request.session_id());
      !s.ok()) {
    return done(s);
  }
  if (request.requests_size() > kMaxInteractionPointsPerCall) {
    return done(absl::InvalidArgumentError(absl::StrCat(
        "at most ", kMaxInteractionPointsPerCall,
        " interaction points per call, got ", request.requests_size())));
  }
  ChangeSessionAsync<Response>(
      request.session_id(), [](Response&) {},
      [&](LiveSession& live, Response& response,
          absl::Time now) -> absl::StatusOr<bool> {
        const channel::CompiledChannel& channel = *live.channel.channel;
        std::vector<int> ips;
        if (!ResolveRequests(channel, request, response, ips)) return false;
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
        // Offers already given by this call, then (per request) the offers
        // its filter leaves out.
        std::vector<int> given;
        std::vector<int> excluded;
        for (int i = 0; i < request.requests_size(); ++i) {
          const v1::InteractionPointRequest& ip_request = request.requests(i);
          excluded.clear();
          if (ip_request.duplication_policy() == v1::NO_DUPLICATION) {
            excluded = given;
          }
          if (!ip_request.offer_attribute_filter().empty()) {
            for (int offer = 0;
                 offer < static_cast<int>(channel.offers().size()); ++offer) {
              if (!MatchesOfferFilter(channel.offers()[offer],
                                      ip_request.offer_attribute_filter())) {
                excluded.push_back(offer);
              }
            }
          }
          if (absl::Status s = chooser.Choose(
                  ips[i], ip_request.number_requested(), excluded,
                  treatment_codes_, *response.add_offer_lists(), &given);
              !s.ok()) {
            return s;
          }
        }
        return true;
      },
      /*written=*/nullptr, std::move(done));
}

}  // namespace parley::engine
