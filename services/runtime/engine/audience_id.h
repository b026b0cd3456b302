#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_AUDIENCE_ID_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_AUDIENCE_ID_H_

#include "absl/status/status.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/runtime/channel/compiled_channel.h"

namespace parley::engine {

// Checks that `given` has every audience-ID field of `level` (names
// ignoring case) with a value of the field's type, and writes the fields in
// declaration order, spelled as declared, to `out` (cleared first).
// INVALID_ARGUMENT naming the first missing or mistyped field.
absl::Status NormalizeAudienceId(
    const channel::CompiledAudienceLevel& level,
    const google::protobuf::RepeatedPtrField<v1::NameValue>& given,
    google::protobuf::RepeatedPtrField<v1::NameValue>* out);

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_AUDIENCE_ID_H_
