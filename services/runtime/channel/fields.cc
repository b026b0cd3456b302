#include "services/runtime/channel/fields.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace parley::channel {

absl::optional<expression::Type> ToExpressionType(v1::FieldType type) {
  switch (type) {
    case v1::STRING:
      return expression::Type::kString;
    case v1::NUMBER:
      return expression::Type::kNumber;
    case v1::DATETIME:
      return expression::Type::kDateTime;
    case v1::BOOLEAN:
      return expression::Type::kBoolean;
    default:
      return absl::nullopt;
  }
}

std::vector<CompiledField> CompileFields(
    const google::protobuf::RepeatedPtrField<v1::FieldDefinition>& fields,
    absl::string_view context, absl::string_view kind, NameIndex& seen,
    Problems& problems) {
  std::vector<CompiledField> result;
  for (const v1::FieldDefinition& field : fields) {
    const std::string where =
        absl::StrCat(context, ": ", kind, " '", field.name(), "'");
    if (std::string bad = CheckFieldName(field.name()); !bad.empty()) {
      problems.Add(absl::StrCat(where, ": ", bad));
      continue;
    }
    if (!seen.Add(field.name(), 0)) {
      problems.Add(absl::StrCat(where, " defined twice"));
      continue;
    }
    absl::optional<expression::Type> type = ToExpressionType(field.type());
    if (!type.has_value()) {
      problems.Add(absl::StrCat(where, ": type is not specified"));
      continue;
    }
    result.push_back(CompiledField{field.name(), *type});
  }
  return result;
}

void DeclareFields(const std::vector<CompiledField>& fields,
                   absl::string_view context, expression::Schema& schema,
                   Problems& problems) {
  for (const CompiledField& field : fields) {
    absl::StatusOr<int> slot = schema.AddVariable(field.name, field.type);
    if (!slot.ok()) {
      problems.Add(absl::StrCat(context, ": field '", field.name, "'"),
                   slot.status());
    }
  }
}

}  // namespace parley::channel
