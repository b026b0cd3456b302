#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_FIELD_VALUE_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_FIELD_VALUE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/runtime.pb.h"

namespace parley::profiles {

// Converts the CSV text of one field to a typed value named `name`.
//
// - STRING: the text as is (an empty text is an empty string).
// - NUMBER: a decimal with optional sign, fraction and exponent ("-1.5e3");
//   no hex, infinity or NaN.
// - DATETIME: "YYYY-MM-DD" (midnight UTC) or RFC 3339
//   "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)"; kept as a UTC instant.
// - BOOLEAN: true/false, 1/0, yes/no in any case; stored as number_value 1
//   or 0, as NameValue has no boolean case.
//
// For every type but STRING, surrounding spaces are ignored and an empty
// text is NULL (a NameValue with no value set). Text that is not valid
// UTF-8 (e.g. a file saved as Latin-1) is refused for every type: protobuf
// strings must be UTF-8. Returns InvalidArgument with a message suitable
// for a row error otherwise.
// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or
// code points above U+10FFFF).
bool IsValidUtf8(absl::string_view text);

absl::StatusOr<v1::NameValue> ParseFieldValue(absl::string_view name,
                                              v1::FieldType type,
                                              absl::string_view text);

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_FIELD_VALUE_H_
