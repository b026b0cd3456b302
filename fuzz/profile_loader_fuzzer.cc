// Fuzzes the CSV profile bulk load: the input is a CSV file (header row,
// then rows), read by CsvReader and loaded by ProfileLoader for the demo
// channel's Customer level and for a level with a two-field audience ID and
// an attribute of every type. Field-value parsing and the profile codec are
// also run on the raw input.
//
// Checked beyond "no crash, no sanitizer error":
//  - feeding the file in one chunk or in many small ones (split anywhere)
//    gives the same records, rows, errors and report;
//  - every accepted row has one value per field, the key AudienceKey of its
//    audience ID (within kMaxAudienceKeyBytes), values a client can parse
//    (UTF-8), and attributes that EncodeProfile/DecodeProfile read back;
//  - a field value ParseFieldValue accepts survives serialization.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "fuzz/fuzz_support.h"
#include "google/protobuf/text_format.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/runtime/profiles/csv_reader.h"
#include "services/runtime/profiles/field_value.h"
#include "services/runtime/profiles/load_report.h"
#include "services/runtime/profiles/profile_codec.h"
#include "services/runtime/profiles/profile_loader.h"
#include "services/runtime/profiles/profile_row_parser.h"

namespace parley::fuzz {
namespace {

using profiles::CsvReader;
using profiles::CsvRecord;
using profiles::LoadOptions;
using profiles::LoadReport;
using profiles::ProfileLoader;
using profiles::ProfileRow;

constexpr size_t kMaxInputBytes = 16 * 1024;

// The audience levels loaded: the demo channel's own, and one with every
// field type and a two-field audience ID.
const std::vector<v1::AudienceLevel>& Levels() {
  static const std::vector<v1::AudienceLevel>* const levels = [] {
    auto* list = new std::vector<v1::AudienceLevel>();
    const v1::InteractiveChannel& demo = DemoChannel();
    PARLEY_FUZZ_CHECK(demo.audience_levels_size() > 0, "demo levels");
    list->push_back(demo.audience_levels(0));
    v1::AudienceLevel household;
    PARLEY_FUZZ_CHECK(
        google::protobuf::TextFormat::ParseFromString(
            R"pb(
              name: "Household"
              audience_id_fields { name: "HouseholdID" type: STRING }
              audience_id_fields { name: "Region" type: NUMBER }
              profile_attributes { name: "Size" type: NUMBER }
              profile_attributes { name: "Moved" type: DATETIME }
              profile_attributes { name: "Owner" type: BOOLEAN }
              profile_attributes { name: "Street" type: STRING }
            )pb",
            &household),
        "household level");
    list->push_back(household);
    return list;
  }();
  return *levels;
}

// Chunk sizes for `size` input bytes: a small deterministic pseudo-random
// walk (sizes 0 to 16), so splits land inside quotes, CRLFs and the byte
// order mark.
std::vector<size_t> ChunkSizes(size_t size) {
  std::vector<size_t> sizes;
  uint32_t state = static_cast<uint32_t>(size) * 2654435761u + 1;
  size_t total = 0;
  while (total < size) {
    state = state * 1103515245u + 12345u;
    const size_t chunk = (state >> 16) % 17;
    sizes.push_back(chunk);
    total += chunk;
  }
  return sizes;
}

std::string DescribeRecords(const std::vector<CsvRecord>& records) {
  std::string text;
  for (const CsvRecord& record : records) {
    absl::StrAppend(&text, record.line, ":");
    for (const std::string& field : record.fields) {
      absl::StrAppend(&text, "[", field, "]");
    }
    absl::StrAppend(&text, " ", record.status.ToString(), "\n");
  }
  return text;
}

std::string ReadRecords(absl::string_view input, bool chunked) {
  CsvReader reader;
  std::vector<CsvRecord> records;
  if (chunked) {
    size_t pos = 0;
    for (size_t chunk : ChunkSizes(input.size())) {
      reader.Feed(input.substr(pos, chunk), &records);
      pos += std::min(chunk, input.size() - pos);
    }
  } else {
    reader.Feed(input, &records);
  }
  reader.Finish(&records);
  PARLEY_FUZZ_CHECK(
      reader.bytes_consumed() == static_cast<int64_t>(input.size()),
      "bytes_consumed");
  return DescribeRecords(records);
}

std::string DescribeValues(const std::vector<v1::NameValue>& values) {
  std::string text;
  for (const v1::NameValue& value : values) {
    absl::StrAppend(&text, "{", value.ShortDebugString(), "}");
  }
  return text;
}

// Checks one accepted row of `level`.
void CheckRow(const v1::AudienceLevel& level, const ProfileRow& row) {
  PARLEY_FUZZ_CHECK(row.audience_id.size() ==
                        static_cast<size_t>(level.audience_id_fields_size()),
                    "audience ID fields");
  PARLEY_FUZZ_CHECK(row.attributes.size() ==
                        static_cast<size_t>(level.profile_attributes_size()),
                    "attributes");
  PARLEY_FUZZ_CHECK(row.key == profiles::AudienceKey(row.audience_id), row.key);
  PARLEY_FUZZ_CHECK(row.key.size() <= profiles::kMaxAudienceKeyBytes,
                    "key too long");
  for (const v1::NameValue& value : row.audience_id) {
    PARLEY_FUZZ_CHECK(value.value_case() != v1::NameValue::VALUE_NOT_SET,
                      "empty audience ID value accepted");
    PARLEY_FUZZ_CHECK(RoundTrips(value), value.ShortDebugString());
  }
  for (const v1::NameValue& value : row.attributes) {
    PARLEY_FUZZ_CHECK(RoundTrips(value), value.ShortDebugString());
  }
  const std::string encoded = profiles::EncodeProfile(row.attributes);
  absl::StatusOr<std::vector<v1::NameValue>> decoded =
      profiles::DecodeProfile(encoded);
  PARLEY_FUZZ_CHECK(decoded.ok(), decoded.status().ToString());
  PARLEY_FUZZ_CHECK(DescribeValues(*decoded) == DescribeValues(row.attributes),
                    "profile codec round trip");
}

// Loads `input` for `level` and describes everything observable.
std::string Load(const v1::AudienceLevel& level, absl::string_view input,
                 bool chunked, int max_kept_errors) {
  std::string rows;
  int accepted = 0;
  ProfileLoader::RowSink sink = [&](const ProfileRow& row) -> absl::Status {
    CheckRow(level, row);
    // A failing sink (e.g. the cache tier going away) stops the load.
    if (absl::StartsWith(row.key, "STOP")) {
      return absl::UnavailableError("sink refused the row");
    }
    ++accepted;
    absl::StrAppend(&rows, row.line, " ", row.key, " ",
                    DescribeValues(row.audience_id), " ",
                    DescribeValues(row.attributes), "\n");
    return absl::OkStatus();
  };
  LoadOptions options;
  options.max_kept_errors = max_kept_errors;
  ProfileLoader loader(level, sink, options);
  std::string statuses;
  if (chunked) {
    size_t pos = 0;
    for (size_t chunk : ChunkSizes(input.size())) {
      const absl::Status fed = loader.Feed(input.substr(pos, chunk));
      pos += std::min(chunk, input.size() - pos);
      if (!fed.ok()) {
        statuses = fed.ToString();
        break;
      }
    }
  } else {
    const absl::Status fed = loader.Feed(input);
    if (!fed.ok()) statuses = fed.ToString();
  }
  const absl::Status finished = loader.Finish();
  PARLEY_FUZZ_CHECK(statuses.empty() || !finished.ok(),
                    "a failed load finished");
  absl::StrAppend(&statuses, " / ", finished.ToString());

  const LoadReport& report = loader.report();
  PARLEY_FUZZ_CHECK(report.rows_accepted == accepted, "rows_accepted");
  PARLEY_FUZZ_CHECK(
      report.rows_accepted + report.rows_rejected <= report.rows_read,
      "row counts");
  PARLEY_FUZZ_CHECK(
      report.errors.size() <= static_cast<size_t>(max_kept_errors) &&
          static_cast<int64_t>(report.errors.size()) + report.errors_not_kept ==
              report.rows_rejected,
      "error counts");
  std::string errors;
  for (const profiles::RowError& error : report.errors) {
    absl::StrAppend(&errors, error.line, " [", error.column, "] ",
                    error.message, "\n");
  }
  // bytes_processed is progress: it differs by design while a load that
  // failed stopped part way, so it is compared only for complete loads.
  const int64_t bytes = finished.ok() ? report.bytes_processed : -1;
  if (finished.ok()) {
    PARLEY_FUZZ_CHECK(bytes == static_cast<int64_t>(input.size()),
                      "bytes_processed");
  }
  return absl::StrCat(statuses, "\nread ", report.rows_read, " accepted ",
                      report.rows_accepted, " rejected ", report.rows_rejected,
                      " not kept ", report.errors_not_kept, " bytes ", bytes,
                      "\n", rows, errors);
}

void CheckFieldValues(absl::string_view text) {
  for (v1::FieldType type :
       {v1::STRING, v1::NUMBER, v1::DATETIME, v1::BOOLEAN}) {
    absl::StatusOr<v1::NameValue> value =
        profiles::ParseFieldValue("Field", type, text);
    if (value.ok()) PARLEY_FUZZ_CHECK(RoundTrips(*value), "field value");
  }
  profiles::DecodeProfile(text).IgnoreError();
}

}  // namespace
}  // namespace parley::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::fuzz;
  if (size > kMaxInputBytes) return -1;
  const absl::string_view input = AsText(data, size);

  const std::string whole = ReadRecords(input, /*chunked=*/false);
  PARLEY_FUZZ_CHECK(ReadRecords(input, /*chunked=*/true) == whole,
                    "CsvReader records depend on how the input is split");

  for (const parley::v1::AudienceLevel& level : Levels()) {
    for (int max_kept : {100, 2}) {
      const std::string one = Load(level, input, /*chunked=*/false, max_kept);
      const std::string many = Load(level, input, /*chunked=*/true, max_kept);
      PARLEY_FUZZ_CHECK(one == many,
                        absl::StrCat("level ", level.name(),
                                     ": the load depends on how the input is "
                                     "split:\n--- one chunk\n",
                                     one, "--- many chunks\n", many));
    }
  }
  if (size <= 256) CheckFieldValues(input);
  return 0;
}
