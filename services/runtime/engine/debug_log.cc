#include "services/runtime/engine/debug_log.h"

#include <string>

#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace parley::engine {

bool DebugLogOn() { return spdlog::should_log(spdlog::level::info); }

std::string DebugSegments(const v1::SessionState& state) {
  return absl::StrJoin(state.segments(), ",");
}

void LogDebugCall(absl::string_view session_id, absl::string_view segments,
                  const google::protobuf::Message& response) {
  spdlog::info("debug session '{}': {} segments=[{}] {}",
               std::string(session_id), response.GetDescriptor()->name(),
               std::string(segments), response.ShortDebugString());
}

}  // namespace parley::engine
