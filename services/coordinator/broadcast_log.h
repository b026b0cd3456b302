#ifndef PARLEY_SERVICES_COORDINATOR_BROADCAST_LOG_H_
#define PARLEY_SERVICES_COORDINATOR_BROADCAST_LOG_H_

#include <cstdint>
#include <deque>

#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/coordinator.pb.h"

namespace parley::coordinator {

// One server group's invalidation history: entries in one total order,
// numbered 1, 2, 3, ... within the coordinator's stream epoch. Keeps at most
// `capacity` of the newest entries. Not thread-safe (BroadcastHub locks it).
class BroadcastLog {
 public:
  BroadcastLog(uint64_t epoch, size_t capacity);

  // Appends `entries`, stamping each with its sequence, the epoch and
  // `origin`. Returns the sequence of the last one (head()).
  uint64_t Append(
      const google::protobuf::RepeatedPtrField<v1::BroadcastEntry>& entries,
      const std::string& origin);

  uint64_t epoch() const { return epoch_; }
  // Sequence of the newest entry; 0 before the first.
  uint64_t head() const { return head_; }
  // Sequence of the oldest entry still kept (head() + 1 when none is).
  uint64_t first_kept() const { return head_ + 1 - entries_.size(); }

  // Copies up to `max` entries following sequence `after` into `out`.
  // Returns false, copying nothing, if some of them are no longer kept.
  bool ReadAfter(
      uint64_t after, size_t max,
      google::protobuf::RepeatedPtrField<v1::BroadcastEntry>* out) const;

 private:
  const uint64_t epoch_;
  const size_t capacity_;
  uint64_t head_ = 0;
  std::deque<v1::BroadcastEntry> entries_;
};

// A subscriber's place in a group's stream.
struct SubscriptionCursor {
  // Sequence of the last entry delivered (or skipped by a RESET).
  uint64_t delivered = 0;
  // True until the first event (STARTED or RESET) has been produced.
  bool needs_first_event = true;
  // Why the first event is a RESET; empty for STARTED.
  std::string reset_reason;
};

// Decides where a new subscription starts. Without `resume_after` it starts
// at the head (STARTED). With it, it resumes right after that position when
// the epoch matches and the entries are still kept; otherwise it starts at
// the head with a RESET.
SubscriptionCursor StartSubscription(const BroadcastLog& log,
                                     const v1::StreamPosition* resume_after);

// Fills `event` with what the subscriber at `cursor` should get next and
// advances the cursor. A subscriber more than `max_lag` entries behind, or
// whose next entries are gone, gets a RESET and skips to the head. Returns
// false (leaving `event` cleared) when there is nothing to send.
bool NextBroadcastEvent(const BroadcastLog& log, size_t max_lag,
                        size_t max_batch, SubscriptionCursor* cursor,
                        v1::BroadcastEvent* event);

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_BROADCAST_LOG_H_
