#include "cache_node/replication_link.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"

namespace parley::cache {
namespace {

constexpr size_t kMaxBatchItems = 1024;
constexpr size_t kMaxBatchBytes = 8 << 20;
// Batches sent and not yet answered. Writes queued meanwhile go out
// together once an answer arrives, so a busy link sends fewer, larger
// messages (each costs system calls and thread wake-ups on both nodes);
// an idle one still sends a write at once.
constexpr size_t kMaxInFlightBatches = 1;
// How often the link looks for expired writes, stuck and broken streams.
constexpr absl::Duration kTick = absl::Milliseconds(20);
// The pause before a broken stream is reopened: doubled by each break
// in a row, up to the maximum. The new stream then waits for the channel
// (which reconnects by itself) rather than failing while it is down.
constexpr absl::Duration kReopenPause = absl::Milliseconds(20);
constexpr absl::Duration kMaxReopenPause = absl::Seconds(1);

}  // namespace

AckTracker::AckTracker(int needed, int backups,
                       std::function<void(absl::Status)> done)
    : needed_(needed), backups_(backups), done_(std::move(done)) {
  if (needed_ <= 0) {
    done_(absl::OkStatus());
  } else if (backups_ < needed_) {
    done_(absl::UnavailableError(absl::StrCat("only ", backups_,
                                              " backup(s) for ", needed_,
                                              " needed acknowledgement(s)")));
  }
}

void AckTracker::Ack() {
  if (needed_ <= 0 || backups_ < needed_) return;
  if (acks_.fetch_add(1) + 1 == needed_) done_(absl::OkStatus());
}

void AckTracker::Fail(const absl::Status& why) {
  if (needed_ <= 0 || backups_ < needed_) return;
  if (fails_.fetch_add(1) + 1 == backups_ - needed_ + 1) {
    done_(absl::UnavailableError(absl::StrCat(
        "the write reached ", acks_.load(), " of ", needed_,
        " backup(s) needed (", why.message(), "); it may or may not persist")));
  }
}

// One ReplicateStream call. It only moves messages; the link decides
// what to send and what the answers mean.
class ReplicationStream
    : public grpc::ClientBidiReactor<v1::ReplicateRequest,
                                     v1::ReplicateResponse> {
 public:
  ReplicationStream(std::shared_ptr<ReplicationLink> link,
                    v1::CacheNode::Stub* stub)
      : link_(std::move(link)) {
    // A backup being reconnected to (restarted, or behind a healed network
    // partition) is waited for; the link bounds how long.
    context_.set_wait_for_ready(true);
    stub->async()->ReplicateStream(&context_, this);
    // Held until the link stops writing to the stream (OnReadDone(false)),
    // so that OnDone never races a write the link starts.
    AddHold();
    StartRead(&incoming_);
    StartCall();
  }

  // Sends one batch; the link allows one write at a time.
  void Write(std::shared_ptr<const v1::ReplicateRequest> request) {
    sending_ = std::move(request);
    StartWrite(sending_.get());
  }

  void Cancel() { context_.TryCancel(); }

  // Drops the hold that OnStreamBroken left to the link.
  void ReleaseHold() { RemoveHold(); }

  void OnWriteDone(bool ok) override { link_->OnWriteDone(this, ok); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The call ended: the link writes no more to it; OnDone follows.
      if (link_->OnStreamBroken(this)) RemoveHold();
      return;
    }
    link_->OnAnswer(this, incoming_);
    incoming_.Clear();
    StartRead(&incoming_);
  }

  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<ReplicationLink> link = std::move(link_);
    link->OnStreamDone(status);
    delete this;
  }

 private:
  std::shared_ptr<ReplicationLink> link_;
  grpc::ClientContext context_;
  // Shared with the link, which sends it again if the stream breaks.
  std::shared_ptr<const v1::ReplicateRequest> sending_;
  v1::ReplicateResponse incoming_;
};

