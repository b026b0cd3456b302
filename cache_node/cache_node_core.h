#ifndef PARLEY_CACHE_NODE_CACHE_NODE_CORE_H_
#define PARLEY_CACHE_NODE_CACHE_NODE_CORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache_node/free_space_monitor.h"
#include "cache_node/local_write_queue.h"
#include "cache_node/node_channels.h"
#include "cache_node/partition_store.h"
#include "cache_node/replication_link.h"
#include "cache_node/table_view.h"
#include "grpcpp/client_context.h"
#include "proto/parley/v1/cache_node.pb.h"
#include "proto/parley/v1/coordinator.pb.h"

namespace parley::cache {

// How a cache node runs.
struct CacheNodeOptions {
  std::string node_id;
  // Copies that must hold a write before it is acknowledged (primary
  // included); 0 means a majority of the replication factor. Capped at the
  // replicas a partition has.
  int write_quorum = 0;
  // Largest value accepted, in bytes.
  size_t max_value_bytes = 4 << 20;
  // Catch-up streams: chunk size and bandwidth cap (0: none).
  size_t catch_up_chunk_bytes = 1 << 20;
  uint64_t catch_up_bytes_per_second = 64 << 20;
  // How long a copy of a partition that this node no longer replicates is
  // kept (served to catch-ups of the nodes taking over) before it is
  // dropped: a node whose lease lapsed under load may still hold writes
  // that the new replicas lack. Zero drops it at once.
  absl::Duration keep_left_copies_for = absl::Seconds(30);
};

// Where a request for a partition must go.
struct Route {
  // This node is the partition's serving primary.
  bool local = false;
  // Otherwise: the primary's id and address.
  std::string primary_id;
  std::string primary_address;
};

// Marks an error status as the answer to an operation this node certainly
// did not apply (the partition's primary moved, or is being taken over), so
// that a client may retry it, a compare-and-set included.
absl::Status NotApplied(absl::Status status);

// True for a status marked by NotApplied.
bool IsNotApplied(const absl::Status& status);

// Called with the outcome of a write once enough copies hold it.
template <typename Response>
using Done = std::function<void(absl::StatusOr<Response>)>;

// A cache node's domain core: partition roles from the coordinator's
// table, the primary's versioned, replicated writes (acknowledged once the
// write quorum holds them), backups applying writes in version order with
// gap detection, catch-up from other copies when a node is promoted, gains
// a partition or restarts, and term fencing so that only one primary per
// partition can have writes acknowledged. The gRPC service is a thin
// adapter; unit tests drive this without a network for one node.
class CacheNodeCore {
 public:
  // `store` is not owned and must outlive the core.
  CacheNodeCore(CacheNodeOptions options, PartitionStore* store,
                std::shared_ptr<NodeChannels> channels);
  ~CacheNodeCore();

  const std::string& node_id() const { return options_.node_id; }

  // Adopts a new partition table: assigns roles, starts promotions and
  // catch-ups, drops partitions this node no longer holds.
  void OnTable(const v1::PartitionTable& table);

  // The table this node uses (null before the first).
  std::shared_ptr<const TableView> table() const;

  // True once a table arrived.
  bool HasTable() const { return table() != nullptr; }

  // Sets the default time to live of the session namespace of each group
  // ("sessions/<group>" -> the group's session timeout), from the
  // coordinator's configuration under groups/.
  void OnGroupConfig(const v1::ConfigEvent& event);

  // Where requests for (namespace, key) go; UNAVAILABLE when the partition
  // has no primary or this node's primary is still catching up.
  absl::StatusOr<Route> RouteFor(absl::string_view ns, absl::string_view key,
                                 uint32_t* partition) const;

  // Operations on a partition this node is the serving primary of. Inputs
  // are validated here. Writes complete through `done` once the write
  // quorum holds them (possibly on another thread).
  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& request);
  void Put(const v1::PutRequest& request, Done<v1::PutResponse> done);
  void Delete(const v1::DeleteRequest& request, Done<v1::DeleteResponse> done);
  void Touch(const v1::TouchRequest& request, Done<v1::TouchResponse> done);

  // Live entries of `ns` in one partition this node is primary of.
  absl::StatusOr<std::vector<v1::Entry>> ScanPartition(
      uint32_t partition, absl::string_view ns, absl::string_view prefix,
      absl::string_view start_after, size_t limit);

  // A backup's side of replication.
  v1::ReplicateResponse Replicate(const v1::ReplicateRequest& request);

