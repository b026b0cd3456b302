#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_SCHEMA_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_SCHEMA_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "services/runtime/expression/value.h"

namespace parley::expression {

// The variables expressions may read (profile attributes, session
// parameters...), each with a type and a slot: its index in Bindings. Slots
// are numbered 0, 1, ... in declaration order and never change, so
// expressions compiled earlier stay valid as variables are added.
class Schema {
 public:
  Schema() = default;

  // Declares `name` (a letter or '_', then letters, digits, '_' or '.'; not a
  // reserved word; case-insensitive) of `type` and returns its slot.
  // InvalidArgument for a bad name or type, AlreadyExists for a duplicate.
  absl::StatusOr<int> AddVariable(absl::string_view name, Type type);

  // The slot of `name` (any case), or nullopt if it is not declared.
  absl::optional<int> Find(absl::string_view name) const;

  // Number of declared variables.
  int size() const { return static_cast<int>(variables_.size()); }

  // The name, as declared, of the variable in `slot`.
  const std::string& name(int slot) const { return variables_[slot].name; }

  // The type of the variable in `slot`.
  Type type(int slot) const { return variables_[slot].type; }

 private:
  struct Variable {
    std::string name;
    Type type;
  };

  std::vector<Variable> variables_;
  absl::flat_hash_map<std::string, int> slots_;  // By lower-case name.
};

}  // namespace parley::expression

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_SCHEMA_H_
