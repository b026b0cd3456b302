#ifndef PARLEY_SERVICES_RUNTIME_DISTRIBUTED_INVALIDATION_PUBLISHER_H_
#define PARLEY_SERVICES_RUNTIME_DISTRIBUTED_INVALIDATION_PUBLISHER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/common/retry_policy.h"

namespace parley::distributed {

// Sends one Publish call to the coordinator.
using PublishCall = std::function<absl::StatusOr<v1::PublishResponse>(
    const v1::PublishRequest&)>;

// Publish calls over `coordinator`, each with deadline `timeout`.
PublishCall CoordinatorPublishCall(std::shared_ptr<grpc::Channel> coordinator,
                                   absl::Duration timeout = absl::Seconds(2));

struct InvalidationPublisherOptions {
  // The server group whose broadcast carries the invalidations.
  std::string group;
  // This member's id, stamped as the entries' origin.
  std::string origin;
  // Entries per Publish call (the coordinator takes at most 10000).
  size_t max_batch = 1000;
  // How long the first entry of a batch waits for others (unless max_batch
  // are queued first): one Publish call, and one broadcast to every
  // follower, then carries the writes of that time instead of one each.
  // Other servers may read the older copy that much longer (see below).
  absl::Duration linger = absl::Milliseconds(2);
  // Distinct entries waiting to be published; beyond it new ones are
  // dropped (and counted). Only reached while the coordinator is
  // unreachable for long, when every follower has flushed anyway.
  size_t max_pending = 100000;
  // Pause between failed attempts; attempts never stop.
  RetryPolicy retry{absl::Milliseconds(20), absl::Seconds(1), 2.0, 0};
  // How long destruction keeps publishing what is pending.
  absl::Duration shutdown_flush = absl::Seconds(2);
};

// Publishes "entry (namespace, key) was written at version" to the group's
// broadcast without blocking the writer: Publish() queues the entry and a
// background thread sends whatever queued during `linger` (and during the
// call before), coalesced by entry (the highest version wins), in batches,
// retrying failed calls with backoff.
//
// Ordering: a write is acknowledged to its caller BEFORE its invalidation
// is published (typically `linger` plus a millisecond or two after). Until the
// invalidation reaches another server, that server may still return the
// older copy from its near cache; writes stay safe meanwhile because every
// write is a compare-and-set in the tier. Thread-safe.
class InvalidationPublisher {
 public:
  InvalidationPublisher(InvalidationPublisherOptions options,
                        PublishCall publish);
  ~InvalidationPublisher();

  InvalidationPublisher(const InvalidationPublisher&) = delete;
  InvalidationPublisher& operator=(const InvalidationPublisher&) = delete;

  // Queues an invalidation; returns at once.
  void Publish(absl::string_view ns, absl::string_view key, uint64_t version);

  // Waits until everything queued before the call was published; false on
  // timeout.
  bool Flush(absl::Duration timeout);

  // Stream position (epoch, last sequence) of the latest published batch.
  v1::StreamPosition last_published() const;

  // Entries dropped because too many were pending.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Publish calls that failed (and were retried).
  uint64_t failures() const {
    return failures_.load(std::memory_order_relaxed);
  }

 private:
  void Run();
  // Sends entries [begin, end) of `batch` until the call succeeds; false
  // if the publisher gave up first (stopping, past its deadline).
  bool Send(const std::vector<v1::BroadcastEntry>& batch, size_t begin,
            size_t end);

  const InvalidationPublisherOptions options_;
  const PublishCall publish_;

  mutable absl::Mutex mu_;
  // Waiting entries in arrival order, and where each (namespace, key) is.
  std::vector<v1::BroadcastEntry> pending_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> pending_index_ ABSL_GUARDED_BY(mu_);
  // Publish() calls so far, and how many of them are published.
  uint64_t queued_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t published_ ABSL_GUARDED_BY(mu_) = 0;
  v1::StreamPosition last_published_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Once stopping: when to give up on what is still pending.
  absl::Time stop_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();

  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failures_{0};
  std::thread thread_;
};

}  // namespace parley::distributed

#endif  // PARLEY_SERVICES_RUNTIME_DISTRIBUTED_INVALIDATION_PUBLISHER_H_