  // A source's side of catch-up: fences the requester's term, then streams
  // the partition's entries above `after_version` in chunks; `emit`
  // returning false stops. Returns the snapshot version.
  absl::StatusOr<uint64_t> ServeCatchUp(
      const v1::CatchUpRequest& request,
      const std::function<bool(std::vector<v1::ReplicatedWrite>&)>& emit);

  // Counters and per-partition state.
  v1::StatsResponse Stats() const;

  // Keeps this node's data while it hands partitions over (no drops).
  void SetDraining() { draining_ = true; }

  // How writes refused for lack of disk space (the data_dir is down to the
  // space it keeps free) are answered.
  enum class LowDiskPlan {
    // This node hands its partitions over to the others (or has not decided
    // yet): UNAVAILABLE, retry; the others take the writes in a moment.
    kHandOver,
    // This node stays in the tier: RESOURCE_EXHAUSTED until space is freed.
    kStay,
  };
  void SetLowDiskPlan(LowDiskPlan plan) {
    stay_when_low_ = plan == LowDiskPlan::kStay;
  }

  // While set, partitions that tables no longer give this node are kept
  // (not dropped): a node that left the tier for lack of disk space keeps
  // its copies, so that it catches up instead of copying everything when it
  // joins again. Cleared, the next table drops the copies it was not given.
  void SetKeepData(bool keep) { keep_data_ = keep; }

  // True when no catch-up stream is being served and none ran for `quiet`.
  bool CatchUpsQuiet(absl::Duration quiet) const;

  // Stops background work.
  void Stop();

  // Counts a request forwarded to another node.
  void CountForward() { forwards_.fetch_add(1, std::memory_order_relaxed); }

 private:
  enum class Role { kNone, kPrimary, kBackup };

  struct PartitionState {
    absl::Mutex mu;
    Role role ABSL_GUARDED_BY(mu) = Role::kNone;
    // The primary's term in the table this node follows.
    uint64_t term ABSL_GUARDED_BY(mu) = 0;
    // Highest term seen (table, replication, catch-up); older ones are
    // refused.
    uint64_t fence ABSL_GUARDED_BY(mu) = 0;
    // Primary: last version written. Backup: contiguous version held.
    uint64_t last_version ABSL_GUARDED_BY(mu) = 0;
    // Primary: promotion finished, serving requests.
    bool serving ABSL_GUARDED_BY(mu) = false;
    // Bumped by every role change, so stale background tasks stop.
    uint64_t generation ABSL_GUARDED_BY(mu) = 0;
    bool catch_up_queued ABSL_GUARDED_BY(mu) = false;
    // Backup: writes applied past a gap, previous version -> version, so
    // the contiguous version can move through them once the gap is filled.
    std::map<uint64_t, uint64_t> pending_chain ABSL_GUARDED_BY(mu);
    // Backup: caught up at least once from the primary of `term` while it
    // served (so this copy holds every write that primary held then).
    bool synced ABSL_GUARDED_BY(mu) = false;
    // The copies (replicas) of the partition named by the tables of `term`
    // this node followed in its role, and the smallest write quorum of
    // those tables.
    std::set<std::string> term_copies ABSL_GUARDED_BY(mu);
    int term_quorum ABSL_GUARDED_BY(mu) = 0;
    // Not a replica: the copy held is dropped by a task due later
    // (CacheNodeOptions::keep_left_copies_for).
    bool drop_scheduled ABSL_GUARDED_BY(mu) = false;
  };

  // What a promotion knows of the term before it (see Promote).
  struct PromotionBasis {
    // This node was a synced backup in the previous term, and no term came
    // between that one and the new one.
    bool settled = false;
    // That term's copies and write quorum (PartitionState::term_copies).
    std::set<std::string> copies;
    int quorum = 0;
  };

  // A write the primary is about to make, decided under the partition lock.
  using WriteDecision = std::function<absl::StatusOr<v1::ReplicatedWrite>(
      const std::optional<StoredEntry>& current)>;

  // Runs the primary's write path: checks the role, reads the current
  // entry (when `read_current`), lets `decide` build the write (or fail),
  // stores and replicates it; `done` gets the write once the quorum holds it.
  void WritePrimary(
      uint32_t partition, absl::string_view ns, absl::string_view key,
      bool read_current, const WriteDecision& decide,
      std::function<void(absl::StatusOr<v1::ReplicatedWrite>)> done);

  // Checks that this node serves `partition` as primary.
  absl::Status CheckServingLocked(uint32_t partition, PartitionState& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu);

  // Counts a failed store write and logs it (rate-limited).
  void NoteStoreError(absl::string_view what, const absl::Status& status);

