// SessionEngine::GetProfile and SetDebug: reading and flagging a session.
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/engine_internal.h"

namespace parley::engine {

absl::StatusOr<v1::GetProfileResponse> SessionEngine::GetProfile(
    const v1::GetProfileRequest& request) {
  if (absl::Status s = internal::CheckSessionId(request.session_id());
      !s.ok()) {
    return s;
  }
  v1::GetProfileResponse response;
  response.set_session_id(request.session_id());
  absl::optional<LiveSession> live;
  if (absl::Status s = LoadLiveSession(
          request.session_id(), store_->GetLatest(request.session_id(), Now()),
          response, &live);
      !s.ok()) {
    return s;
  }
  if (!live.has_value()) return response;
  for (const v1::NameValue& attribute : live->state.profile()) {
    *response.add_profile() = attribute;
  }
  for (const v1::NameValue& parameter : live->state.parameters()) {
    *response.add_profile() = parameter;
  }
  return response;
}

absl::StatusOr<v1::SetDebugResponse> SessionEngine::SetDebug(
    const v1::SetDebugRequest& request) {
  if (absl::Status s = internal::CheckSessionId(request.session_id());
      !s.ok()) {
    return s;
  }
  return ChangeSession<v1::SetDebugResponse>(
      request.session_id(), [](v1::SetDebugResponse&) {},
      [&](LiveSession& live, v1::SetDebugResponse&,
          absl::Time) -> absl::StatusOr<bool> {
        live.state.set_debug(request.debug());
        return true;
      });
}

}  // namespace parley::engine
