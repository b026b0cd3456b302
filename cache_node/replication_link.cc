#include "cache_node/replication_link.h"

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
// A batch not answered in this time breaks the stream.
constexpr absl::Duration kBatchDeadline = absl::Seconds(3);
// How long writes fail at once after a stream broke.
constexpr absl::Duration kReconnectPause = absl::Milliseconds(200);

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
    stub->async()->ReplicateStream(&context_, this);
    StartRead(&incoming_);
    StartCall();
  }

  // Sends one batch; the link allows one write at a time.
  void Write(v1::ReplicateRequest request) {
    sending_ = std::move(request);
    StartWrite(&sending_);
  }

  void Cancel() { context_.TryCancel(); }

  void OnWriteDone(bool ok) override { link_->OnWriteDone(this, ok); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows.
    link_->OnAnswer(this, incoming_);
    incoming_.Clear();
    StartRead(&incoming_);
  }

  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<ReplicationLink> link = std::move(link_);
    link->OnStreamDone(this, status);
    delete this;
  }

 private:
  std::shared_ptr<ReplicationLink> link_;
  grpc::ClientContext context_;
  v1::ReplicateRequest sending_;
  v1::ReplicateResponse incoming_;
};

ReplicationLink::ReplicationLink(std::string self_id, std::string backup_id,
                                 std::shared_ptr<v1::CacheNode::Stub> stub)
    : self_id_(std::move(self_id)),
      backup_id_(std::move(backup_id)),
      stub_(std::move(stub)) {}

ReplicationLink::~ReplicationLink() = default;

void ReplicationLink::Send(v1::ReplicateItem item,
                           std::shared_ptr<AckTracker> tracker) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (now < paused_until_) {
    tracker->Fail(absl::UnavailableError(absl::StrCat(
        "backup ", backup_id_, " unreachable: ", last_error_.message())));
    return;
  }
  // A backup that stopped answering (e.g. frozen) breaks the stream, so
  // its writes fail instead of waiting for ever.
  if (!in_flight_.empty() && stream_ != nullptr &&
      now - in_flight_.front().sent > kBatchDeadline) {
    stream_->Cancel();
  }
  queue_.push_back({std::move(item), std::move(tracker)});
  if (stream_ == nullptr) {
    stream_ = new ReplicationStream(shared_from_this(), stub_.get());
  }
  SendBatchLocked();
}

void ReplicationLink::Close() {
  absl::MutexLock lock(&mu_);
  if (stream_ != nullptr) stream_->Cancel();
}

uint64_t ReplicationLink::ContiguousVersion(uint32_t partition) const {
  absl::MutexLock lock(&mu_);
  auto it = contiguous_.find(partition);
  return it == contiguous_.end() ? 0 : it->second;
}

void ReplicationLink::SendBatchLocked() {
  if (queue_.empty() || stream_ == nullptr || writing_ ||
      in_flight_.size() >= kMaxInFlightBatches) {
    return;
  }
  v1::ReplicateRequest request;
  request.set_from_node(self_id_);
  InFlight batch;
  batch.batch_id = next_batch_id_++;
  batch.sent = absl::Now();
  request.set_batch_id(batch.batch_id);
  size_t bytes = 0;
  while (!queue_.empty() && batch.trackers.size() < kMaxBatchItems &&
         bytes < kMaxBatchBytes) {
    Pending& next = queue_.front();
    bytes += next.item.write().value().size() + next.item.write().key().size();
    batch.writes.emplace_back(next.item.write().partition(),
                              next.item.write().version());
    *request.add_items() = std::move(next.item);
    batch.trackers.push_back(std::move(next.tracker));
    queue_.pop_front();
  }
  in_flight_.push_back(std::move(batch));
  writing_ = true;
  stream_->Write(std::move(request));
}

void ReplicationLink::OnWriteDone(ReplicationStream* stream, bool ok) {
  absl::MutexLock lock(&mu_);
  if (stream != stream_) return;
  writing_ = false;
  if (ok) SendBatchLocked();
}

void ReplicationLink::OnAnswer(ReplicationStream* stream,
                               const v1::ReplicateResponse& response) {
  InFlight batch;
  {
    absl::MutexLock lock(&mu_);
    if (stream != stream_ || in_flight_.empty() ||
        in_flight_.front().batch_id != response.batch_id()) {
      return;
    }
    batch = std::move(in_flight_.front());
    in_flight_.pop_front();
    // Room for the writes queued while this batch was out.
    SendBatchLocked();
    if (response.results_size() == static_cast<int>(batch.writes.size())) {
      for (size_t i = 0; i < batch.writes.size(); ++i) {
        uint64_t& contiguous = contiguous_[batch.writes[i].first];
        contiguous =
            std::max(contiguous, response.results(i).contiguous_version());
      }
    }
  }
  if (response.results_size() != static_cast<int>(batch.writes.size())) {
    for (auto& tracker : batch.trackers) {
      tracker->Fail(absl::InternalError("short replication answer"));
    }
    return;
  }
  for (size_t i = 0; i < batch.trackers.size(); ++i) {
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

void ReplicationLink::OnStreamDone(ReplicationStream* stream,
                                   const grpc::Status& status) {
  std::deque<InFlight> failed;
  std::deque<Pending> queued;
  absl::Status why = absl::UnavailableError(
      absl::StrCat("backup ", backup_id_, ": ",
                   status.ok() ? "stream closed" : status.error_message()));
  {
    absl::MutexLock lock(&mu_);
    if (stream != stream_) return;
    stream_ = nullptr;
    writing_ = false;
    failed.swap(in_flight_);
    queued.swap(queue_);
    last_error_ = why;
    paused_until_ = absl::Now() + kReconnectPause;
  }
  for (InFlight& batch : failed) {
    for (auto& tracker : batch.trackers) tracker->Fail(why);
  }
  for (Pending& pending : queued) pending.tracker->Fail(why);
}

}  // namespace parley::cache
