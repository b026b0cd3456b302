#ifndef PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_STORE_H_
#define PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "cache_node/cache_client.h"
#include "proto/parley/v1/history.pb.h"
#include "services/runtime/history/history_exporter.h"

namespace parley::history {

struct HistoryStoreOptions {
  // Appends in flight; beyond this Append waits (back-pressure rather than
  // losing records while the tier is slow), for at most `max_append_wait`,
  // then goes ahead anyway (never stuck, e.g. on a thread the answers need).
  int max_in_flight = 4096;
  absl::Duration max_append_wait = absl::Seconds(5);
  HistoryExportOptions export_options;
};

// A server group's contact and response history in the cache tier:
// namespace "history.<group>", one entry per record under HistoryKey, no
// expiry. A retried append writes the same key, so the history holds every
// event exactly once. Thread-safe.
class HistoryStore {
 public:
  // The result of one append.
  using AppendDone = std::function<void(const absl::Status&)>;

  // `client` must outlive the store. INVALID_ARGUMENT when the group's
  // namespace is not a valid cache namespace.
  static absl::StatusOr<std::unique_ptr<HistoryStore>> Create(
      cache::CacheClient* client, absl::string_view group,
      HistoryStoreOptions options = HistoryStoreOptions());

  // Waits for appends in flight.
  ~HistoryStore();

  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // The namespace of `group`'s history.
  static std::string Namespace(absl::string_view group);
  const std::string& ns() const { return ns_; }

  // Stores `record` without waiting (unless max_in_flight appends are in
  // flight: see HistoryStoreOptions); `done`, if given, runs with the
  // outcome on a cache-client
  // thread, or at once for an invalid record (it must not call Flush).
  // Failures are also logged with the record, so an operator can replay it.
  void Append(const v1::HistoryRecord& record, AppendDone done = nullptr);

  // Waits until every append so far completed (for tests and shutdown).
  // Returns an error counting the appends that failed since the last
  // Flush, or DEADLINE_EXCEEDED if they did not complete within `timeout`.
  absl::Status Flush(absl::Duration timeout = absl::InfiniteDuration());

  // Appends stored, and appends that failed (invalid records included),
  // since the store was created.
  uint64_t stored() const { return stored_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

  // Visits the stored records oldest first, only those at or after `since`
  // when set; see ExportHistoryRecords. Blocks while scanning the tier;
  // `stopped`, if given, is asked before each page.
  absl::Status Export(absl::optional<absl::Time> since,
                      const HistoryRecordVisitor& visit,
                      HistoryExportStats* stats = nullptr,
                      const HistoryStopCheck& stopped = nullptr) const;

 private:
  HistoryStore(cache::CacheClient* client, std::string ns,
               HistoryStoreOptions options);

  void OnStored(const std::string& key, const v1::HistoryRecord& record,
                const absl::Status& status, const AppendDone& done);

  cache::CacheClient* const client_;
  const std::string ns_;
  const HistoryStoreOptions options_;
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_since_flush_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_failure_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> stored_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace parley::history

#endif  // PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_STORE_H_
