#include "services/runtime/profiles/field_value.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace parley::profiles {
namespace {

// The range google.protobuf.Timestamp allows: 0001-01-01 to 9999-12-31.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

// At most about 60 bytes of `text` (valid UTF-8) for an error message, so a
// huge bad value does not make a huge report.
std::string Excerpt(absl::string_view text) {
  constexpr size_t kMax = 60;
  if (text.size() <= kMax) return std::string(text);
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;  // Not inside a character.
  }
  return absl::StrCat(text.substr(0, cut), "...");
}

bool ConsumeDigits(absl::string_view& text) {
  size_t n = 0;
  while (n < text.size() && absl::ascii_isdigit(text[n])) ++n;
  text.remove_prefix(n);
  return n > 0;
}

// [+-] (digits [. digits*] | . digits) [(e|E) [+-] digits], nothing else.
bool IsDecimal(absl::string_view text) {
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    text.remove_prefix(1);
  }
  bool has_digits = ConsumeDigits(text);
  if (!text.empty() && text[0] == '.') {
    text.remove_prefix(1);
    has_digits = ConsumeDigits(text) || has_digits;
  }
  if (!has_digits) return false;
  if (!text.empty() && (text[0] == 'e' || text[0] == 'E')) {
    text.remove_prefix(1);
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
      text.remove_prefix(1);
    }
    if (!ConsumeDigits(text)) return false;
  }
  return text.empty();
}

// "YYYY-MM-DD" with digits where the pattern has letters.
bool StartsWithDate(absl::string_view text) {
  constexpr absl::string_view kPattern = "dddd-dd-dd";
  if (text.size() < kPattern.size()) return false;
  for (size_t i = 0; i < kPattern.size(); ++i) {
    const bool ok = kPattern[i] == 'd' ? absl::ascii_isdigit(text[i])
                                       : text[i] == kPattern[i];
    if (!ok) return false;
  }
  return true;
}

absl::Status ParseNumber(absl::string_view text, v1::NameValue& value) {
  double number = 0;
  if (!IsDecimal(text) || !absl::SimpleAtod(text, &number) ||
      !std::isfinite(number)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", Excerpt(text), "' is not a NUMBER"));
  }
  value.set_number_value(number == 0 ? 0.0 : number);  // No negative zero.
  return absl::OkStatus();
}

absl::Status ParseDateTime(absl::string_view text, v1::NameValue& value) {
  const absl::Status invalid = absl::InvalidArgumentError(absl::StrCat(
      "'", Excerpt(text),
      "' is not a DATETIME (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.fff]Z, or with "
      "an offset such as +02:00)"));
  if (!StartsWithDate(text)) return invalid;
  const std::string format =
      text.size() == 10 ? "%Y-%m-%d" : std::string(absl::RFC3339_full);
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(format, text, absl::UTCTimeZone(), &time, &error)) {
    return invalid;
  }
  const int64_t seconds = absl::ToUnixSeconds(time);  // Rounds down.
  if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds) {
    return invalid;
  }
  google::protobuf::Timestamp* timestamp = value.mutable_datetime_value();
  timestamp->set_seconds(seconds);
  timestamp->set_nanos(static_cast<int32_t>(
      (time - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
  return absl::OkStatus();
}

absl::Status ParseBoolean(absl::string_view text, v1::NameValue& value) {
  for (absl::string_view yes : {"true", "1", "yes"}) {
    if (absl::EqualsIgnoreCase(text, yes)) {
      value.set_number_value(1);
      return absl::OkStatus();
    }
  }
  for (absl::string_view no : {"false", "0", "no"}) {
    if (absl::EqualsIgnoreCase(text, no)) {
      value.set_number_value(0);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", Excerpt(text), "' is not a BOOLEAN (true/false, 1/0 or yes/no)"));
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int length = 0;
    uint32_t code = 0;
    uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      length = 2, code = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, code = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, code = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (int k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

absl::StatusOr<v1::NameValue> ParseFieldValue(absl::string_view name,
                                              v1::FieldType type,
                                              absl::string_view text) {
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError(
        "the value is not valid UTF-8 text; save the file as UTF-8");
  }
  v1::NameValue value;
  value.set_name(std::string(name));
  if (type == v1::STRING) {
    value.set_string_value(std::string(text));
    return value;
  }
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (trimmed.empty()) return value;  // NULL.
  absl::Status status;
  switch (type) {
    case v1::NUMBER:
      status = ParseNumber(trimmed, value);
      break;
    case v1::DATETIME:
      status = ParseDateTime(trimmed, value);
      break;
    case v1::BOOLEAN:
      status = ParseBoolean(trimmed, value);
      break;
    default:
      status = absl::InvalidArgumentError(
          absl::StrCat("field '", name, "' has no known type"));
      break;
  }
  if (!status.ok()) return status;
  return value;
}

}  // namespace parley::profiles
