#ifndef PARLEY_CACHE_NODE_REPLICATION_LINK_H_
#define PARLEY_CACHE_NODE_REPLICATION_LINK_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"

namespace parley::cache {

// Counts a write's acknowledgements from backups and calls `done` exactly
// once: OK when `needed` backups hold it, UNAVAILABLE as soon as too many
// failed for that to happen.
class AckTracker {
 public:
  AckTracker(int needed, int backups, std::function<void(absl::Status)> done);

  // A backup holds the write.
  void Ack();
  // A backup could not take the write.
  void Fail(const absl::Status& why);

 private:
  const int needed_;
  const int backups_;
  std::function<void(absl::Status)> done_;
  std::atomic<int> acks_{0};
  std::atomic<int> fails_{0};
};

class ReplicationStream;

// The write stream from this primary to one backup node: writes are sent
// in the order they were queued over one long-lived ReplicateStream call;
// while a batch awaits its answer, new writes queue and then go out
// together as the next batch (an idle link sends a write at once); each
// write's tracker is told whether the backup holds it and everything
// before it. A broken stream fails what it carried and is
// reopened (after a short pause) by the next write. Thread-safe.
class ReplicationLink : public std::enable_shared_from_this<ReplicationLink> {
 public:
  ReplicationLink(std::string self_id, std::string backup_id,
                  std::shared_ptr<v1::CacheNode::Stub> stub);
  ~ReplicationLink();

  const std::string& backup_id() const { return backup_id_; }

  // Queues one write for the backup.
  void Send(v1::ReplicateItem item, std::shared_ptr<AckTracker> tracker);

  // The backup's last reported contiguous version of `partition`.
  uint64_t ContiguousVersion(uint32_t partition) const;

  // Ends the stream (the backup left the table); later writes reopen it.
  void Close();

 private:
  friend class ReplicationStream;
  struct Pending {
    v1::ReplicateItem item;
    std::shared_ptr<AckTracker> tracker;
  };
  // A batch sent and not yet answered.
  struct InFlight {
    uint64_t batch_id = 0;
    absl::Time sent;
    std::vector<std::pair<uint32_t, uint64_t>> writes;  // partition, version
    std::vector<std::shared_ptr<AckTracker>> trackers;
  };

  void SendBatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnWriteDone(ReplicationStream* stream, bool ok);
  void OnAnswer(ReplicationStream* stream,
                const v1::ReplicateResponse& response);
  void OnStreamDone(ReplicationStream* stream, const grpc::Status& status);

  const std::string self_id_;
  const std::string backup_id_;
  const std::shared_ptr<v1::CacheNode::Stub> stub_;
  mutable absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  // The open stream, or null; it deletes itself when its call ends.
  ReplicationStream* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<InFlight> in_flight_ ABSL_GUARDED_BY(mu_);
  uint64_t next_batch_id_ ABSL_GUARDED_BY(mu_) = 1;
  // After a stream breaks, writes fail at once until then (the backup is
  // likely down; the other copies carry the writes).
  absl::Time paused_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, uint64_t> contiguous_ ABSL_GUARDED_BY(mu_);
};

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_REPLICATION_LINK_H_
