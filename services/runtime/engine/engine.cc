#include "services/runtime/engine/engine.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/audience_id.h"
#include "services/runtime/engine/debug_log.h"
#include "services/runtime/engine/engine_internal.h"
#include "services/runtime/engine/profile_apply.h"
#include "services/runtime/engine/segmenter.h"
#include "services/runtime/engine/visitor_values.h"

namespace parley::engine {

SessionEngine::SessionEngine(session::SessionStore* store, Clock clock,
                             ProfileLookup profiles, HistorySink history)
    : store_(store),
      clock_(std::move(clock)),
      profiles_(std::move(profiles)),
      history_(std::move(history)) {}

void SessionEngine::SetChannel(
    absl::string_view name,
    std::shared_ptr<const channel::CompiledChannel> channel, uint64_t version) {
  channels_.Set(name, std::move(channel), version);
}

void SessionEngine::RemoveChannel(absl::string_view name) {
  channels_.Remove(name);
}

absl::Time SessionEngine::Now() const { return absl::FromUnixMillis(clock_()); }

absl::StatusOr<v1::StartSessionResponse> SessionEngine::StartSession(
    const v1::StartSessionRequest& request) {
  if (absl::Status s = internal::CheckSessionId(request.session_id());
      !s.ok()) {
    return s;
  }
  v1::StartSessionResponse response;
  response.set_session_id(request.session_id());
  const absl::Time now = Now();
  const int64_t now_millis = absl::ToUnixMillis(now);

  const ActiveChannel active = channels_.Find(request.interactive_channel());
  if (active.channel == nullptr) {
    AddAdvisory(response, v1::INVALID_INTERACTIVE_CHANNEL, v1::ERROR,
                "unknown interactive channel", request.interactive_channel());
    return response;
  }
  const channel::CompiledChannel& channel = *active.channel;
  const int level_index = channel.FindAudienceLevel(request.audience_level());
  if (level_index < 0) {
    AddAdvisory(response, v1::INVALID_AUDIENCE_LEVEL, v1::ERROR,
                "unknown audience level", request.audience_level());
    return response;
  }
  const channel::CompiledAudienceLevel& level =
      channel.audience_levels()[level_index];

  v1::SessionState state;
  const absl::Status id_status = NormalizeAudienceId(
      level, request.audience_id(), state.mutable_audience_id());
  if (!id_status.ok()) {
    AddAdvisory(response, v1::INVALID_PARAMETER, v1::ERROR,
                "invalid audience ID", id_status.message());
    return response;
  }

  if (request.rely_on_existing_session()) {
    const absl::StatusOr<v1::SessionState> existing =
        store_->Get(request.session_id(), now);
    if (existing.ok()) return response;
    if (!absl::IsNotFound(existing.status())) return existing.status();
  }

  ProfileResult profile = absl::optional<std::vector<v1::NameValue>>();
  if (profiles_) profile = profiles_(level.name, state.audience_id());
  if (!ApplyProfile(std::move(profile), state.audience_id(), response, state)) {
    return response;
  }

  state.set_session_id(request.session_id());
  state.set_interactive_channel(channel.name());
  state.set_deployment_version(active.version);
  state.set_audience_level(level.name);
  state.set_debug(request.debug());
  SetTimestampMillis(now_millis, state.mutable_start_time());
  SetTimestampMillis(now_millis, state.mutable_last_access_time());

  std::vector<v1::NameValue> transient;
  const absl::Status applied =
      ApplyChannelParameters(channel, state, request.parameters(), &transient);
  if (!applied.ok()) {
    AddAdvisory(response, v1::INVALID_PARAMETER, v1::ERROR, "invalid parameter",
                applied.message());
    return response;
  }
  SegmentForCall(channel, level_index, {}, transient, now_millis, state,
                 response);
  const bool debug = state.debug() && DebugLogOn();
  const std::string debug_segments = debug ? DebugSegments(state) : "";
  const absl::StatusOr<uint64_t> created =
      store_->Create(std::move(state), /*replace_existing=*/true, now);
  if (!created.ok()) return created.status();
  if (debug) LogDebugCall(request.session_id(), debug_segments, response);
  return response;
}

absl::StatusOr<v1::EndSessionResponse> SessionEngine::EndSession(
    const v1::EndSessionRequest& request) {
  if (absl::Status s = internal::CheckSessionId(request.session_id());
      !s.ok()) {
    return s;
  }
  v1::EndSessionResponse response;
  response.set_session_id(request.session_id());
  const absl::StatusOr<v1::SessionState> removed =
      store_->Remove(request.session_id(), Now());
  if (absl::IsNotFound(removed.status())) {
    AddAdvisory(response, v1::INVALID_SESSION_ID, v1::ERROR, "unknown session",
                request.session_id());
    return response;
  }
  if (!removed.ok()) return removed.status();
  return response;
}

}  // namespace parley::engine
