#ifndef PARLEY_CACHE_NODE_REPLICATION_LINK_H_
#define PARLEY_CACHE_NODE_REPLICATION_LINK_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
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

// How a link retries.
struct ReplicationLinkOptions {
  // How long a write keeps trying to reach the backup (over reopened
  // streams, waiting for the channel) before its tracker is told it failed.
  // Below the cache client's attempt timeout, so that the client hears the
  // outcome.
  absl::Duration write_deadline = absl::Milliseconds(1500);
  // A batch not answered in this time breaks the stream (a frozen backup);
  // its writes are sent again on a new one.
  absl::Duration batch_deadline = absl::Seconds(3);
};

// The write stream from this primary to one backup node: writes are sent
// in the order they were queued over one long-lived ReplicateStream call;
// while a batch awaits its answer, new writes queue and then go out
// together as the next batch (an idle link sends a write at once); each
// write's tracker is told whether the backup holds it and everything
// before it. A broken stream (a restarted backup, a healed network
// partition) is reopened after a short pause, waiting for the channel to
// be ready, and the batches it left unanswered are sent again in order
// (backups apply writes only when newer, so that is harmless). A write
// fails once its write_deadline passed with no stream that answers (one
// that does carries it until its answer, or breaks at batch_deadline).
// Thread-safe.
class ReplicationLink : public std::enable_shared_from_this<ReplicationLink> {
 public:
  ReplicationLink(std::string self_id, std::string backup_id,
                  std::shared_ptr<v1::CacheNode::Stub> stub,
                  ReplicationLinkOptions options = {});
  ~ReplicationLink();

  const std::string& backup_id() const { return backup_id_; }

  // Queues one write for the backup.
  void Send(v1::ReplicateItem item, std::shared_ptr<AckTracker> tracker);

  // The backup's last reported contiguous version of `partition`.
  uint64_t ContiguousVersion(uint32_t partition) const;

  // Ends the stream and fails the writes not yet answered (the backup left
  // the table); later writes reopen it.
  void Close();

 private:
  friend class ReplicationStream;
  struct Pending {
    v1::ReplicateItem item;
    std::shared_ptr<AckTracker> tracker;
    absl::Time deadline;
  };
  // A batch sent (or to be sent again) and not yet answered.
  struct InFlight {
    uint64_t batch_id = 0;
    absl::Time sent;
    std::shared_ptr<const v1::ReplicateRequest> request;
    std::vector<std::pair<uint32_t, uint64_t>> writes;  // partition, version
    // Null once told (the write's deadline passed).
    std::vector<std::shared_ptr<AckTracker>> trackers;
    std::vector<absl::Time> deadlines;
  };
  using Failures =
      std::vector<std::pair<std::shared_ptr<AckTracker>, absl::Status>>;

  // A batch to write to a stream, started once mu_ is released so that
  // the socket write does not hold up the writers queueing behind it.
  struct StreamWrite {
    ReplicationStream* stream = nullptr;
    std::shared_ptr<const v1::ReplicateRequest> request;
  };
  // The next batch to write, if the stream can take one (counted in
  // starting_writes_ until StartWrite).
  StreamWrite NextBatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes what NextBatchLocked chose; mu_ must not be held.
  void StartWrite(StreamWrite write) ABSL_LOCKS_EXCLUDED(mu_);
  void OpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the trackers of writes past their deadline (and drops queued
  // writes and unsent batches no one waits for any more).
  void ExpireLocked(absl::Time now, Failures* failures)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LastErrorLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Expires writes, breaks stuck streams and reopens broken ones when no
  // new write does.
  void RunTimer();
  void OnWriteDone(ReplicationStream* stream, bool ok);
  void OnAnswer(ReplicationStream* stream,
                const v1::ReplicateResponse& response);
  // The stream's call ended: no more writes to it.
  // True if the stream may drop its hold now; otherwise a write chosen
  // for it is still starting, and StartWrite drops the hold afterwards.
  bool OnStreamBroken(ReplicationStream* stream);
  // Its final status.
  void OnStreamDone(const grpc::Status& status);

  const std::string self_id_;
  const std::string backup_id_;
  const std::shared_ptr<v1::CacheNode::Stub> stub_;
  const ReplicationLinkOptions options_;
  mutable absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  // The open stream, or null; it deletes itself when its call ends.
  ReplicationStream* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<InFlight> in_flight_ ABSL_GUARDED_BY(mu_);
  // Batches a broken stream left unanswered, sent first on the next one.
  std::deque<InFlight> resend_ ABSL_GUARDED_BY(mu_);
  uint64_t next_batch_id_ ABSL_GUARDED_BY(mu_) = 1;
  // After a stream broke, the next one opens no sooner than this.
  absl::Time reopen_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Breaks in a row (no answer since).
  int breaks_ ABSL_GUARDED_BY(mu_) = 0;
  // The open stream answered a batch (the backup is reachable).
  bool stream_answered_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, uint64_t> contiguous_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Writes chosen under mu_ and not yet started on their stream: a broken
  // stream keeps its call (its hold) until they are.
  int starting_writes_ ABSL_GUARDED_BY(mu_) = 0;
  // Broken streams whose hold waits for starting_writes_ to reach zero.
  std::vector<ReplicationStream*> holds_owed_ ABSL_GUARDED_BY(mu_);
  std::thread timer_;
};

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_REPLICATION_LINK_H_
