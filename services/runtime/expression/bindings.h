#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_BINDINGS_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_BINDINGS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "services/runtime/expression/schema.h"
#include "services/runtime/expression/value.h"

namespace parley::expression {

// The current value of every variable of a Schema, by slot, and the time NOW()
// returns: the inputs of one evaluation. Fill it per visitor and reuse it;
// setting values never allocates. STRING values are not copied: the caller
// keeps their text alive while evaluating.
class Bindings {
 public:
  // All variables of `schema` NULL, NOW() at the Unix epoch.
  explicit Bindings(const Schema& schema);

  // Sets the variable in `slot`. OutOfRange for a slot the schema lacks,
  // InvalidArgument if `value` is not NULL and not of the declared type.
  absl::Status Set(int slot, const Value& value);

  // Sets the variable in `slot` to NULL; OutOfRange for a bad slot.
  absl::Status SetNull(int slot);

  // Sets every variable to NULL.
  void Clear();

  // Sets the instant NOW() returns, in milliseconds since the Unix epoch.
  void SetNow(int64_t unix_millis) { now_millis_ = unix_millis; }

  // The instant NOW() returns.
  int64_t now_millis() const { return now_millis_; }

  // Number of slots.
  int size() const { return static_cast<int>(values_.size()); }

  // The value in `slot` (0 <= slot < size()).
  const Value& Get(int slot) const { return values_[slot]; }

 private:
  std::vector<Type> types_;
  std::vector<Value> values_;
  int64_t now_millis_ = 0;
};

}  // namespace parley::expression

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_BINDINGS_H_
