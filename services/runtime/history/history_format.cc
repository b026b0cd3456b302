#include "services/runtime/history/history_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace parley::history {
namespace {

// Doubles in (-2^53, 2^53) that are whole print as integers.
constexpr double kExactIntegerLimit = 9007199254740992.0;

std::string NumberText(double number) {
  if (number == 0) return "0";
  if (std::trunc(number) == number && std::fabs(number) < kExactIntegerLimit) {
    return absl::StrCat(static_cast<int64_t>(number));
  }
  char buffer[64];
  const std::to_chars_result result =
      std::to_chars(buffer, buffer + sizeof(buffer), number);
  return std::string(buffer, result.ptr);
}

std::string ValueText(const v1::NameValue& value) {
  switch (value.value_case()) {
    case v1::NameValue::kStringValue:
      return value.string_value();
    case v1::NameValue::kNumberValue:
      return NumberText(value.number_value());
    case v1::NameValue::kDatetimeValue:
      return google::protobuf::util::TimeUtil::ToString(value.datetime_value());
    default:
      return "";
  }
}

void AppendEscaped(absl::string_view text, std::string* out) {
  for (char c : text) {
    if (c == '\\' || c == ';' || c == '=') out->push_back('\\');
    out->push_back(c);
  }
}

void AppendCsvField(absl::string_view text, std::string* out) {
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) {
    out->append(text.data(), text.size());
    return;
  }
  out->push_back('"');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

std::string ParametersText(
    const google::protobuf::RepeatedPtrField<v1::NameValue>& parameters) {
  std::string text;
  for (const v1::NameValue& parameter : parameters) {
    if (!text.empty()) text.push_back(';');
    AppendEscaped(parameter.name(), &text);
    text.push_back('=');
    AppendEscaped(ValueText(parameter), &text);
  }
  return text;
}

std::string CsvField(absl::string_view text) {
  std::string out;
  AppendCsvField(text, &out);
  return out;
}

void HistoryFormatter::AppendHeader(std::string* out) const {
  if (format_ == v1::CSV) out->append(kCsvHeader.data(), kCsvHeader.size());
}

absl::Status HistoryFormatter::AppendRecord(const v1::HistoryRecord& record,
                                            std::string* out) const {
  if (format_ == v1::JSON_LINES) {
    std::string json;
    const auto status =
        google::protobuf::util::MessageToJsonString(record, &json);
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat(
          "a history record does not convert to JSON: ", status.ToString()));
    }
    absl::StrAppend(out, json, "\n");
    return absl::OkStatus();
  }
  const std::string time =
      record.has_time()
          ? google::protobuf::util::TimeUtil::ToString(record.time())
          : "";
  const absl::string_view fields[] = {
      v1::HistoryKind_Name(record.kind()),
      time,
      record.session_id(),
      record.interactive_channel(),
      record.audience_level(),
      record.audience_id(),
      record.interaction_point(),
      record.offer(),
      record.treatment_code(),
  };
  for (absl::string_view field : fields) {
    AppendCsvField(field, out);
    out->push_back(',');
  }
  AppendCsvField(ParametersText(record.parameters()), out);
  out->push_back('\n');
  return absl::OkStatus();
}

}  // namespace parley::history
