#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_DEBUG_LOG_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_DEBUG_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "proto/parley/v1/session_state.pb.h"

namespace parley::engine {

// Whether the process's default logger writes info records, which debug
// sessions' calls are (so that nothing is prepared for them otherwise).
bool DebugLogOn();

// The session's segments as the debug log shows them ("Gold,Mobile").
std::string DebugSegments(const v1::SessionState& state);

// Logs (info level, the process's default logger) one call of a session
// whose debug flag is set (StartSession's `debug`, SetDebug): the session,
// its segments after the call (DebugSegments) and the whole response, e.g.
// the offers with their scores and treatment codes, and every advisory.
void LogDebugCall(absl::string_view session_id, absl::string_view segments,
                  const google::protobuf::Message& response);

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_DEBUG_LOG_H_
