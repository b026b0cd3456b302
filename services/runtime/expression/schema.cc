#include "services/runtime/expression/schema.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/expression/lexer.h"

namespace parley::expression {

absl::StatusOr<int> Schema::AddVariable(absl::string_view name, Type type) {
  if (!internal::IsIdentifier(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "variable name '", name,
        "' must start with a letter or '_' and contain only letters, digits, "
        "'_' and '.'"));
  }
  if (internal::IsKeyword(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "variable name '", name, "' is a reserved word; choose another"));
  }
  if (type == Type::kNull) {
    return absl::InvalidArgumentError(
        absl::StrCat("variable '", name,
                     "' needs a type: NUMBER, STRING, BOOLEAN or DATETIME"));
  }
  const int slot = size();
  const auto [it, inserted] = slots_.emplace(absl::AsciiStrToLower(name), slot);
  if (!inserted) {
    return absl::AlreadyExistsError(
        absl::StrCat("variable '", name, "' is already declared as '",
                     variables_[it->second].name, "'"));
  }
  variables_.push_back({std::string(name), type});
  return slot;
}

absl::optional<int> Schema::Find(absl::string_view name) const {
  const auto it = slots_.find(absl::AsciiStrToLower(name));
  if (it == slots_.end()) return absl::nullopt;
  return it->second;
}

}  // namespace parley::expression
