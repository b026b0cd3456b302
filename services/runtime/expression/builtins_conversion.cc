#include "absl/strings/ascii.h"
#include "services/runtime/expression/builtins.h"
#include "services/runtime/expression/date_time.h"
#include "services/runtime/expression/number_text.h"

namespace parley::expression::internal {

Value ToNumber(const Value* args, int, StringArena&) {
  double number = 0;
  if (!ParseNumber(absl::StripAsciiWhitespace(args[0].string()), &number)) {
    return Value::Null(Type::kNumber);
  }
  return Value::Number(number);
}

Value ToString(const Value* args, int, StringArena& arena) {
  const Value& value = args[0];
  switch (value.type()) {
    case Type::kNumber: {
      char* buffer = arena.Allocate(kNumberBufferSize);
      return Value::String(
          absl::string_view(buffer, FormatNumber(value.number(), buffer)));
    }
    case Type::kDateTime: {
      char* buffer = arena.Allocate(kDateTimeBufferSize);
      return Value::String(absl::string_view(
          buffer, FormatDateTime(value.datetime_millis(), buffer)));
    }
    case Type::kBoolean:
      return Value::String(value.boolean() ? "TRUE" : "FALSE");
    case Type::kString:
      return value;
    case Type::kNull:
      break;
  }
  return Value::Null(Type::kString);
}

}  // namespace parley::expression::internal
