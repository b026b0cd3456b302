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
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/coordinator/durable_store.h"
#include "services/coordinator/partition_assignment.h"

namespace parley::coordinator {

// Keeps the cache tier's partition table: recomputes it from the live cache
// nodes with as little movement as possible, bumps its epoch on every
// change, persists it and pushes it to watchers. A partition none of whose
// replicas is live keeps them (it is unavailable meanwhile) for up to
// `orphan_wait`, so that a copy coming back (a node whose lease lapsed, a
// restart) still holds its writes; after that it starts empty on live
// nodes. Thread-safe.
class PartitionTableManager {
 public:
  // Receives each new table; runs under the manager's lock.
  using WatchCallback = std::function<void(const v1::PartitionTable&)>;
  using Clock = std::function<absl::Time()>;

  // Loads the persisted table. Fails if it was built with another
  // partition count: changing it would move every key.
  static absl::StatusOr<std::unique_ptr<PartitionTableManager>> Load(
      DurableStore* store, uint32_t partition_count,
      uint32_t replication_factor,
      absl::Duration orphan_wait = absl::Minutes(5),
      Clock clock = [] { return absl::Now(); });

  // Applies a cache-node membership event (FULL_VIEW replaces the set) and
  // recomputes the table if the set of nodes or an address changed.
  absl::Status OnMembershipEvent(const v1::MembershipEvent& event);

  // Between these two, membership events update the node set without
  // recomputing; EndBatch recomputes once if they changed it. Leases that
  // lapse in one sweep thus leave the table together, so a partition whose
  // every replica lapsed is seen as such (and waits for them) instead of
  // moving, one lapse at a time, onto nodes that never got its data.
  void BeginBatch();
  absl::Status EndBatch();

  // Recomputes the table once a partition without a live replica has
  // waited `orphan_wait`; called periodically.
  absl::Status Tick();

  // Partitions that currently wait for one of their replicas to come back.
  int WaitingPartitions() const;

  // The current table.
  v1::PartitionTable Get() const;

  // Registers a watcher and fills `current`, atomically.
  uint64_t Watch(WatchCallback callback, v1::PartitionTable* current);

  // Stops calling watcher `id`.
  void Unwatch(uint64_t id);

 private:
  PartitionTableManager(DurableStore* store, uint32_t partition_count,
                        uint32_t replication_factor, absl::Duration orphan_wait,
                        Clock clock)
      : store_(store),
        partition_count_(partition_count),
        replication_factor_(replication_factor),
        orphan_wait_(orphan_wait),
        clock_(std::move(clock)) {}

  // Recomputes from `nodes_`; persists and notifies when it changed.
  absl::Status Recompute() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Puts back in `next` the replicas of partitions that have none live in
  // `previous`, until they have waited orphan_wait_.
  void KeepOrphanedPartitions(const std::vector<ReplicaList>& previous,
                              std::vector<ReplicaList>& next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  DurableStore* const store_;
  const uint32_t partition_count_;
  const uint32_t replication_factor_;
  const absl::Duration orphan_wait_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  int batch_depth_ ABSL_GUARDED_BY(mu_) = 0;
  bool recompute_pending_ ABSL_GUARDED_BY(mu_) = false;
  // Partitions kept on replicas none of which is live: since when.
  absl::flat_hash_map<uint32_t, absl::Time> orphaned_since_
      ABSL_GUARDED_BY(mu_);
  v1::PartitionTable table_ ABSL_GUARDED_BY(mu_);
  // Live cache nodes: id -> address.
  std::map<std::string, std::string> nodes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, WatchCallback> watchers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_watcher_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_PARTITION_TABLE_MANAGER_H_