ReplicationLink::ReplicationLink(std::string self_id, std::string backup_id,
                                 std::shared_ptr<v1::CacheNode::Stub> stub,
                                 ReplicationLinkOptions options)
    : self_id_(std::move(self_id)),
      backup_id_(std::move(backup_id)),
      stub_(std::move(stub)),
      options_(options) {
  timer_ = std::thread([this] { RunTimer(); });
}

ReplicationLink::~ReplicationLink() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  timer_.join();
  // Nothing sends these any more (no stream holds the link).
  const absl::Status why = absl::UnavailableError(
      absl::StrCat("the link to backup ", backup_id_, " was closed"));
  for (InFlight& batch : resend_) {
    for (auto& tracker : batch.trackers) {
      if (tracker != nullptr) tracker->Fail(why);
    }
  }
  for (Pending& pending : queue_) pending.tracker->Fail(why);
}

void ReplicationLink::Send(v1::ReplicateItem item,
                           std::shared_ptr<AckTracker> tracker) {
  StreamWrite write;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    queue_.push_back(
        {std::move(item), std::move(tracker), now + options_.write_deadline});
    if (stream_ == nullptr) {
      if (now < reopen_at_) return;  // The timer reopens it.
      OpenLocked();
    }
    write = NextBatchLocked();
  }
  StartWrite(std::move(write));
}

void ReplicationLink::Close() {
  Failures failures;
  {
    absl::MutexLock lock(&mu_);
    if (stream_ != nullptr) {
      stream_->Cancel();
      stream_ = nullptr;
    }
    writing_ = false;
    const absl::Status why = absl::UnavailableError(
        absl::StrCat("backup ", backup_id_, " left the table"));
    for (std::deque<InFlight>* batches : {&in_flight_, &resend_}) {
      for (InFlight& batch : *batches) {
        for (auto& tracker : batch.trackers) {
          if (tracker != nullptr)
            failures.emplace_back(std::move(tracker), why);
        }
      }
      batches->clear();
    }
    for (Pending& pending : queue_) {
      failures.emplace_back(std::move(pending.tracker), why);
    }
    queue_.clear();
  }
  for (auto& [tracker, why] : failures) tracker->Fail(why);
}

uint64_t ReplicationLink::ContiguousVersion(uint32_t partition) const {
  absl::MutexLock lock(&mu_);
  auto it = contiguous_.find(partition);
  return it == contiguous_.end() ? 0 : it->second;
}

void ReplicationLink::OpenLocked() {
  // Null while the link is being destroyed.
  std::shared_ptr<ReplicationLink> self = weak_from_this().lock();
  if (self == nullptr) return;
  stream_ = new ReplicationStream(std::move(self), stub_.get());
  writing_ = false;
  stream_answered_ = false;
}

ReplicationLink::StreamWrite ReplicationLink::NextBatchLocked() {
  if (stream_ == nullptr || writing_ ||
      in_flight_.size() >= kMaxInFlightBatches) {
    return {};
  }
  InFlight batch;
  if (!resend_.empty()) {
    batch = std::move(resend_.front());
    resend_.pop_front();
  } else {
    if (queue_.empty()) return {};
    auto request = std::make_shared<v1::ReplicateRequest>();
    request->set_from_node(self_id_);
    batch.batch_id = next_batch_id_++;
    request->set_batch_id(batch.batch_id);
    size_t bytes = 0;
    while (!queue_.empty() && batch.trackers.size() < kMaxBatchItems &&
           bytes < kMaxBatchBytes) {
      Pending& next = queue_.front();
      bytes +=
          next.item.write().value().size() + next.item.write().key().size();
      batch.writes.emplace_back(next.item.write().partition(),
                                next.item.write().version());
      *request->add_items() = std::move(next.item);
      batch.trackers.push_back(std::move(next.tracker));
      batch.deadlines.push_back(next.deadline);
      queue_.pop_front();
    }
    batch.request = std::move(request);
  }
  batch.sent = absl::Now();
  std::shared_ptr<const v1::ReplicateRequest> request = batch.request;
  in_flight_.push_back(std::move(batch));
  writing_ = true;
  ++starting_writes_;
  return {stream_, std::move(request)};
}

