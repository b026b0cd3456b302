#include "services/runtime/profiles/profile_codec.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace parley::profiles {
namespace {

// Doubles in (-2^53, 2^53) that are whole print as integers.
constexpr double kExactIntegerLimit = 9007199254740992.0;

std::string CanonicalNumber(double number) {
  if (number == 0) return "0";  // Also negative zero.
  if (std::trunc(number) == number && std::fabs(number) < kExactIntegerLimit) {
    return absl::StrCat(static_cast<int64_t>(number));
  }
  char buffer[64];
  const std::to_chars_result result =
      std::to_chars(buffer, buffer + sizeof(buffer), number);
  return std::string(buffer, result.ptr);
}

std::string CanonicalDateTime(const google::protobuf::Timestamp& timestamp) {
  const absl::Time time = absl::FromUnixSeconds(timestamp.seconds()) +
                          absl::Nanoseconds(timestamp.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

std::string CanonicalText(const v1::NameValue& value) {
  switch (value.value_case()) {
    case v1::NameValue::kStringValue:
      return value.string_value();
    case v1::NameValue::kNumberValue:
      return CanonicalNumber(value.number_value());
    case v1::NameValue::kDatetimeValue:
      return CanonicalDateTime(value.datetime_value());
    default:
      return "";
  }
}

}  // namespace

std::string AudienceKey(absl::Span<const v1::NameValue> audience_id) {
  std::string key;
  for (size_t i = 0; i < audience_id.size(); ++i) {
    if (i > 0) key.push_back('|');
    for (char c : CanonicalText(audience_id[i])) {
      if (c == '|' || c == '\\') key.push_back('\\');
      key.push_back(c);
    }
  }
  return key;
}

std::string EncodeProfile(absl::Span<const v1::NameValue> attributes) {
  v1::GetProfileResponse response;
  response.mutable_profile()->Reserve(static_cast<int>(attributes.size()));
  for (const v1::NameValue& attribute : attributes) {
    *response.add_profile() = attribute;
  }
  return response.SerializeAsString();
}

absl::StatusOr<std::vector<v1::NameValue>> DecodeProfile(
    absl::string_view bytes) {
  v1::GetProfileResponse response;
  if (!response.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("not an encoded profile");
  }
  return std::vector<v1::NameValue>(response.profile().begin(),
                                    response.profile().end());
}

}  // namespace parley::profiles
