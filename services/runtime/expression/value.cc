#include "services/runtime/expression/value.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/runtime/expression/date_time.h"
#include "services/runtime/expression/number_text.h"

namespace parley::expression {

absl::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull:
      return "NULL";
    case Type::kNumber:
      return "NUMBER";
    case Type::kString:
      return "STRING";
    case Type::kBoolean:
      return "BOOLEAN";
    case Type::kDateTime:
      return "DATETIME";
  }
  return "UNKNOWN";
}

Value Value::Null(Type type) {
  Value value;
  value.type_ = type;
  return value;
}

Value Value::Number(double number) {
  Value value;
  value.type_ = Type::kNumber;
  value.null_ = false;
  value.number_ = number;
  return value;
}

Value Value::String(absl::string_view text) {
  Value value;
  value.type_ = Type::kString;
  value.null_ = false;
  value.data_ = text.data();
  value.size_ = text.size();
  return value;
}

Value Value::Boolean(bool boolean) {
  Value value;
  value.type_ = Type::kBoolean;
  value.null_ = false;
  value.boolean_ = boolean;
  return value;
}

Value Value::DateTime(int64_t unix_millis) {
  Value value;
  value.type_ = Type::kDateTime;
  value.null_ = false;
  value.millis_ = unix_millis;
  return value;
}

std::string Value::DebugString() const {
  if (null_) return "NULL";
  switch (type_) {
    case Type::kNull:
      return "NULL";
    case Type::kNumber: {
      char buffer[internal::kNumberBufferSize];
      return std::string(buffer, internal::FormatNumber(number_, buffer));
    }
    case Type::kString:
      return absl::StrCat("'", absl::StrReplaceAll(string(), {{"'", "''"}}),
                          "'");
    case Type::kBoolean:
      return boolean_ ? "TRUE" : "FALSE";
    case Type::kDateTime: {
      char buffer[internal::kDateTimeBufferSize];
      return absl::StrCat(
          "DATETIME '",
          absl::string_view(buffer, internal::FormatDateTime(millis_, buffer)),
          "'");
    }
  }
  return "?";
}

bool operator==(const Value& a, const Value& b) {
  if (a.type() != b.type() || a.is_null() != b.is_null()) return false;
  if (a.is_null()) return true;
  switch (a.type()) {
    case Type::kNull:
      return true;
    case Type::kNumber:
      return a.number() == b.number();
    case Type::kString:
      return a.string() == b.string();
    case Type::kBoolean:
      return a.boolean() == b.boolean();
    case Type::kDateTime:
      return a.datetime_millis() == b.datetime_millis();
  }
  return false;
}

void PrintTo(const Value& value, std::ostream* os) {
  *os << value.DebugString();
}

}  // namespace parley::expression
