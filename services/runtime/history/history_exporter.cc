#include "services/runtime/history/history_exporter.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/history/history_key.h"
#include "spdlog/spdlog.h"

namespace parley::history {
namespace {

// Bookkeeping counted per buffered entry on top of its bytes.
constexpr int64_t kEntryOverhead = 64;

struct Buffered {
  std::string key;
  std::string value;
};

int64_t Cost(const Buffered& entry) {
  return static_cast<int64_t>(entry.key.size() + entry.value.size()) +
         kEntryOverhead;
}

// Orders a max-heap by key: the newest entry on top.
bool KeyLess(const Buffered& a, const Buffered& b) { return a.key < b.key; }

absl::Time RecordTime(const v1::HistoryRecord& record) {
  return absl::FromUnixSeconds(record.time().seconds()) +
         absl::Nanoseconds(record.time().nanos());
}

}  // namespace

absl::Status ExportHistoryRecords(const HistoryPageReader& read_page,
                                  absl::optional<absl::Time> since,
                                  const HistoryExportOptions& options,
                                  const HistoryRecordVisitor& visit,
                                  HistoryExportStats* stats,
                                  const HistoryStopCheck& stopped) {
  HistoryExportStats local_stats;
  if (stats == nullptr) stats = &local_stats;
  *stats = HistoryExportStats();
  const absl::optional<int64_t> since_millis =
      since.has_value() ? absl::optional<int64_t>(absl::ToUnixMillis(*since))
                        : absl::nullopt;
  // Everything up to this key was emitted by earlier passes.
  absl::optional<std::string> emitted_up_to;
  while (true) {
    ++stats->passes;
    // The oldest entries after `emitted_up_to`, as a max-heap by key; all
    // entries from `limit` on are left for a later pass.
    std::vector<Buffered> heap;
    int64_t bytes = 0;
    absl::optional<std::string> limit;
    std::string token;
    do {
      if (stopped && stopped()) {
        return absl::CancelledError("the history export was stopped");
      }
      absl::StatusOr<v1::ScanResponse> page = read_page(token);
      if (!page.ok()) {
        return absl::Status(page.status().code(),
                            absl::StrCat("reading the history failed: ",
                                         page.status().message()));
      }
      for (v1::Entry& entry : *page->mutable_entries()) {
        const absl::optional<int64_t> millis = HistoryKeyMillis(entry.key());
        if (!millis.has_value()) {
          if (stats->passes == 1) {
            ++stats->skipped;
            spdlog::warn(
                "history export: skipping entry '{}': not a history "
                "record key",
                absl::CHexEscape(entry.key()));
          }
          continue;
        }
        if (since_millis.has_value() && *millis < *since_millis) continue;
        if (emitted_up_to.has_value() && entry.key() <= *emitted_up_to) {
          continue;
        }
        if (limit.has_value() && entry.key() >= *limit) continue;
        heap.push_back(Buffered{std::move(*entry.mutable_key()),
                                std::move(*entry.mutable_value())});
        bytes += Cost(heap.back());
        std::push_heap(heap.begin(), heap.end(), KeyLess);
        while (bytes > options.max_buffered_bytes && heap.size() > 1) {
          std::pop_heap(heap.begin(), heap.end(), KeyLess);
          bytes -= Cost(heap.back());
          limit = std::move(heap.back().key);
          heap.pop_back();
        }
      }
      token = page->next_page_token();
    } while (!token.empty());

    std::sort_heap(heap.begin(), heap.end(), KeyLess);
    for (size_t i = 0; i < heap.size(); ++i) {
      if (i > 0 && heap[i].key == heap[i - 1].key) continue;  // Once each.
      v1::HistoryRecord record;
      if (!record.ParseFromString(heap[i].value)) {
        ++stats->skipped;
        spdlog::warn(
            "history export: skipping entry '{}': the value is not "
            "a history record",
            absl::CHexEscape(heap[i].key));
        continue;
      }
      if (since.has_value() && RecordTime(record) < *since) continue;
      if (!visit(record)) {
        return absl::CancelledError("the history export was stopped");
      }
      ++stats->records;
    }
    // Nothing was left for a later pass: done.
    if (!limit.has_value()) return absl::OkStatus();
    emitted_up_to = std::move(heap.back().key);
  }
}

}  // namespace parley::history
