#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_VISITOR_VALUES_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_VISITOR_VALUES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/optional.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/schema.h"
#include "services/runtime/expression/value.h"

namespace parley::engine {

// Milliseconds since the Unix epoch of `timestamp`.
int64_t TimestampMillis(const google::protobuf::Timestamp& timestamp);

// Sets `timestamp` to `unix_millis`.
void SetTimestampMillis(int64_t unix_millis,
                        google::protobuf::Timestamp* timestamp);

// The expression type of a NameValue's value; kNull when unset.
expression::Type NameValueType(const v1::NameValue& value);

// Applies a call's `parameters` to the session as session::ApplyParameters
// does, after checking that each one naming a session parameter the
// channel declares (ignoring case) carries a value of the declared type.
// InvalidArgument naming the parameter and both types otherwise, with the
// session unchanged.
absl::Status ApplyChannelParameters(
    const channel::CompiledChannel& channel, v1::SessionState& state,
    const google::protobuf::RepeatedPtrField<v1::NameValue>& parameters,
    std::vector<v1::NameValue>* transient_out);

// `value` as a value of `type`: its own value when of that type; for
// BOOLEAN also number 1 or 0 and string "true" or "false" (ignoring case),
// as NameValue has no boolean. Nullopt otherwise. A STRING refers to
// `value`'s text, which must outlive it.
absl::optional<expression::Value> ValueAs(const v1::NameValue& value,
                                          expression::Type type);

// How a value of `type` is sent, for error messages.
std::string TypeExpected(expression::Type type);

// A NameValue's value as an expression value (NULL when unset). A STRING
// refers to `value`'s text, which must outlive it.
expression::Value ToValue(const v1::NameValue& value);

// Fills `bindings` (made from `schema`) for one evaluation: every variable
// NULL, then, by name ignoring case, the session's audience-ID fields,
// profile attributes, persistent parameters and `transient` parameters, a
// later source overriding an earlier one. A value that is not of the
// variable's type (see ValueAs) stays NULL. NOW() is `now_millis`. STRING
// values refer to `state` and `transient`, which must outlive the evaluation.
void FillBindings(const expression::Schema& schema,
                  const v1::SessionState& state,
                  const std::vector<v1::NameValue>& transient,
                  int64_t now_millis, expression::Bindings& bindings);

// The audience ID as text, e.g. "CustomerID=42,Region=EU"; also the
// visitor key for Sample boxes.
std::string AudienceIdText(
    const google::protobuf::RepeatedPtrField<v1::NameValue>& audience_id);

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_VISITOR_VALUES_H_
