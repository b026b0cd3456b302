#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_VALUE_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_VALUE_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"

namespace parley::expression {

// The static type of a variable or an expression.
enum class Type : uint8_t {
  // The type of a bare NULL literal; it unifies with every other type.
  kNull,
  // A double-precision number.
  kNumber,
  // UTF-8 text.
  kString,
  // TRUE or FALSE.
  kBoolean,
  // An instant in time: milliseconds since the Unix epoch (UTC).
  kDateTime,
};

// The upper-case name of `type` as marketers see it ("NUMBER", "DATETIME").
absl::string_view TypeName(Type type);

// One value of an expression: a typed scalar or NULL. Trivially copyable. A
// STRING value refers to characters it does not own (caller memory, a compiled
// expression's constants or an EvaluationScratch).
class Value {
 public:
  // NULL of type kNull.
  constexpr Value() : type_(Type::kNull), null_(true), number_(0), size_(0) {}

  // NULL of `type`.
  static Value Null(Type type = Type::kNull);
  // A NUMBER.
  static Value Number(double number);
  // A STRING referring to `text` (not copied).
  static Value String(absl::string_view text);
  // A BOOLEAN.
  static Value Boolean(bool boolean);
  // A DATETIME at `unix_millis` milliseconds since the Unix epoch.
  static Value DateTime(int64_t unix_millis);

  // The value's type (also set for NULL values when known).
  Type type() const { return type_; }
  // Whether the value is NULL.
  bool is_null() const { return null_; }

  // The payload; meaningful only for a non-NULL value of the matching type.
  double number() const { return number_; }
  absl::string_view string() const { return absl::string_view(data_, size_); }
  bool boolean() const { return boolean_; }
  int64_t datetime_millis() const { return millis_; }

  // Readable form for logs and tests: 12, 'it''s', TRUE, DATETIME
  // '2024-01-31T00:00:00Z', NULL.
  std::string DebugString() const;

 private:
  Type type_;
  bool null_;
  union {
    double number_;
    int64_t millis_;
    bool boolean_;
    const char* data_;
  };
  size_t size_;
};

// Same type, nullness and payload (NULL equals NULL of the same type); for
// tests and tools, not the language's `=`.
bool operator==(const Value& a, const Value& b);
inline bool operator!=(const Value& a, const Value& b) { return !(a == b); }

// Prints DebugString (used by GoogleTest).
void PrintTo(const Value& value, std::ostream* os);

}  // namespace parley::expression

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_VALUE_H_
