#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_CODEC_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_CODEC_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/parley/v1/runtime.pb.h"

namespace parley::profiles {

// The longest AudienceKey the cache tier can store (its key limit).
inline constexpr size_t kMaxAudienceKeyBytes = 1024;

// The cache key of an audience ID: its values in field order, each in a
// canonical text form, joined by '|' ("42", "42|EU"). A '|' or '\' inside a
// value is escaped with '\'. Names are not part of the key.
//
// Canonical forms: a NUMBER is an integer without fraction when it is one
// ("42" for 42, 42.0 or 4.2e1), else the shortest text that reads back as
// the same double; a DATETIME is RFC 3339 in UTC with the fraction only when
// not zero ("2024-01-31T09:00:00Z"); a STRING is as is; NULL is empty. So a
// profile loaded from CSV and an audience ID sent by a touchpoint give the
// same key.
std::string AudienceKey(absl::Span<const v1::NameValue> audience_id);

// The cache value of a profile: the attributes serialized as the `profile`
// field of a v1::GetProfileResponse. Same attributes, same bytes.
std::string EncodeProfile(absl::Span<const v1::NameValue> attributes);

// Reads back what EncodeProfile wrote; InvalidArgument if `bytes` is not
// such a value.
absl::StatusOr<std::vector<v1::NameValue>> DecodeProfile(
    absl::string_view bytes);

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_CODEC_H_
