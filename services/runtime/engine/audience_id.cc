#include "services/runtime/engine/audience_id.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/engine/visitor_values.h"

namespace parley::engine {

absl::Status NormalizeAudienceId(
    const channel::CompiledAudienceLevel& level,
    const google::protobuf::RepeatedPtrField<v1::NameValue>& given,
    google::protobuf::RepeatedPtrField<v1::NameValue>* out) {
  out->Clear();
  for (const channel::CompiledField& field : level.audience_id_fields) {
    const v1::NameValue* match = nullptr;
    for (const v1::NameValue& value : given) {
      if (absl::EqualsIgnoreCase(value.name(), field.name)) {
        match = &value;
        break;
      }
    }
    if (match == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("audience ID field '", field.name, "' is missing"));
    }
    if (NameValueType(*match) != field.type) {
      return absl::InvalidArgumentError(
          absl::StrCat("audience ID field '", field.name, "' must be ",
                       expression::TypeName(field.type)));
    }
    v1::NameValue* normalized = out->Add();
    *normalized = *match;
    normalized->set_name(field.name);
    normalized->set_transient(false);
  }
  return absl::OkStatus();
}

}  // namespace parley::engine
