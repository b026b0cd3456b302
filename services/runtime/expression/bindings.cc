#include "services/runtime/expression/bindings.h"

#include "absl/strings/str_cat.h"

namespace parley::expression {

Bindings::Bindings(const Schema& schema) {
  types_.reserve(schema.size());
  values_.reserve(schema.size());
  for (int slot = 0; slot < schema.size(); ++slot) {
    types_.push_back(schema.type(slot));
    values_.push_back(Value::Null(schema.type(slot)));
  }
}

absl::Status Bindings::Set(int slot, const Value& value) {
  if (slot < 0 || slot >= size()) {
    return absl::OutOfRangeError(absl::StrCat(
        "slot ", slot, " is not in the schema (", size(), " variables)"));
  }
  if (value.is_null()) {
    values_[slot] = Value::Null(types_[slot]);
    return absl::OkStatus();
  }
  if (value.type() != types_[slot]) {
    return absl::InvalidArgumentError(
        absl::StrCat("slot ", slot, " holds ", TypeName(types_[slot]), ", not ",
                     TypeName(value.type())));
  }
  values_[slot] = value;
  return absl::OkStatus();
}

absl::Status Bindings::SetNull(int slot) { return Set(slot, Value::Null()); }

void Bindings::Clear() {
  for (size_t slot = 0; slot < values_.size(); ++slot) {
    values_[slot] = Value::Null(types_[slot]);
  }
}

}  // namespace parley::expression
