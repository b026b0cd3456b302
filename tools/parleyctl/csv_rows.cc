#include "tools/parleyctl/csv_rows.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/runtime/profiles/csv_reader.h"
#include "services/runtime/profiles/field_value.h"

namespace parley::parleyctl {
namespace {

constexpr int kMaxListedProblems = 20;

}  // namespace

absl::StatusOr<ColumnTypes> FlowchartInputs(
    const v1::InteractiveChannel& channel, const std::string& flowchart) {
  std::vector<std::string> names;
  for (const v1::Flowchart& candidate : channel.flowcharts()) {
    names.push_back(candidate.name());
    if (candidate.name() != flowchart) continue;
    ColumnTypes types;
    for (const v1::AudienceLevel& level : channel.audience_levels()) {
      if (level.name() != candidate.audience_level()) continue;
      for (const v1::FieldDefinition& field : level.audience_id_fields()) {
        types[absl::AsciiStrToLower(field.name())] = field.type();
      }
      for (const v1::FieldDefinition& field : level.profile_attributes()) {
        types[absl::AsciiStrToLower(field.name())] = field.type();
      }
    }
    for (const v1::FieldDefinition& field : channel.session_parameters()) {
      types[absl::AsciiStrToLower(field.name())] = field.type();
    }
    return types;
  }
  return absl::NotFoundError(absl::StrCat(
      "channel '", channel.name(), "' has no flowchart '", flowchart,
      "'; its flowcharts: ",
      names.empty() ? std::string("none") : absl::StrJoin(names, ", ")));
}

absl::StatusOr<TestRunRows> ParseTestRunCsv(absl::string_view text,
                                            const ColumnTypes& types) {
  profiles::CsvReader reader;
  std::vector<profiles::CsvRecord> records;
  reader.Feed(text, &records);
  reader.Finish(&records);
  if (records.empty()) {
    return absl::InvalidArgumentError(
        "the file is empty; it needs a header row naming the flowchart's "
        "inputs, then one row per visitor");
  }
  std::vector<std::string> problems;
  int total_problems = 0;
  auto problem = [&](std::string text) {
    if (++total_problems <= kMaxListedProblems) {
      problems.push_back(std::move(text));
    }
  };
  const profiles::CsvRecord& header = records.front();
  if (!header.status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", header.line, ": ", header.status.message()));
  }
  std::vector<std::string> columns;
  for (const std::string& name : header.fields) {
    columns.push_back(std::string(absl::StripAsciiWhitespace(name)));
  }
  TestRunRows out;
  for (size_t r = 1; r < records.size(); ++r) {
    const profiles::CsvRecord& record = records[r];
    if (!record.status.ok()) {
      problem(
          absl::StrCat("line ", record.line, ": ", record.status.message()));
      continue;
    }
    if (record.fields.size() != columns.size()) {
      problem(absl::StrCat("line ", record.line, ": ", record.fields.size(),
                           " fields, the header has ", columns.size()));
      continue;
    }
    v1::TestRow row;
    for (size_t c = 0; c < columns.size(); ++c) {
      auto type = types.find(absl::AsciiStrToLower(columns[c]));
      const v1::FieldType field_type =
          type == types.end() ? v1::STRING : type->second;
      absl::StatusOr<v1::NameValue> value =
          profiles::ParseFieldValue(columns[c], field_type, record.fields[c]);
      if (!value.ok()) {
        problem(absl::StrCat("line ", record.line, ", column '", columns[c],
                             "': ", value.status().message()));
        continue;
      }
      if (value->value_case() == v1::NameValue::VALUE_NOT_SET) continue;
      *row.add_values() = *std::move(value);
    }
    out.rows.push_back(std::move(row));
    out.lines.push_back(record.line);
  }
  if (total_problems > 0) {
    std::string message = absl::StrCat(
        total_problems,
        total_problems == 1 ? " bad cell or row" : " bad cells or rows", ":\n",
        absl::StrJoin(problems, "\n"));
    if (total_problems > kMaxListedProblems) {
      absl::StrAppend(&message, "\n... and ",
                      total_problems - kMaxListedProblems, " more");
    }
    return absl::InvalidArgumentError(message);
  }
  return out;
}

}  // namespace parley::parleyctl
