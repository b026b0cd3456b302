#ifndef PARLEY_SERVICES_RUNTIME_SESSION_PARAMETERS_H_
#define PARLEY_SERVICES_RUNTIME_SESSION_PARAMETERS_H_

#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"

namespace parley::session {

// Merges a call's parameters into the session, as the classic runtime does:
// a persistent parameter replaces the session's parameter of the same name
// (names compare case-insensitively; the new spelling is kept) or is added;
// a transient one leaves the session alone and is returned in
// `transient_out` (cleared first; may be null) for this call only.
//
// All or nothing: INVALID_ARGUMENT, naming the parameter's index, for an
// empty name, a name repeated in `params` (case-insensitive) or an unset
// value, and then `state` is unchanged.
absl::Status ApplyParameters(
    parley::v1::SessionState& state,
    const google::protobuf::RepeatedPtrField<parley::v1::NameValue>& params,
    std::vector<parley::v1::NameValue>* transient_out);

}  // namespace parley::session

#endif  // PARLEY_SERVICES_RUNTIME_SESSION_PARAMETERS_H_
