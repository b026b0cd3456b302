#include "services/runtime/profiles/profile_row_parser.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/runtime/profiles/field_value.h"
#include "services/runtime/profiles/profile_codec.h"

namespace parley::profiles {
namespace {

std::vector<v1::NameValue> NullValues(
    const google::protobuf::RepeatedPtrField<v1::FieldDefinition>& fields) {
  std::vector<v1::NameValue> values(fields.size());
  for (int i = 0; i < fields.size(); ++i) values[i].set_name(fields[i].name());
  return values;
}

}  // namespace

absl::StatusOr<ProfileRowParser> ProfileRowParser::Create(
    const v1::AudienceLevel& level, const CsvRecord& header) {
  const std::string where = absl::StrCat("header (line ", header.line, ")");
  if (!header.status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", header.status.message()));
  }
  // Lower-case field name -> what a column of that name fills.
  absl::flat_hash_map<std::string, Column> known;
  for (int i = 0; i < level.audience_id_fields_size(); ++i) {
    const v1::FieldDefinition& field = level.audience_id_fields(i);
    known.emplace(absl::AsciiStrToLower(field.name()),
                  Column{"", field.type(), /*is_audience_id=*/true, i});
  }
  for (int i = 0; i < level.profile_attributes_size(); ++i) {
    const v1::FieldDefinition& field = level.profile_attributes(i);
    known.emplace(absl::AsciiStrToLower(field.name()),
                  Column{"", field.type(), /*is_audience_id=*/false, i});
  }

  std::vector<Column> columns;
  std::vector<std::string> unknown;
  std::vector<std::string> duplicates;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& text : header.fields) {
    const std::string name(absl::StripAsciiWhitespace(text));
    const std::string lower = absl::AsciiStrToLower(name);
    if (!seen.insert(lower).second) {
      duplicates.push_back(name);
      continue;
    }
    auto it = known.find(lower);
    if (it == known.end()) {
      unknown.push_back(name);
      continue;
    }
    Column column = it->second;
    column.header = name;
    columns.push_back(std::move(column));
  }
  std::vector<std::string> missing;
  for (const v1::FieldDefinition& field : level.audience_id_fields()) {
    if (!seen.contains(absl::AsciiStrToLower(field.name()))) {
      missing.push_back(field.name());
    }
  }

  std::vector<std::string> problems;
  if (!missing.empty()) {
    problems.push_back(absl::StrCat("missing audience-ID column(s): ",
                                    absl::StrJoin(missing, ", ")));
  }
  if (!unknown.empty()) {
    problems.push_back(absl::StrCat("unknown column(s) for audience level '",
                                    level.name(),
                                    "': ", absl::StrJoin(unknown, ", ")));
  }
  if (!duplicates.empty()) {
    problems.push_back(
        absl::StrCat("duplicate column(s): ", absl::StrJoin(duplicates, ", ")));
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", absl::StrJoin(problems, "; ")));
  }
  return ProfileRowParser(std::move(columns), level);
}

std::variant<ProfileRow, RowError> ProfileRowParser::ParseRow(
    const CsvRecord& record) const {
  if (!record.status.ok()) {
    return RowError{record.line, "", std::string(record.status.message())};
  }
  if (record.fields.size() != columns_.size()) {
    return RowError{
        record.line, "",
        absl::StrCat("expected ", columns_.size(),
                     " fields as in the header, got ", record.fields.size())};
  }
  ProfileRow row;
  row.line = record.line;
  row.audience_id = NullValues(level_.audience_id_fields());
  row.attributes = NullValues(level_.profile_attributes());
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& column = columns_[i];
    const std::string& text = record.fields[i];
    v1::NameValue& target = column.is_audience_id
                                ? row.audience_id[column.index]
                                : row.attributes[column.index];
    if (column.is_audience_id && absl::StripAsciiWhitespace(text).empty()) {
      return RowError{record.line, column.header, "empty audience-ID value"};
    }
    absl::StatusOr<v1::NameValue> value =
        ParseFieldValue(target.name(), column.type, text);
    if (!value.ok()) {
      return RowError{record.line, column.header,
                      std::string(value.status().message())};
    }
    target = *std::move(value);
  }
  row.key = AudienceKey(row.audience_id);
  if (row.key.size() > kMaxAudienceKeyBytes) {
    return RowError{record.line, "",
                    absl::StrCat("the audience ID is too long: its key has ",
                                 row.key.size(), " bytes, at most ",
                                 kMaxAudienceKeyBytes, " are allowed")};
  }
  return row;
}

}  // namespace parley::profiles
