#include "services/coordinator/broadcast_log.h"

#include "absl/strings/str_cat.h"

namespace parley::coordinator {

BroadcastLog::BroadcastLog(uint64_t epoch, size_t capacity)
    : epoch_(epoch), capacity_(capacity == 0 ? 1 : capacity) {}

uint64_t BroadcastLog::Append(
    const google::protobuf::RepeatedPtrField<v1::BroadcastEntry>& entries,
    const std::string& origin) {
  for (const v1::BroadcastEntry& entry : entries) {
    if (entries_.size() == capacity_) entries_.pop_front();
    v1::BroadcastEntry& kept = entries_.emplace_back(entry);
    kept.set_sequence(++head_);
    kept.set_epoch(epoch_);
    if (kept.origin().empty()) kept.set_origin(origin);
  }
  return head_;
}

bool BroadcastLog::ReadAfter(
    uint64_t after, size_t max,
    google::protobuf::RepeatedPtrField<v1::BroadcastEntry>* out) const {
  if (after >= head_) return true;
  if (after + 1 < first_kept()) return false;
  size_t index = after + 1 - first_kept();
  for (size_t n = 0; n < max && index < entries_.size(); ++n, ++index) {
    *out->Add() = entries_[index];
  }
  return true;
}

SubscriptionCursor StartSubscription(const BroadcastLog& log,
                                     const v1::StreamPosition* resume_after) {
  SubscriptionCursor cursor;
  cursor.delivered = log.head();
  if (resume_after == nullptr) return cursor;
  if (resume_after->epoch() != log.epoch()) {
    cursor.reset_reason =
        absl::StrCat("stream epoch changed from ", resume_after->epoch(),
                     " to ", log.epoch(), " (the coordinator restarted)");
  } else if (resume_after->sequence() > log.head()) {
    cursor.reset_reason =
        absl::StrCat("resume position ", resume_after->sequence(),
                     " is past the stream's head ", log.head());
  } else if (resume_after->sequence() + 1 < log.first_kept()) {
    cursor.reset_reason = absl::StrCat(
        "entries after ", resume_after->sequence(),
        " are no longer kept (oldest kept: ", log.first_kept(), ")");
  } else {
    cursor.delivered = resume_after->sequence();
    cursor.needs_first_event = false;
  }
  return cursor;
}

bool NextBroadcastEvent(const BroadcastLog& log, size_t max_lag,
                        size_t max_batch, SubscriptionCursor* cursor,
                        v1::BroadcastEvent* event) {
  event->Clear();
  event->set_epoch(log.epoch());
  if (cursor->needs_first_event) {
    cursor->needs_first_event = false;
    event->set_kind(cursor->reset_reason.empty() ? v1::BroadcastEvent::STARTED
                                                 : v1::BroadcastEvent::RESET);
    event->set_reason(cursor->reset_reason);
    event->set_head(cursor->delivered);
    return true;
  }
  if (cursor->delivered >= log.head()) {
    event->Clear();
    return false;
  }
  const uint64_t lag = log.head() - cursor->delivered;
  bool kept = lag <= max_lag && log.ReadAfter(cursor->delivered, max_batch,
                                              event->mutable_entries());
  if (!kept) {
    event->clear_entries();
    event->set_kind(v1::BroadcastEvent::RESET);
    event->set_reason(
        lag > max_lag ? absl::StrCat("subscriber fell ", lag,
                                     " entries behind (limit ", max_lag, ")")
                      : absl::StrCat("entries after ", cursor->delivered,
                                     " are no longer kept"));
    cursor->delivered = log.head();
    event->set_head(cursor->delivered);
    return true;
  }
  event->set_kind(v1::BroadcastEvent::ENTRIES);
  cursor->delivered = event->entries(event->entries_size() - 1).sequence();
  event->set_head(cursor->delivered);
  return true;
}

}  // namespace parley::coordinator