void ReplicationLink::StartWrite(StreamWrite write) {
  if (write.stream == nullptr) return;
  write.stream->Write(std::move(write.request));
  std::vector<ReplicationStream*> released;
  {
    absl::MutexLock lock(&mu_);
    if (--starting_writes_ == 0) released.swap(holds_owed_);
  }
  // Outside the lock: dropping the last hold may end the call at once.
  for (ReplicationStream* stream : released) stream->ReleaseHold();
}

absl::Status ReplicationLink::LastErrorLocked() const {
  if (last_error_.ok()) {
    return absl::UnavailableError(
        absl::StrCat("backup ", backup_id_, " did not answer within ",
                     absl::FormatDuration(options_.write_deadline)));
  }
  return absl::UnavailableError(
      absl::StrCat("backup ", backup_id_, " unreachable for ",
                   absl::FormatDuration(options_.write_deadline), ": ",
                   last_error_.message()));
}

void ReplicationLink::ExpireLocked(absl::Time now, Failures* failures) {
  // A stream that answers carries its writes (or breaks: batch_deadline).
  if (stream_ != nullptr && stream_answered_) return;
  if (in_flight_.empty() && resend_.empty() && queue_.empty()) return;
  const absl::Status why = LastErrorLocked();
  for (std::deque<InFlight>* batches : {&in_flight_, &resend_}) {
    for (InFlight& batch : *batches) {
      for (size_t i = 0; i < batch.trackers.size(); ++i) {
        if (batch.trackers[i] != nullptr && batch.deadlines[i] <= now) {
          failures->emplace_back(std::move(batch.trackers[i]), why);
          batch.trackers[i] = nullptr;
        }
      }
    }
  }
  // Unsent batches no one waits for are dropped (a backup that misses
  // writes notices the gap and catches up).
  resend_.erase(std::remove_if(resend_.begin(), resend_.end(),
                               [](const InFlight& batch) {
                                 for (const auto& t : batch.trackers) {
                                   if (t != nullptr) return false;
                                 }
                                 return true;
                               }),
                resend_.end());
  // Queued in order, with the same write_deadline: the oldest first.
  while (!queue_.empty() && queue_.front().deadline <= now) {
    failures->emplace_back(std::move(queue_.front().tracker), why);
    queue_.pop_front();
  }
}

void ReplicationLink::RunTimer() {
  mu_.Lock();
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), kTick);
    if (stopping_) break;
    const absl::Time now = absl::Now();
    // A backup that stopped answering (e.g. frozen) breaks the stream; its
    // batches go out again on the next one.
    if (stream_ != nullptr && !in_flight_.empty() &&
        now - in_flight_.front().sent > options_.batch_deadline) {
      stream_->Cancel();
    }
    Failures failures;
    ExpireLocked(now, &failures);
    StreamWrite write;
    if (stream_ == nullptr && now >= reopen_at_ &&
        (!queue_.empty() || !resend_.empty())) {
      OpenLocked();
      write = NextBatchLocked();
    }
    if (!failures.empty() || write.stream != nullptr) {
      mu_.Unlock();
      StartWrite(std::move(write));
      for (auto& [tracker, why] : failures) tracker->Fail(why);
      mu_.Lock();
    }
  }
  mu_.Unlock();
}

void ReplicationLink::OnWriteDone(ReplicationStream* stream, bool ok) {
  StreamWrite write;
  {
    absl::MutexLock lock(&mu_);
    if (stream != stream_) return;
    writing_ = false;
    if (ok) write = NextBatchLocked();
  }
  StartWrite(std::move(write));
}

