#ifndef PARLEY_SERVICES_COORDINATOR_BROADCAST_HUB_H_
#define PARLEY_SERVICES_COORDINATOR_BROADCAST_HUB_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/coordinator/broadcast_log.h"

namespace parley::coordinator {

// Someone reading a group's stream.
class BroadcastSubscriber {
 public:
  virtual ~BroadcastSubscriber() = default;
  // New entries were appended or the stream closed. Called with the
  // stream's lock held; must not block.
  virtual void OnStreamChangedLocked() = 0;
  // Sequence of the last entry sent to this subscriber (for lag figures);
  // nullopt when not tracked. Called with the stream's lock held.
  virtual std::optional<uint64_t> DeliveredLocked() const {
    return std::nullopt;
  }
};

// One group's broadcast: its log and its subscribers, under one lock.
class GroupStream {
 public:
  GroupStream(uint64_t epoch, size_t history) : log_(epoch, history) {}

  absl::Mutex& mu() ABSL_LOCK_RETURNED(mu_) { return mu_; }
  const BroadcastLog& log() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return log_;
  }
  // True once the group was deleted or the coordinator is stopping.
  bool closed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_; }

  // Appends entries and wakes every subscriber; returns the new head.
  uint64_t Publish(
      const google::protobuf::RepeatedPtrField<v1::BroadcastEntry>& entries,
      const std::string& origin) ABSL_LOCKS_EXCLUDED(mu_);

  void AddSubscriberLocked(BroadcastSubscriber* subscriber)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveSubscriber(BroadcastSubscriber* subscriber)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Subscribers reading the stream now.
  size_t SubscriberCountLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return subscribers_.size();
  }
  // Entries the furthest-behind subscriber has yet to be sent (0 if none).
  uint64_t MaxSubscriberLagLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Marks the stream closed and wakes every subscriber so it can finish.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  BroadcastLog log_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<BroadcastSubscriber*> subscribers_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// Limits of the broadcast.
struct BroadcastLimits {
  // Entries kept per group for subscribers that resume.
  size_t history = 100000;
  // A subscriber further behind than this gets a RESET.
  size_t max_subscriber_lag = 10000;
  // Entries per ENTRIES event.
  size_t max_batch = 512;
  // Entries per Publish call.
  size_t max_publish_entries = 10000;
};

// Every group's broadcast stream, all stamped with the coordinator's stream
// epoch. Thread-safe.
class BroadcastHub {
 public:
  BroadcastHub(uint64_t epoch, BroadcastLimits limits)
      : epoch_(epoch), limits_(limits) {}

  uint64_t epoch() const { return epoch_; }
  const BroadcastLimits& limits() const { return limits_; }

  // Creates the stream of `group` if it has none.
  void AddGroup(absl::string_view group);

  // Closes and forgets the stream of `group`.
  void RemoveGroup(absl::string_view group);

  // The stream of `group`, or null.
  std::shared_ptr<GroupStream> Find(absl::string_view group) const;

  // Validates and appends a publish request to its group's stream.
  absl::StatusOr<v1::PublishResponse> Publish(
      const v1::PublishRequest& request);

  // Closes every stream (coordinator stopping).
  void CloseAll();

 private:
  const uint64_t epoch_;
  const BroadcastLimits limits_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<GroupStream>> streams_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_BROADCAST_HUB_H_
