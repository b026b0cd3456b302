#ifndef PARLEY_SERVICES_RUNTIME_CHANNEL_FIELDS_H_
#define PARLEY_SERVICES_RUNTIME_CHANNEL_FIELDS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "google/protobuf/repeated_field.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/runtime/channel/compiled_flowchart.h"
#include "services/runtime/channel/name_index.h"
#include "services/runtime/channel/problems.h"
#include "services/runtime/expression/schema.h"

namespace parley::channel {

// The expression type of a declared field type; nullopt if unspecified.
absl::optional<expression::Type> ToExpressionType(v1::FieldType type);

// Validates `fields` (name syntax, specified type, unique within `seen`,
// which collects names across lists) and returns the valid ones. Problems
// read "<context>: <kind> 'Name' ...".
std::vector<CompiledField> CompileFields(
    const google::protobuf::RepeatedPtrField<v1::FieldDefinition>& fields,
    absl::string_view context, absl::string_view kind, NameIndex& seen,
    Problems& problems);

// Declares `fields` in `schema`, reporting names the schema rejects (e.g.
// reserved words) or that are already declared.
void DeclareFields(const std::vector<CompiledField>& fields,
                   absl::string_view context, expression::Schema& schema,
                   Problems& problems);

}  // namespace parley::channel

#endif  // PARLEY_SERVICES_RUNTIME_CHANNEL_FIELDS_H_
