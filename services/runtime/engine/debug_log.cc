#include "services/runtime/engine/debug_log.h"

#include <string>

#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace parley::engine {

bool DebugLogOn() { return spdlog::should_log(spdlog::level::info); }

void LogDebugCall(absl::string_view session_id, const v1::SessionState& state,
                  const google::protobuf::Message& response) {
  const std::string segments = absl::StrJoin(state.segments(), ",");
  const std::string text = response.ShortDebugString();
  spdlog::info("debug session '{}': {} segments=[{}] {}",
               std::string(session_id), response.GetDescriptor()->name(),
               segments, text);
}

}  // namespace parley::engine
