#include "fuzz/history_checks.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "fuzz/fuzz_support.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/runtime/history/history_format.h"
#include "services/runtime/history/history_key.h"
#include "services/runtime/profiles/csv_reader.h"

namespace parley::fuzz {
namespace {

using google::protobuf::util::TimeUtil;

bool ValidTimestamp(const google::protobuf::Timestamp& time) {
  return time.seconds() >= TimeUtil::kTimestampMinSeconds &&
         time.seconds() <= TimeUtil::kTimestampMaxSeconds &&
         time.nanos() >= 0 && time.nanos() <= 999999999;
}

// Whether the parameters convert to JSON and back exactly: datetimes in
// the Timestamp range, no NaN (which reads back as a NaN of other bits).
bool ParametersJsonSafe(const v1::HistoryRecord& record) {
  for (const v1::NameValue& parameter : record.parameters()) {
    if (parameter.has_datetime_value() &&
        !ValidTimestamp(parameter.datetime_value())) {
      return false;
    }
    if (parameter.value_case() == v1::NameValue::kNumberValue &&
        std::isnan(parameter.number_value())) {
      return false;
    }
  }
  return true;
}

void CheckCsv(const v1::HistoryRecord& record) {
  const history::HistoryFormatter formatter(v1::CSV);
  std::string csv;
  formatter.AppendHeader(&csv);
  const absl::Status appended = formatter.AppendRecord(record, &csv);
  PARLEY_FUZZ_CHECK(appended.ok(), appended.ToString());

  profiles::CsvReader reader;
  std::vector<profiles::CsvRecord> rows;
  reader.Feed(csv, &rows);
  reader.Finish(&rows);
  PARLEY_FUZZ_CHECK(rows.size() == 2,
                    absl::StrCat("CSV export of ", record.ShortDebugString(),
                                 " reads back as ", rows.size(), " records"));
  const std::vector<std::string>& header = rows[0].fields;
  const std::vector<std::string>& fields = rows[1].fields;
  PARLEY_FUZZ_CHECK(rows[1].status.ok(), rows[1].status.ToString());
  PARLEY_FUZZ_CHECK(fields.size() == header.size() && fields.size() == 10,
                    absl::StrCat("CSV row has ", fields.size(), " fields"));
  const std::string expected[] = {
      v1::HistoryKind_Name(record.kind()),
      record.has_time() ? TimeUtil::ToString(record.time()) : "",
      record.session_id(),
      record.interactive_channel(),
      record.audience_level(),
      record.audience_id(),
      record.interaction_point(),
      record.offer(),
      record.treatment_code(),
      history::ParametersText(record.parameters()),
  };
  for (int i = 0; i < 10; ++i) {
    PARLEY_FUZZ_CHECK(fields[i] == expected[i],
                      absl::StrCat("CSV column ", header[i], " reads back as '",
                                   fields[i], "', not '", expected[i], "'"));
  }
}

void CheckJson(const v1::HistoryRecord& record, bool must_convert) {
  const history::HistoryFormatter formatter(v1::JSON_LINES);
  std::string line;
  const absl::Status appended = formatter.AppendRecord(record, &line);
  if (!appended.ok()) {
    PARLEY_FUZZ_CHECK(!must_convert,
                      absl::StrCat("JSON export of ", record.ShortDebugString(),
                                   ": ", appended.ToString()));
    return;
  }
  PARLEY_FUZZ_CHECK(!line.empty() && line.back() == '\n' &&
                        line.find('\n') == line.size() - 1,
                    "a JSON line holds one line");
  if (!ParametersJsonSafe(record)) return;
  v1::HistoryRecord back;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      line.substr(0, line.size() - 1), &back);
  PARLEY_FUZZ_CHECK(parsed.ok(), std::string(parsed.message()));
  // JSON has no place for unknown fields: compare without them.
  v1::HistoryRecord known = record;
  known.DiscardUnknownFields();
  PARLEY_FUZZ_CHECK(
      google::protobuf::util::MessageDifferencer::Equals(known, back),
      absl::StrCat("JSON line ", line, " reads back as ",
                   back.ShortDebugString()));
}

}  // namespace

void CheckHistoryRecord(const v1::HistoryRecord& record, bool from_engine) {
  history::ParametersText(record.parameters());
  const absl::Status valid = history::ValidateHistoryRecord(record);
  if (from_engine) {
    PARLEY_FUZZ_CHECK(valid.ok(), absl::StrCat("the engine logged ",
                                               record.ShortDebugString(), ": ",
                                               valid.ToString()));
  }
  if (!valid.ok()) return;
  const std::string key = history::HistoryKey(record);
  const absl::optional<int64_t> millis = history::HistoryKeyMillis(key);
  PARLEY_FUZZ_CHECK(
      millis.has_value() && *millis == history::RecordMillis(record), key);
  CheckCsv(record);
  CheckJson(record,
            /*must_convert=*/from_engine || ParametersJsonSafe(record));
}

}  // namespace parley::fuzz
