#ifndef PARLEY_SERVICES_COORDINATOR_PARTITION_TABLE_MANAGER_H_
#define PARLEY_SERVICES_COORDINATOR_PARTITION_TABLE_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/coordinator/durable_store.h"

namespace parley::coordinator {

// Keeps the cache tier's partition table: recomputes it from the live cache
// nodes with as little movement as possible, bumps its epoch on every
// change, persists it and pushes it to watchers. Thread-safe.
class PartitionTableManager {
 public:
  // Receives each new table; runs under the manager's lock.
  using WatchCallback = std::function<void(const v1::PartitionTable&)>;

  // Loads the persisted table. Fails if it was built with another
  // partition count: changing it would move every key.
  static absl::StatusOr<std::unique_ptr<PartitionTableManager>> Load(
      DurableStore* store, uint32_t partition_count,
      uint32_t replication_factor);

  // Applies a cache-node membership event (FULL_VIEW replaces the set) and
  // recomputes the table if the set of nodes or an address changed.
  absl::Status OnMembershipEvent(const v1::MembershipEvent& event);

  // The current table.
  v1::PartitionTable Get() const;

  // Registers a watcher and fills `current`, atomically.
  uint64_t Watch(WatchCallback callback, v1::PartitionTable* current);

  // Stops calling watcher `id`.
  void Unwatch(uint64_t id);

 private:
  PartitionTableManager(DurableStore* store, uint32_t partition_count,
                        uint32_t replication_factor)
      : store_(store),
        partition_count_(partition_count),
        replication_factor_(replication_factor) {}

  // Recomputes from `nodes_`; persists and notifies when it changed.
  absl::Status Recompute() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  DurableStore* const store_;
  const uint32_t partition_count_;
  const uint32_t replication_factor_;
  mutable absl::Mutex mu_;
  v1::PartitionTable table_ ABSL_GUARDED_BY(mu_);
  // Live cache nodes: id -> address.
  std::map<std::string, std::string> nodes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, WatchCallback> watchers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_watcher_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_PARTITION_TABLE_MANAGER_H_
