#ifndef PARLEY_SERVICES_CLIENT_ROUTING_H_
#define PARLEY_SERVICES_CLIENT_ROUTING_H_

#include <string>

#include "proto/parley/v1/runtime.pb.h"

namespace parley::client {

// Where a call goes and whether it may be sent again after a deadline.
struct Routing {
  // The session whose server the call goes to; empty with `any_server`.
  std::string session_id;
  // Any server may serve the call (it names no session).
  bool any_server = false;
  // Repeating the call changes nothing (it reads, or sets a value to what
  // it already is), so it is safe to send again even when the first try may
  // still be running on a server that missed its deadline.
  bool repeatable = false;
};

// The routing of each InteractRuntime call.
Routing RoutingOf(const v1::StartSessionRequest& request);
Routing RoutingOf(const v1::GetOffersRequest& request);
Routing RoutingOf(
    const v1::GetOffersForMultipleInteractionPointsRequest& request);
Routing RoutingOf(const v1::PostEventRequest& request);
Routing RoutingOf(const v1::SetAudienceRequest& request);
Routing RoutingOf(const v1::GetProfileRequest& request);
Routing RoutingOf(const v1::EndSessionRequest& request);
Routing RoutingOf(const v1::SetDebugRequest& request);
Routing RoutingOf(const v1::GetVersionRequest& request);
// By the batch's session_id, else the first command naming one (any server
// when none does); repeatable when every command is.
Routing RoutingOf(const v1::ExecuteBatchRequest& request);
Routing RoutingOf(const v1::TestRunRequest& request);

}  // namespace parley::client

#endif  // PARLEY_SERVICES_CLIENT_ROUTING_H_
