#include "services/runtime/session/parameters.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace parley::session {
namespace {

using ::parley::v1::NameValue;

absl::Status Validate(
    const google::protobuf::RepeatedPtrField<NameValue>& params) {
  // Lower-cased name -> index of its first occurrence.
  absl::flat_hash_map<std::string, int> seen;
  for (int i = 0; i < params.size(); ++i) {
    const NameValue& param = params[i];
    if (param.name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameters[", i, "]: empty name"));
    }
    if (param.value_case() == NameValue::VALUE_NOT_SET) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameters[", i, "] (", param.name(), "): value not set"));
    }
    auto [it, inserted] = seen.emplace(absl::AsciiStrToLower(param.name()), i);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameters[", i, "] (", param.name(),
                       "): duplicate of parameters[", it->second, "]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyParameters(
    parley::v1::SessionState& state,
    const google::protobuf::RepeatedPtrField<NameValue>& params,
    std::vector<NameValue>* transient_out) {
  if (absl::Status status = Validate(params); !status.ok()) return status;
  if (transient_out != nullptr) transient_out->clear();

  // Lower-cased name -> index in the session's parameters.
  absl::flat_hash_map<std::string, int> existing;
  for (int i = 0; i < state.parameters_size(); ++i) {
    existing.emplace(absl::AsciiStrToLower(state.parameters(i).name()), i);
  }
  for (const NameValue& param : params) {
    if (param.transient()) {
      if (transient_out != nullptr) transient_out->push_back(param);
      continue;
    }
    const std::string key = absl::AsciiStrToLower(param.name());
    auto it = existing.find(key);
    NameValue* target;
    if (it == existing.end()) {
      existing.emplace(key, state.parameters_size());
      target = state.add_parameters();
    } else {
      target = state.mutable_parameters(it->second);
    }
    *target = param;
  }
  return absl::OkStatus();
}

}  // namespace parley::session
