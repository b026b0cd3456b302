#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_ROW_PARSER_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_ROW_PARSER_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/runtime/profiles/csv_reader.h"
#include "services/runtime/profiles/load_report.h"

namespace parley::profiles {

// One CSV row as a typed profile, ready for the cache tier.
struct ProfileRow {
  // 1-based line on which the row starts.
  int64_t line = 0;
  // The cache key: AudienceKey(audience_id).
  std::string key;
  // The audience-ID values in the level's field order, named as the level
  // names them.
  std::vector<v1::NameValue> audience_id;
  // Every profile attribute of the level, in the level's order; NULL (no
  // value set) when empty or when the file has no column for it. The cache
  // value is EncodeProfile(attributes).
  std::vector<v1::NameValue> attributes;
};

// Turns CSV rows into profiles of one audience level, given the header row.
// The same row always gives the same key and attributes, whatever the
// column order, so loading a file again overwrites rather than duplicates.
class ProfileRowParser {
 public:
  // Checks the header against `level`: column names match field names
  // ignoring case and surrounding spaces; every audience-ID field needs a
  // column; unknown and duplicate columns are errors. Profile attributes
  // without a column are allowed (NULL). InvalidArgument lists every problem.
  static absl::StatusOr<ProfileRowParser> Create(const v1::AudienceLevel& level,
                                                 const CsvRecord& header);

  // The typed row, or the first problem found in it: a malformed record, a
  // wrong number of fields, an empty audience-ID value, a value that does
  // not fit its column's type or an audience ID whose key is longer than
  // kMaxAudienceKeyBytes.
  std::variant<ProfileRow, RowError> ParseRow(const CsvRecord& record) const;

 private:
  struct Column {
    std::string header;  // As written in the file.
    v1::FieldType type = v1::FIELD_TYPE_UNSPECIFIED;
    bool is_audience_id = false;
    // Into ProfileRow::audience_id or ProfileRow::attributes.
    int index = 0;
  };

  ProfileRowParser(std::vector<Column> columns, v1::AudienceLevel level)
      : columns_(std::move(columns)), level_(std::move(level)) {}

  std::vector<Column> columns_;
  v1::AudienceLevel level_;
};

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_ROW_PARSER_H_