  // Raises a partition's fence (persisted) to `term`.
  void RaiseFenceLocked(uint32_t partition, PartitionState& state,
                        uint64_t term) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu);

  int64_t ExpiryFor(absl::string_view ns, uint64_t ttl_ms) const;
  std::shared_ptr<ReplicationLink> LinkTo(const std::string& node,
                                          const TableView& table);

  // Background tasks.
  void Enqueue(std::function<void()> task);
  // Runs `task` on a worker once `due` has passed (dropped on Stop).
  void EnqueueAt(absl::Time due, std::function<void()> task);
  void RunWorker();
  // Drops the copy of `partition` kept since the role change of
  // `generation`, unless the role changed again or data is kept.
  void DropLeftCopy(uint32_t partition, uint64_t generation);
  void Promote(uint32_t partition, uint64_t generation, uint64_t term,
               std::vector<std::pair<std::string, std::string>> sources,
               PromotionBasis basis);
  void CatchUpFromPrimary(uint32_t partition, uint64_t generation);
  // Pulls a partition's entries above `after` from `address`; returns the
  // highest version seen (snapshot included). `from_backup`: a backup
  // catching up from its primary, which answers only while it serves.
  absl::StatusOr<uint64_t> PullFrom(const std::string& address,
                                    uint32_t partition, uint64_t after,
                                    uint64_t term, bool from_backup);
  // The write quorum of `partition` under `view`: copies that must hold a
  // write before it is acknowledged, the primary included.
  int WriteQuorum(const TableView& view, uint32_t partition) const;
  // Starts (`reset`) or extends a role's record of the partition's copies
  // (PartitionState::term_copies) with `view`'s.
  void NoteCopiesLocked(PartitionState& state, const TableView& view,
                        uint32_t partition, bool reset) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu);
  bool GenerationIs(uint32_t partition, uint64_t generation);
  // Moves a backup's contiguous version through writes already applied.
  static void FollowChainLocked(PartitionState& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu);
  // Cancels the pulls of partitions whose role changed.
  void CancelPulls(const std::vector<uint32_t>& partitions);

  const CacheNodeOptions options_;
  PartitionStore* const store_;
  const std::shared_ptr<NodeChannels> channels_;
  // The primary's own copy of its writes (stored after they were sent to
  // the backups).
  const std::unique_ptr<LocalWriteQueue> local_writes_;

  mutable absl::Mutex table_mu_;
  std::shared_ptr<const TableView> table_ ABSL_GUARDED_BY(table_mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<ReplicationLink>> links_
      ABSL_GUARDED_BY(table_mu_);
  absl::flat_hash_map<std::string, int64_t> session_ttl_ms_
      ABSL_GUARDED_BY(table_mu_);
  // The last address every table named for each node: a promotion pulls
  // from a copy whose node the current tables give no address (its lease
  // lapsed) at the address it had. Only OnTable uses it.
  absl::flat_hash_map<std::string, std::string> known_addresses_;

  // Sized by the first table; never resized (the partition count is fixed).
  std::vector<std::unique_ptr<PartitionState>> partitions_;
  absl::Mutex partitions_init_mu_;

  absl::Mutex work_mu_;
  std::deque<std::function<void()>> work_ ABSL_GUARDED_BY(work_mu_);
  std::multimap<absl::Time, std::function<void()>> delayed_work_
      ABSL_GUARDED_BY(work_mu_);
  // Bumped by EnqueueAt, so that waiting workers see a nearer due time.
  uint64_t delayed_added_ ABSL_GUARDED_BY(work_mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(work_mu_) = false;
  std::vector<std::thread> workers_;

  // Catch-up pulls in flight, so a role change can cancel them.
  absl::Mutex pulls_mu_;
  absl::flat_hash_map<uint32_t, grpc::ClientContext*> pulls_
      ABSL_GUARDED_BY(pulls_mu_);

  std::atomic<bool> draining_{false};
  std::atomic<bool> keep_data_{false};
  std::atomic<bool> stay_when_low_{false};
  std::atomic<int> active_catch_ups_{0};
  std::atomic<int64_t> last_catch_up_ms_{0};

  std::atomic<uint64_t> gets_{0};
  std::atomic<uint64_t> puts_{0};
  std::atomic<uint64_t> deletes_{0};
  std::atomic<uint64_t> forwards_{0};
  std::atomic<uint64_t> replicated_in_{0};
  std::atomic<uint64_t> catch_ups_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<int64_t> last_error_log_ms_{0};
};

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_CACHE_NODE_CORE_H_