void ReplicationLink::OnAnswer(ReplicationStream* stream,
                               const v1::ReplicateResponse& response) {
  InFlight batch;
  StreamWrite write;
  {
    absl::MutexLock lock(&mu_);
    if (stream != stream_ || in_flight_.empty() ||
        in_flight_.front().batch_id != response.batch_id()) {
      return;
    }
    stream_answered_ = true;
    breaks_ = 0;
    last_error_ = absl::OkStatus();
    batch = std::move(in_flight_.front());
    in_flight_.pop_front();
    // Room for the writes queued while this batch was out.
    write = NextBatchLocked();
    if (response.results_size() == static_cast<int>(batch.writes.size())) {
      for (size_t i = 0; i < batch.writes.size(); ++i) {
        uint64_t& contiguous = contiguous_[batch.writes[i].first];
        contiguous =
            std::max(contiguous, response.results(i).contiguous_version());
      }
    }
  }
  StartWrite(std::move(write));
  if (response.results_size() != static_cast<int>(batch.writes.size())) {
    for (auto& tracker : batch.trackers) {
      if (tracker != nullptr) {
        tracker->Fail(absl::InternalError("short replication answer"));
      }
    }
    return;
  }
  for (size_t i = 0; i < batch.trackers.size(); ++i) {
    if (batch.trackers[i] == nullptr) continue;  // Already told.
    const v1::ReplicateResult& result = response.results(i);
    // The write counts once the backup holds it and everything before it.
    if (result.code() == 0 &&
        result.contiguous_version() >= batch.writes[i].second) {
      batch.trackers[i]->Ack();
    } else {
      absl::string_view why = " could not store it";
      if (result.code() == 0) {
        why = " is catching up";
      } else if (result.code() ==
                 static_cast<int>(absl::StatusCode::kFailedPrecondition)) {
        why = " refused the term";
      } else if (result.code() ==
                 static_cast<int>(absl::StatusCode::kResourceExhausted)) {
        why = " is low on disk space";
      }
      batch.trackers[i]->Fail(absl::FailedPreconditionError(
          absl::StrCat("backup ", backup_id_, why)));
    }
  }
}

bool ReplicationLink::OnStreamBroken(ReplicationStream* stream) {
  Failures failures;
  bool release_hold = true;
  {
    absl::MutexLock lock(&mu_);
    // A write chosen for this stream may still be starting (possibly on
    // this very thread, in a reaction gRPC runs inline): the call must
    // outlive it, so the last starting write drops the hold instead.
    if (starting_writes_ > 0) {
      holds_owed_.push_back(stream);
      release_hold = false;
    }
    if (stream != stream_) return release_hold;
    stream_ = nullptr;
    writing_ = false;
    last_error_ = absl::UnavailableError(
        absl::StrCat("backup ", backup_id_, ": the stream broke"));
    // The unanswered batches go out again first, in order, on the next
    // stream: the backup applies only what it does not hold yet.
    while (!in_flight_.empty()) {
      resend_.push_front(std::move(in_flight_.back()));
      in_flight_.pop_back();
    }
    const absl::Time now = absl::Now();
    absl::Duration pause = kReopenPause;
    for (int i = 0; i < breaks_ && pause < kMaxReopenPause; ++i) pause *= 2;
    ++breaks_;
    reopen_at_ = now + std::min(pause, kMaxReopenPause);
    ExpireLocked(now, &failures);
  }
  for (auto& [tracker, why] : failures) tracker->Fail(why);
  return release_hold;
}

void ReplicationLink::OnStreamDone(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  // Why the backup is unreachable, until it answers again.
  if (!status.ok() && breaks_ > 0) {
    last_error_ = absl::UnavailableError(
        absl::StrCat("backup ", backup_id_, ": ", status.error_message()));
  }
}

}  // namespace parley::cache
