#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_RESERVED_PARAMETERS_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_RESERVED_PARAMETERS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/channel/compiled_channel.h"

namespace parley::engine {

// Session parameters with a meaning of their own (as in the classic
// runtime). Each is read from the call's transient parameters first, then
// the session's persistent ones, names ignoring case.

// Skips the channel's suppression rules for GetOffers calls while set to a
// true value: the number 1, or the string "1", "true" or "yes".
inline constexpr absl::string_view kIgnoreSuppressionParameter =
    "UACIIgnoreSuppressionRules";
// Names the flowcharts StartSession, SetAudience and re-segmenting events
// run, separated by '|' (or ','), instead of every flowchart of the level
// (or the event's own list); ignored when it names none of the level's.
inline constexpr absl::string_view kExecuteFlowchartByNameParameter =
    "UACIExecuteFlowchartByName";

// The value of parameter `name`: from `transient`, else from the session's
// persistent parameters; null when neither has it.
const v1::NameValue* FindParameter(const v1::SessionState& state,
                                   const std::vector<v1::NameValue>& transient,
                                   absl::string_view name);

// Whether UACIIgnoreSuppressionRules is set to a true value.
bool IgnoresSuppression(const v1::SessionState& state,
                        const std::vector<v1::NameValue>& transient);

// The flowcharts UACIExecuteFlowchartByName names, as indices of
// `audience_level`'s flowcharts in the level's order; nullopt when the
// parameter is absent, not a string or names none of them. Each problem (a name
// that is no flowchart of the level, a value that is not a string) is appended
// to `problems` (when not null) as a sentence naming it.
absl::optional<std::vector<int>> FlowchartsByName(
    const channel::CompiledChannel& channel, int audience_level,
    const v1::SessionState& state, const std::vector<v1::NameValue>& transient,
    std::vector<std::string>* problems);

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_RESERVED_PARAMETERS_H_
