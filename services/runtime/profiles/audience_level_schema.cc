#include "services/runtime/profiles/audience_level_schema.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/runtime/profiles/field_value.h"

namespace parley::profiles {
namespace {

v1::FieldType ToFieldType(expression::Type type) {
  switch (type) {
    case expression::Type::kString:
      return v1::STRING;
    case expression::Type::kNumber:
      return v1::NUMBER;
    case expression::Type::kDateTime:
      return v1::DATETIME;
    case expression::Type::kBoolean:
      return v1::BOOLEAN;
    default:
      return v1::FIELD_TYPE_UNSPECIFIED;
  }
}

void AddFields(const std::vector<channel::CompiledField>& fields,
               google::protobuf::RepeatedPtrField<v1::FieldDefinition>* out) {
  for (const channel::CompiledField& field : fields) {
    v1::FieldDefinition* definition = out->Add();
    definition->set_name(field.name);
    definition->set_type(ToFieldType(field.type));
  }
}

std::string LevelNames(const channel::CompiledChannel& channel) {
  std::vector<std::string> names;
  for (const channel::CompiledAudienceLevel& level :
       channel.audience_levels()) {
    names.push_back(level.name);
  }
  return names.empty() ? "(none)" : absl::StrJoin(names, ", ");
}

std::string FieldNames(const v1::AudienceLevel& level) {
  std::vector<std::string> names;
  for (const v1::FieldDefinition& field : level.audience_id_fields()) {
    names.push_back(field.name());
  }
  return absl::StrJoin(names, ", ");
}

// True if `value` already holds a value of `type`.
bool HasType(const v1::NameValue& value, v1::FieldType type) {
  switch (type) {
    case v1::STRING:
      return value.has_string_value();
    case v1::NUMBER:
      return value.has_number_value();
    case v1::DATETIME:
      return value.has_datetime_value();
    case v1::BOOLEAN:
      return value.has_number_value() &&
             (value.number_value() == 0 || value.number_value() == 1);
    default:
      return false;
  }
}

}  // namespace

v1::AudienceLevel ToAudienceLevel(const channel::CompiledAudienceLevel& level) {
  v1::AudienceLevel result;
  result.set_name(level.name);
  AddFields(level.audience_id_fields, result.mutable_audience_id_fields());
  AddFields(level.profile_attributes, result.mutable_profile_attributes());
  return result;
}

absl::StatusOr<v1::AudienceLevel> ResolveAudienceLevel(
    const ChannelFinder& find_channel, absl::string_view channel_name,
    absl::string_view level_name) {
  if (channel_name.empty()) {
    return absl::InvalidArgumentError(
        "interactive_channel is empty; name the deployed interactive channel "
        "whose audience level describes the profiles");
  }
  std::shared_ptr<const channel::CompiledChannel> channel =
      find_channel ? find_channel(channel_name) : nullptr;
  if (channel == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "interactive channel '", channel_name,
        "' is not deployed on this server group; deploy it first or check "
        "the name"));
  }
  if (level_name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("audience_level is empty; interactive channel '",
                     channel->name(), "' has: ", LevelNames(*channel)));
  }
  const int index = channel->FindAudienceLevel(level_name);
  if (index < 0) {
    return absl::NotFoundError(absl::StrCat(
        "interactive channel '", channel->name(), "' has no audience level '",
        level_name, "'; it has: ", LevelNames(*channel)));
  }
  return ToAudienceLevel(channel->audience_levels()[index]);
}

absl::StatusOr<std::vector<v1::NameValue>> NormalizeAudienceId(
    const v1::AudienceLevel& level,
    const google::protobuf::RepeatedPtrField<v1::NameValue>& given) {
  for (const v1::NameValue& value : given) {
    bool known = false;
    for (const v1::FieldDefinition& field : level.audience_id_fields()) {
      known = known || absl::EqualsIgnoreCase(value.name(), field.name());
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("audience_id field '", value.name(),
                       "' is not one of audience level '", level.name(),
                       "': ", FieldNames(level)));
    }
  }
  std::vector<v1::NameValue> result;
  for (const v1::FieldDefinition& field : level.audience_id_fields()) {
    const v1::NameValue* match = nullptr;
    for (const v1::NameValue& value : given) {
      if (!absl::EqualsIgnoreCase(value.name(), field.name())) continue;
      if (match != nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "audience_id field '", field.name(), "' is given twice"));
      }
      match = &value;
    }
    const std::string type_name = v1::FieldType_Name(field.type());
    if (match == nullptr ||
        match->value_case() == v1::NameValue::VALUE_NOT_SET) {
      return absl::InvalidArgumentError(
          absl::StrCat("audience_id needs field '", field.name(), "' (",
                       type_name, ") with a value"));
    }
    v1::NameValue normalized;
    if (HasType(*match, field.type())) {
      normalized = *match;
    } else if (match->has_string_value()) {
      absl::StatusOr<v1::NameValue> parsed =
          ParseFieldValue(field.name(), field.type(), match->string_value());
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("audience_id field '", field.name(),
                         "': ", parsed.status().message()));
      }
      normalized = *std::move(parsed);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "audience_id field '", field.name(), "' must be ", type_name));
    }
    if (normalized.value_case() == v1::NameValue::VALUE_NOT_SET ||
        (normalized.has_string_value() &&
         absl::StripAsciiWhitespace(normalized.string_value()).empty())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "audience_id field '", field.name(), "' has an empty value"));
    }
    normalized.set_name(field.name());
    normalized.set_transient(false);
    result.push_back(std::move(normalized));
  }
  return result;
}

}  // namespace parley::profiles
