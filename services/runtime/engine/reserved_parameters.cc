#include "services/runtime/engine/reserved_parameters.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace parley::engine {

const v1::NameValue* FindParameter(const v1::SessionState& state,
                                   const std::vector<v1::NameValue>& transient,
                                   absl::string_view name) {
  for (const v1::NameValue& parameter : transient) {
    if (absl::EqualsIgnoreCase(parameter.name(), name)) return &parameter;
  }
  for (const v1::NameValue& parameter : state.parameters()) {
    if (absl::EqualsIgnoreCase(parameter.name(), name)) return &parameter;
  }
  return nullptr;
}

bool IgnoresSuppression(const v1::SessionState& state,
                        const std::vector<v1::NameValue>& transient) {
  const v1::NameValue* value =
      FindParameter(state, transient, kIgnoreSuppressionParameter);
  if (value == nullptr) return false;
  switch (value->value_case()) {
    case v1::NameValue::kNumberValue:
      return value->number_value() == 1;
    case v1::NameValue::kStringValue: {
      const absl::string_view text =
          absl::StripAsciiWhitespace(value->string_value());
      return text == "1" || absl::EqualsIgnoreCase(text, "true") ||
             absl::EqualsIgnoreCase(text, "yes");
    }
    default:
      return false;
  }
}

absl::optional<std::vector<int>> FlowchartsByName(
    const channel::CompiledChannel& channel, int audience_level,
    const v1::SessionState& state, const std::vector<v1::NameValue>& transient,
    std::vector<std::string>* problems) {
  const v1::NameValue* value =
      FindParameter(state, transient, kExecuteFlowchartByNameParameter);
  if (value == nullptr) return absl::nullopt;
  if (value->value_case() != v1::NameValue::kStringValue) {
    if (problems != nullptr) {
      problems->push_back(
          absl::StrCat(value->name(),
                       " must be a string_value of flowchart names "
                       "separated by '|'"));
    }
    return absl::nullopt;
  }
  const channel::CompiledAudienceLevel& level =
      channel.audience_levels()[audience_level];
  const std::vector<int>& level_flowcharts = level.flowcharts;
  std::vector<bool> named(level_flowcharts.size(), false);
  for (absl::string_view name :
       absl::StrSplit(value->string_value(), absl::ByAnyChar("|,"))) {
    name = absl::StripAsciiWhitespace(name);
    if (name.empty()) continue;
    bool found = false;
    for (size_t i = 0; i < level_flowcharts.size(); ++i) {
      if (absl::EqualsIgnoreCase(channel.flowcharts()[level_flowcharts[i]].name,
                                 name)) {
        named[i] = found = true;
      }
    }
    if (!found && problems != nullptr) {
      problems->push_back(absl::StrCat(
          "'", name, "' is no flowchart of audience level '", level.name, "'"));
    }
  }
  std::vector<int> flowcharts;
  for (size_t i = 0; i < level_flowcharts.size(); ++i) {
    if (named[i]) flowcharts.push_back(level_flowcharts[i]);
  }
  if (flowcharts.empty()) return absl::nullopt;
  return flowcharts;
}

}  // namespace parley::engine
