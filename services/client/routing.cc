#include "services/client/routing.h"

namespace parley::client {
namespace {

Routing Session(const std::string& session_id, bool repeatable) {
  Routing routing;
  routing.session_id = session_id;
  routing.repeatable = repeatable;
  return routing;
}

Routing AnyServer() {
  Routing routing;
  routing.any_server = true;
  routing.repeatable = true;
  return routing;
}

// A command's session, and whether repeating it is harmless.
Routing CommandRouting(const v1::BatchCommand& command) {
  switch (command.command_case()) {
    case v1::BatchCommand::kStartSession:
      return RoutingOf(command.start_session());
    case v1::BatchCommand::kGetOffers:
      return RoutingOf(command.get_offers());
    case v1::BatchCommand::kGetOffersForMultipleInteractionPoints:
      return RoutingOf(command.get_offers_for_multiple_interaction_points());
    case v1::BatchCommand::kPostEvent:
      return RoutingOf(command.post_event());
    case v1::BatchCommand::kSetAudience:
      return RoutingOf(command.set_audience());
    case v1::BatchCommand::kGetProfile:
      return RoutingOf(command.get_profile());
    case v1::BatchCommand::kEndSession:
      return RoutingOf(command.end_session());
    case v1::BatchCommand::kSetDebug:
      return RoutingOf(command.set_debug());
    case v1::BatchCommand::kGetVersion:
      return RoutingOf(command.get_version());
    default:
      // Answered with an advisory; changes nothing.
      return AnyServer();
  }
}

}  // namespace

// Every call that changes a session is sent again only when it did not get
// an answer because the server was unavailable (see runtime_client.h).
Routing RoutingOf(const v1::StartSessionRequest& request) {
  return Session(request.session_id(), false);
}
Routing RoutingOf(const v1::GetOffersRequest& request) {
  return Session(request.session_id(), false);
}
Routing RoutingOf(
    const v1::GetOffersForMultipleInteractionPointsRequest& request) {
  return Session(request.session_id(), false);
}
Routing RoutingOf(const v1::PostEventRequest& request) {
  return Session(request.session_id(), false);
}
Routing RoutingOf(const v1::SetAudienceRequest& request) {
  return Session(request.session_id(), false);
}
Routing RoutingOf(const v1::GetProfileRequest& request) {
  return Session(request.session_id(), true);
}
Routing RoutingOf(const v1::EndSessionRequest& request) {
  return Session(request.session_id(), false);
}
Routing RoutingOf(const v1::SetDebugRequest& request) {
  return Session(request.session_id(), true);
}
Routing RoutingOf(const v1::GetVersionRequest&) { return AnyServer(); }
Routing RoutingOf(const v1::TestRunRequest&) { return AnyServer(); }

Routing RoutingOf(const v1::ExecuteBatchRequest& request) {
  Routing routing = Session(request.session_id(), true);
  for (const v1::BatchCommand& command : request.commands()) {
    Routing part = CommandRouting(command);
    if (routing.session_id.empty()) routing.session_id = part.session_id;
    routing.repeatable = routing.repeatable && part.repeatable;
  }
  // No session named (e.g. only GetVersion): any server answers.
  routing.any_server = routing.session_id.empty();
  return routing;
}

}  // namespace parley::client
