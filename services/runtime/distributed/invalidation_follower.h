#ifndef PARLEY_SERVICES_RUNTIME_DISTRIBUTED_INVALIDATION_FOLLOWER_H_
#define PARLEY_SERVICES_RUNTIME_DISTRIBUTED_INVALIDATION_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/common/retry_policy.h"
#include "services/coordinator/stream_follower.h"
#include "services/runtime/distributed/near_cache.h"

namespace parley::distributed {

struct InvalidationFollowerOptions {
  // The server group whose broadcast is followed.
  std::string group;
  // Only invalidations of this cache-tier namespace touch the near cache
  // (the group's session namespace, see SessionNamespace).
  std::string ns;
  // Pause before subscribing again after the stream dropped.
  RetryPolicy reconnect{absl::Milliseconds(100), absl::Seconds(2), 2.0, 0};
};

// Keeps a near cache in step with its group's invalidation broadcast: from
// a background thread it subscribes to the coordinator's stream for the
// group, drops every copy an ENTRIES event names that is older than the
// entry's version (this server's own entries included: harmless, its copy
// is at that version already), and flushes the whole cache when a
// subscription starts (STARTED or RESET), when entries are missed (a gap
// in sequence or epoch), and when the stream drops.
//
// The near cache serves only while the subscription is live: it is
// disabled on a drop and re-enabled (empty) by the next subscription's
// first event. After a drop the follower subscribes afresh at the head
// rather than resuming: the cache was flushed, so no history is needed,
// and a fresh subscription's STARTED event is what tells that it is live
// again (a resumed one says nothing until the next entry).
//
// Guarantee: once the event carrying an invalidation (id, v) was applied
// (position() reached it), every later near-cache hit for id is at version
// v or newer. Thread-safe.
class InvalidationFollower {
 public:
  // `coordinator` should have keepalive pings enabled so a silent peer is
  // noticed. `cache` must outlive the follower.
  InvalidationFollower(std::shared_ptr<grpc::Channel> coordinator,
                       InvalidationFollowerOptions options, NearCache* cache);
  ~InvalidationFollower();

  InvalidationFollower(const InvalidationFollower&) = delete;
  InvalidationFollower& operator=(const InvalidationFollower&) = delete;

  // Starts following (once).
  void Start();
  // Stops following; the near cache is disabled and flushed. Idempotent.
  void Stop();

  // True while the subscription is open and has delivered its first
  // event: the near cache is in use. For the server's readiness.
  bool live() const { return live_.load(std::memory_order_acquire); }

  // The stream epoch and the sequence of the last entry applied.
  v1::StreamPosition position() const;

  // Waits until the events up to `position` were applied (same epoch,
  // sequence reached); false on timeout.
  bool WaitForPosition(const v1::StreamPosition& position,
                       absl::Duration timeout) const;

  // Times the near cache was flushed (subscription starts, gaps, drops).
  uint64_t flushes() const { return flushes_.load(std::memory_order_relaxed); }
  // Invalidations of this follower's namespace received, and how many of
  // them dropped a cached copy.
  uint64_t invalidations() const {
    return invalidations_.load(std::memory_order_relaxed);
  }
  uint64_t evictions() const {
    return evictions_.load(std::memory_order_relaxed);
  }

  // Applies one event of the subscription (what the stream reader calls).
  void OnEvent(const v1::BroadcastEvent& event);
  // The subscription dropped (what the stream reader calls).
  void OnDisconnect();

 private:
  void Flush();

  const InvalidationFollowerOptions options_;
  NearCache* const cache_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  std::unique_ptr<coordinator::StreamFollower<v1::BroadcastEvent>> stream_;
  std::atomic<bool> live_{false};
  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> invalidations_{0};
  std::atomic<uint64_t> evictions_{0};
  mutable absl::Mutex mu_;
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace parley::distributed

#endif  // PARLEY_SERVICES_RUNTIME_DISTRIBUTED_INVALIDATION_FOLLOWER_H_
