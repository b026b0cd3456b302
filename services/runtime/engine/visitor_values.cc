#include "services/runtime/engine/visitor_values.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/runtime/session/parameters.h"

namespace parley::engine {
namespace {

using ::parley::expression::Type;
using ::parley::expression::Value;

template <typename Values>
void Bind(const Values& values, const expression::Schema& schema,
          expression::Bindings& bindings) {
  for (const v1::NameValue& value : values) {
    const absl::optional<int> slot = schema.Find(value.name());
    if (!slot.has_value()) continue;
    const absl::optional<Value> typed = ValueAs(value, schema.type(*slot));
    if (!typed.has_value()) {
      bindings.SetNull(*slot).IgnoreError();
      continue;
    }
    bindings.Set(*slot, *typed).IgnoreError();
  }
}

}  // namespace

int64_t TimestampMillis(const google::protobuf::Timestamp& timestamp) {
  // Within google.protobuf.Timestamp's range (years 1 to 9999), so the
  // milliseconds and every date computed from them fit.
  constexpr int64_t kMinSeconds =
      google::protobuf::util::TimeUtil::kTimestampMinSeconds;
  constexpr int64_t kMaxSeconds =
      google::protobuf::util::TimeUtil::kTimestampMaxSeconds;
  const int64_t seconds =
      std::clamp<int64_t>(timestamp.seconds(), kMinSeconds, kMaxSeconds);
  return seconds * 1000 + timestamp.nanos() / 1000000;
}

void SetTimestampMillis(int64_t unix_millis,
                        google::protobuf::Timestamp* timestamp) {
  int64_t seconds = unix_millis / 1000;
  int64_t millis = unix_millis % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  timestamp->set_seconds(seconds);
  timestamp->set_nanos(static_cast<int32_t>(millis * 1000000));
}

absl::optional<Value> ValueAs(const v1::NameValue& value, Type type) {
  if (NameValueType(value) == type) return ToValue(value);
  if (type != Type::kBoolean) return absl::nullopt;
  switch (value.value_case()) {
    case v1::NameValue::kNumberValue:
      if (value.number_value() == 1) return Value::Boolean(true);
      if (value.number_value() == 0) return Value::Boolean(false);
      return absl::nullopt;
    case v1::NameValue::kStringValue:
      if (absl::EqualsIgnoreCase(value.string_value(), "true")) {
        return Value::Boolean(true);
      }
      if (absl::EqualsIgnoreCase(value.string_value(), "false")) {
        return Value::Boolean(false);
      }
      return absl::nullopt;
    default:
      return absl::nullopt;
  }
}

std::string TypeExpected(Type type) {
  if (type == Type::kBoolean) {
    return "BOOLEAN (number_value 1 or 0, or string_value \"true\" or "
           "\"false\")";
  }
  return std::string(TypeName(type));
}

absl::Status ApplyChannelParameters(
    const channel::CompiledChannel& channel, v1::SessionState& state,
    const google::protobuf::RepeatedPtrField<v1::NameValue>& parameters,
    std::vector<v1::NameValue>* transient_out) {
  for (int i = 0; i < parameters.size(); ++i) {
    const v1::NameValue& parameter = parameters[i];
    const Type sent = NameValueType(parameter);
    if (sent == Type::kNull) continue;  // ApplyParameters rejects it.
    for (const channel::CompiledField& declared :
         channel.session_parameters()) {
      if (!absl::EqualsIgnoreCase(declared.name, parameter.name())) continue;
      if (!ValueAs(parameter, declared.type).has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "parameters[", i, "] (", parameter.name(), "): channel '",
            channel.name(), "' declares session parameter '", declared.name,
            "' as ", TypeExpected(declared.type), ", but a ", TypeName(sent),
            " was sent"));
      }
      break;
    }
  }
  return session::ApplyParameters(state, parameters, transient_out);
}

Value ToValue(const v1::NameValue& value) {
  switch (value.value_case()) {
    case v1::NameValue::kStringValue:
      return Value::String(value.string_value());
    case v1::NameValue::kNumberValue:
      return Value::Number(value.number_value());
    case v1::NameValue::kDatetimeValue:
      return Value::DateTime(TimestampMillis(value.datetime_value()));
    case v1::NameValue::VALUE_NOT_SET:
      break;
  }
  return Value::Null();
}

Type NameValueType(const v1::NameValue& value) {
  switch (value.value_case()) {
    case v1::NameValue::kStringValue:
      return Type::kString;
    case v1::NameValue::kNumberValue:
      return Type::kNumber;
    case v1::NameValue::kDatetimeValue:
      return Type::kDateTime;
    case v1::NameValue::VALUE_NOT_SET:
      break;
  }
  return Type::kNull;
}

void FillBindings(const expression::Schema& schema,
                  const v1::SessionState& state,
                  const std::vector<v1::NameValue>& transient,
                  int64_t now_millis, expression::Bindings& bindings) {
  bindings.Clear();
  bindings.SetNow(now_millis);
  Bind(state.audience_id(), schema, bindings);
  Bind(state.profile(), schema, bindings);
  Bind(state.parameters(), schema, bindings);
  Bind(transient, schema, bindings);
}

std::string AudienceIdText(
    const google::protobuf::RepeatedPtrField<v1::NameValue>& audience_id) {
  std::string text;
  for (const v1::NameValue& field : audience_id) {
    if (!text.empty()) text.push_back(',');
    absl::StrAppend(&text, field.name(), "=");
    switch (field.value_case()) {
      case v1::NameValue::kStringValue:
        absl::StrAppend(&text, field.string_value());
        break;
      case v1::NameValue::kNumberValue: {
        // Every digit: the text keys sampling and names the visitor in
        // history, so 1234567 and 1234568 must differ. Whole numbers as
        // integers (1000000, not 1e+06), others in shortest round-trip form.
        const double number = field.number_value();
        if (std::trunc(number) == number && std::fabs(number) < 0x1p53) {
          absl::StrAppend(&text, static_cast<int64_t>(number));
        } else {
          char digits[32];
          const std::to_chars_result end =
              std::to_chars(digits, digits + sizeof(digits), number);
          text.append(digits, end.ptr);
        }
        break;
      }
      case v1::NameValue::kDatetimeValue:
        absl::StrAppend(&text, TimestampMillis(field.datetime_value()));
        break;
      case v1::NameValue::VALUE_NOT_SET:
        break;
    }
  }
  return text;
}

}  // namespace parley::engine
