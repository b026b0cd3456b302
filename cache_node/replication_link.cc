#include "cache_node/replication_link.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"

namespace parley::cache {
namespace {

constexpr size_t kMaxBatchItems = 1024;
constexpr size_t kMaxBatchBytes = 8 << 20;
constexpr absl::Duration kBatchDeadline = absl::Seconds(3);

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

struct ReplicationLink::Batch {
  grpc::ClientContext context;
  v1::ReplicateRequest request;
  v1::ReplicateResponse response;
  std::vector<std::shared_ptr<AckTracker>> trackers;
};

ReplicationLink::ReplicationLink(std::string self_id, std::string backup_id,
                                 std::shared_ptr<v1::CacheNode::Stub> stub)
    : self_id_(std::move(self_id)),
      backup_id_(std::move(backup_id)),
      stub_(std::move(stub)) {}

void ReplicationLink::Send(v1::ReplicateItem item,
                           std::shared_ptr<AckTracker> tracker) {
  absl::MutexLock lock(&mu_);
  queue_.push_back({std::move(item), std::move(tracker)});
  if (!in_flight_) StartBatchLocked();
}

uint64_t ReplicationLink::ContiguousVersion(uint32_t partition) const {
  absl::MutexLock lock(&mu_);
  auto it = contiguous_.find(partition);
  return it == contiguous_.end() ? 0 : it->second;
}

void ReplicationLink::StartBatchLocked() {
  if (queue_.empty()) return;
  auto* batch = new Batch();
  batch->request.set_from_node(self_id_);
  size_t bytes = 0;
  while (!queue_.empty() && batch->trackers.size() < kMaxBatchItems &&
         bytes < kMaxBatchBytes) {
    Pending& next = queue_.front();
    bytes += next.item.write().value().size() + next.item.write().key().size();
    *batch->request.add_items() = std::move(next.item);
    batch->trackers.push_back(std::move(next.tracker));
    queue_.pop_front();
  }
  in_flight_ = true;
  batch->context.set_deadline(absl::ToChronoTime(absl::Now() + kBatchDeadline));
  std::shared_ptr<ReplicationLink> self = shared_from_this();
  stub_->async()->Replicate(
      &batch->context, &batch->request, &batch->response,
      [self, batch](grpc::Status status) { self->OnBatchDone(batch, status); });
}

void ReplicationLink::OnBatchDone(Batch* batch, const grpc::Status& status) {
  std::unique_ptr<Batch> owned(batch);
  const bool answered = status.ok() && batch->response.results_size() ==
                                           batch->request.items_size();
  {
    absl::MutexLock lock(&mu_);
    if (answered) {
      for (int i = 0; i < batch->response.results_size(); ++i) {
        const v1::ReplicatedWrite& write = batch->request.items(i).write();
        uint64_t& contiguous = contiguous_[write.partition()];
        contiguous = std::max(contiguous,
                              batch->response.results(i).contiguous_version());
      }
    }
    in_flight_ = false;
    StartBatchLocked();
  }
  for (size_t i = 0; i < batch->trackers.size(); ++i) {
    if (!answered) {
      batch->trackers[i]->Fail(
          status.ok()
              ? absl::InternalError("short replication response")
              : absl::UnavailableError(absl::StrCat("backup ", backup_id_, ": ",
                                                    status.error_message())));
      continue;
    }
    const v1::ReplicateResult& result = batch->response.results(i);
    const v1::ReplicatedWrite& write = batch->request.items(i).write();
    // The write counts once the backup holds it and everything before it.
    if (result.code() == 0 && result.contiguous_version() >= write.version()) {
      batch->trackers[i]->Ack();
    } else {
      batch->trackers[i]->Fail(absl::FailedPreconditionError(absl::StrCat(
          "backup ", backup_id_,
          result.code() == 0 ? " is catching up" : " refused the term")));
    }
  }
}

}  // namespace parley::cache
