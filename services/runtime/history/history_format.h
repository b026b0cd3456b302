#ifndef PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_FORMAT_H_
#define PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_FORMAT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/history.pb.h"
#include "proto/parley/v1/runtime.pb.h"

namespace parley::history {

// The CSV export's header row, with its line end.
inline constexpr absl::string_view kCsvHeader =
    "kind,time,session_id,interactive_channel,audience_level,audience_id,"
    "interaction_point,offer,treatment_code,parameters\n";

// Writes history records as an export file, record by record.
//
// CSV (RFC 4180, LF line ends): kCsvHeader, then one row per record; kind
// by name (CONTACT), time in RFC 3339 UTC as the JSON mapping writes it,
// parameters as ParametersText. A field with a comma, quote or line break
// is quoted, quotes doubled.
//
// JSON lines: each record in the protobuf JSON mapping (lowerCamelCase
// names, default values left out) on a line of its own.
class HistoryFormatter {
 public:
  explicit HistoryFormatter(v1::ExportFormat format) : format_(format) {}

  // Appends what comes before the first record (the CSV header) to `out`.
  void AppendHeader(std::string* out) const;

  // Appends `record` with its line end to `out`.
  absl::Status AppendRecord(const v1::HistoryRecord& record,
                            std::string* out) const;

 private:
  const v1::ExportFormat format_;
};

// Parameters as "name=value;name=value", in their order. Values: strings
// as is, numbers in the shortest form that reads back the same ("42",
// "0.1"), datetimes in RFC 3339 UTC, NULL empty. A '\', ';' or '=' inside
// a name or value is escaped with '\'.
std::string ParametersText(
    const google::protobuf::RepeatedPtrField<v1::NameValue>& parameters);

// `text` as one CSV field: quoted when it holds a comma, quote, CR or LF.
std::string CsvField(absl::string_view text);

}  // namespace parley::history

#endif  // PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_FORMAT_H_
