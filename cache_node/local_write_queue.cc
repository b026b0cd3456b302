#include "cache_node/local_write_queue.h"

#include <utility>

namespace parley::cache {

LocalWriteQueue::LocalWriteQueue(StoreBatch store) : store_(std::move(store)) {
  writer_ = std::thread([this] { RunWriter(); });
}

LocalWriteQueue::~LocalWriteQueue() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
}

void LocalWriteQueue::Submit(std::shared_ptr<const v1::ReplicatedWrite> write,
                             Done done) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(Item{std::move(write), std::move(done)});
  ++submitted_;
}

void LocalWriteQueue::Flush() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = submitted_;
  auto stored = [this, target]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return finished_ >= target;
  };
  mu_.Await(absl::Condition(&stored));
}

void LocalWriteQueue::RunWriter() {
  std::vector<Item> batch;
  std::vector<const v1::ReplicatedWrite*> writes;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      // Stopping drains the queue first.
      if (queue_.empty()) return;
      batch.swap(queue_);
    }
    writes.clear();
    for (const Item& item : batch) writes.push_back(item.write.get());
    const absl::Status status = store_(writes);
    for (Item& item : batch) item.done(status);
    const uint64_t count = batch.size();
    batch.clear();
    absl::MutexLock lock(&mu_);
    finished_ += count;
  }
}

}  // namespace parley::cache
