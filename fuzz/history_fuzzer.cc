// Fuzzes contact and response history handling (services/runtime/history):
// the input is a serialized parley.fuzz.HistoryInput (skipped when it does
// not parse). Its records go through validation, keys and both export
// formats (see history_checks.h); its keys through HistoryKeyMillis; then
// everything is exported by ExportHistoryRecords from a fake cache tier,
// once with an unbounded sort buffer and once with a small one (several
// passes).
//
// Checked: both exports visit exactly the stored history records at or
// after `since`, each once, oldest key first.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "fuzz/fuzz_inputs.pb.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/history_checks.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/time_util.h"
#include "proto/parley/v1/cache_node.pb.h"
#include "proto/parley/v1/history.pb.h"
#include "services/runtime/history/history_exporter.h"
#include "services/runtime/history/history_key.h"

namespace parley::fuzz {
namespace {

using google::protobuf::util::TimeUtil;

// Entries by partition of a fake tier, each partition in key order, as a
// scan returns them.
std::vector<v1::Entry> ScanOrder(const std::map<std::string, std::string>& kv) {
  constexpr int kPartitions = 3;
  std::vector<std::vector<v1::Entry>> partitions(kPartitions);
  for (const auto& [key, value] : kv) {
    uint32_t hash = 2166136261u;
    for (char c : key) hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
    v1::Entry entry;
    entry.set_namespace_("history/fuzz");
    entry.set_key(key);
    entry.set_value(value);
    partitions[hash % kPartitions].push_back(std::move(entry));
  }
  std::vector<v1::Entry> all;
  for (auto& partition : partitions) {
    for (auto& entry : partition) all.push_back(std::move(entry));
  }
  return all;
}

std::string Bytes(const v1::HistoryRecord& record) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    record.SerializeToCodedStream(&out);
  }
  return bytes;
}

absl::Time RecordTime(const v1::HistoryRecord& record) {
  return absl::FromUnixSeconds(record.time().seconds()) +
         absl::Nanoseconds(record.time().nanos());
}

void CheckExport(const HistoryInput& input) {
  std::map<std::string, std::string> stored;
  for (const v1::HistoryRecord& record : input.records()) {
    if (!history::ValidateHistoryRecord(record).ok()) continue;
    stored[history::HistoryKey(record)] = record.SerializeAsString();
  }
  for (const v1::Entry& entry : input.extra_entries()) {
    stored[entry.key()] = entry.value();
  }

  absl::optional<absl::Time> since;
  if (input.has_since() && input.since().seconds() >= 0 &&
      input.since().seconds() <= TimeUtil::kTimestampMaxSeconds &&
      input.since().nanos() >= 0 && input.since().nanos() <= 999999999) {
    since = absl::FromUnixSeconds(input.since().seconds()) +
            absl::Nanoseconds(input.since().nanos());
  }

  // What an export must visit, in order.
  std::vector<v1::HistoryRecord> expected;
  for (const auto& [key, value] : stored) {
    const absl::optional<int64_t> millis = history::HistoryKeyMillis(key);
    if (!millis.has_value()) continue;
    if (since.has_value() && *millis < absl::ToUnixMillis(*since)) continue;
    v1::HistoryRecord record;
    if (!record.ParseFromString(value)) continue;
    if (since.has_value() && RecordTime(record) < *since) continue;
    expected.push_back(std::move(record));
  }

  const std::vector<v1::Entry> entries = ScanOrder(stored);
  const size_t page_size =
      input.page_size() == 0 ? 10 : 1 + input.page_size() % 64;
  int reads = 0;
  const history::HistoryPageReader read_page =
      [&](const std::string& token) -> absl::StatusOr<v1::ScanResponse> {
    ++reads;
    size_t start = 0;
    if (!token.empty()) {
      PARLEY_FUZZ_CHECK(absl::SimpleAtoi(token, &start), token);
    }
    v1::ScanResponse page;
    size_t end = std::min(entries.size(), start + page_size);
    for (size_t i = start; i < end; ++i) *page.add_entries() = entries[i];
    if (end < entries.size()) page.set_next_page_token(absl::StrCat(end));
    return page;
  };

  const int64_t bounded = input.max_buffered_bytes() % 4096;
  for (const int64_t buffer : {std::numeric_limits<int64_t>::max(), bounded}) {
    history::HistoryExportOptions options;
    options.max_buffered_bytes = buffer;
    std::vector<v1::HistoryRecord> visited;
    history::HistoryExportStats stats;
    reads = 0;
    const absl::Status exported = history::ExportHistoryRecords(
        read_page, since, options,
        [&](const v1::HistoryRecord& record) {
          visited.push_back(record);
          return true;
        },
        &stats);
    const std::string where = absl::StrCat(
        "export with a ", buffer, "-byte buffer, ", stored.size(),
        " entries, pages of ", page_size, ": ", stats.passes, " passes");
    PARLEY_FUZZ_CHECK(exported.ok(),
                      absl::StrCat(where, ": ", exported.ToString()));
    PARLEY_FUZZ_CHECK(
        visited.size() == expected.size() &&
            stats.records == static_cast<int64_t>(expected.size()),
        absl::StrCat(where, ": visited ", visited.size(), " records, not ",
                     expected.size()));
    for (size_t i = 0; i < visited.size(); ++i) {
      // Bytes, not MessageDifferencer: a NaN parameter equals itself here.
      PARLEY_FUZZ_CHECK(Bytes(visited[i]) == Bytes(expected[i]),
                        absl::StrCat(where, ": record ", i, " is ",
                                     visited[i].ShortDebugString(), ", not ",
                                     expected[i].ShortDebugString()));
    }
  }
}

}  // namespace
}  // namespace parley::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::fuzz;
  if (size > 64 * 1024) return -1;
  HistoryInput input;
  if (!ParseInput(data, size, &input)) return 0;
  if (input.records_size() + input.extra_entries_size() > 256) return -1;
  for (const parley::v1::HistoryRecord& record : input.records()) {
    CheckHistoryRecord(record, /*from_engine=*/false);
  }
  for (const std::string& key : input.keys()) {
    const absl::optional<int64_t> millis =
        parley::history::HistoryKeyMillis(key);
    if (millis.has_value()) {
      PARLEY_FUZZ_CHECK(
          *millis >= 0 && key[parley::history::kKeyTimeDigits] == '/', key);
    }
  }
  CheckExport(input);
  return 0;
}
