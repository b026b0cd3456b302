#ifndef PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_EXPORTER_H_
#define PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_EXPORTER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "proto/parley/v1/cache_node.pb.h"
#include "proto/parley/v1/history.pb.h"

namespace parley::history {

// Reads one page of a group's history namespace, starting at `page_token`
// ("" for the first page): CacheClient::Scan bound to the namespace.
using HistoryPageReader =
    std::function<absl::StatusOr<v1::ScanResponse>(const std::string& token)>;

// Takes the exported records one by one, oldest first; returning false
// stops the export.
using HistoryRecordVisitor = std::function<bool(const v1::HistoryRecord&)>;

// Asked before each page is read; true stops the export (e.g. the caller
// went away while a long pass is scanning).
using HistoryStopCheck = std::function<bool()>;

struct HistoryExportOptions {
  // Memory for sorting: entries (key and value bytes plus 64 per entry)
  // held at once. A history larger than this is exported in several passes
  // over the tier, each emitting the next oldest part that fits.
  int64_t max_buffered_bytes = int64_t{256} << 20;
};

// What an export did.
struct HistoryExportStats {
  // Full scans of the namespace.
  int passes = 0;
  int64_t records = 0;
  // Entries whose key or value is not a history record (skipped, logged).
  int64_t skipped = 0;
};

// Visits every history record of a namespace exactly once, oldest first
// (by HistoryKey: time in milliseconds, then kind, then treatment code),
// only those at or after `since` when it is set.
//
// A scan of the tier returns partitions one after another, each in key
// order, so the records are gathered and sorted: each pass scans the whole
// namespace keeping the oldest entries not yet emitted that fit in
// options.max_buffered_bytes, then sorts and emits them. Memory stays
// within that bound (plus one scan page); a history that fits takes one
// pass, a larger one ceil(size / bound) passes. Records appended during
// the export may or may not be included. Returns the first scan error, or
// CANCELLED when `visit` or `stopped` (if given) stopped it.
absl::Status ExportHistoryRecords(const HistoryPageReader& read_page,
                                  absl::optional<absl::Time> since,
                                  const HistoryExportOptions& options,
                                  const HistoryRecordVisitor& visit,
                                  HistoryExportStats* stats = nullptr,
                                  const HistoryStopCheck& stopped = nullptr);

}  // namespace parley::history

#endif  // PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_EXPORTER_H_
