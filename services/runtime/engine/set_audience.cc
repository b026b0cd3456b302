// SessionEngine::SetAudience.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/audience_id.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/engine_internal.h"
#include "services/runtime/engine/profile_apply.h"
#include "services/runtime/engine/segmenter.h"
#include "services/runtime/engine/visitor_values.h"

namespace parley::engine {
namespace {

// A profile as looked up for one audience (level name and audience ID).
struct LoadedProfile {
  std::string audience;
  ProfileResult profile;
};

}  // namespace

absl::StatusOr<v1::SetAudienceResponse> SessionEngine::SetAudience(
    const v1::SetAudienceRequest& request) {
  if (absl::Status s = internal::CheckSessionId(request.session_id());
      !s.ok()) {
    return s;
  }
  // Looked up once for all write attempts, unless a redeploy between them
  // changes the audience.
  absl::optional<LoadedProfile> loaded;
  return ChangeSession<v1::SetAudienceResponse>(
      request.session_id(), [](v1::SetAudienceResponse&) {},
      [&](LiveSession& live, v1::SetAudienceResponse& response,
          absl::Time now) -> absl::StatusOr<bool> {
        const channel::CompiledChannel& channel = *live.channel.channel;
        const int level_index =
            channel.FindAudienceLevel(request.audience_level());
        if (level_index < 0) {
          AddAdvisory(response, v1::INVALID_AUDIENCE_LEVEL, v1::ERROR,
                      "unknown audience level", request.audience_level());
          return false;
        }
        const channel::CompiledAudienceLevel& level =
            channel.audience_levels()[level_index];
        google::protobuf::RepeatedPtrField<v1::NameValue> audience_id;
        const absl::Status id_status =
            NormalizeAudienceId(level, request.audience_id(), &audience_id);
        if (!id_status.ok()) {
          AddAdvisory(response, v1::INVALID_PARAMETER, v1::ERROR,
                      "invalid audience ID", id_status.message());
          return false;
        }
        v1::SessionState& state = live.state;
        std::vector<v1::NameValue> transient;
        const absl::Status applied = ApplyChannelParameters(
            channel, state, request.parameters(), &transient);
        if (!applied.ok()) {
          AddAdvisory(response, v1::INVALID_PARAMETER, v1::ERROR,
                      "invalid parameter", applied.message());
          return false;
        }

        std::string audience =
            absl::StrCat(level.name, "\n", AudienceIdText(audience_id));
        if (!loaded.has_value() || loaded->audience != audience) {
          ProfileResult profile = absl::optional<std::vector<v1::NameValue>>();
          if (profiles_) profile = profiles_(level.name, audience_id);
          loaded = LoadedProfile{std::move(audience), std::move(profile)};
        }
        if (!ApplyProfile(loaded->profile, audience_id, response, state)) {
          return false;
        }
        state.set_audience_level(level.name);
        *state.mutable_audience_id() = std::move(audience_id);
        state.set_deployment_version(live.channel.version);
        // Another visitor (or level): nothing of the old segmentation holds.
        state.clear_segments();
        state.clear_flowchart_segments();
        state.set_segmentation_status(v1::SEGMENTATION_STATUS_UNSPECIFIED);

        SegmentForCall(channel, level_index, {}, transient,
                       absl::ToUnixMillis(now), state, response);
        return true;
      });
}

}  // namespace parley::engine
