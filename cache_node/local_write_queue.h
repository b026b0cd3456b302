#ifndef PARLEY_CACHE_NODE_LOCAL_WRITE_QUEUE_H_
#define PARLEY_CACHE_NODE_LOCAL_WRITE_QUEUE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "proto/parley/v1/cache_node.pb.h"

namespace parley::cache {

// The primary's own copy of its writes, stored by one writer thread in
// batches: the request threads queue a write and go on (sending it to the
// backups) instead of waiting in RocksDB's write group, and one write-ahead
// log record carries every write queued meanwhile. Writes are stored in the
// order they were queued. Thread-safe.
class LocalWriteQueue {
 public:
  // Stores a batch atomically (PartitionStore::WriteMany).
  using StoreBatch = std::function<absl::Status(
      const std::vector<const v1::ReplicatedWrite*>& writes)>;
  // Told the outcome of storing one write.
  using Done = std::function<void(const absl::Status& status)>;

  explicit LocalWriteQueue(StoreBatch store);
  // Stores what is queued, then stops the writer thread.
  ~LocalWriteQueue();

  LocalWriteQueue(const LocalWriteQueue&) = delete;
  LocalWriteQueue& operator=(const LocalWriteQueue&) = delete;

  // Queues `write`; `done` runs on the writer thread once its batch was
  // stored (or failed).
  void Submit(std::shared_ptr<const v1::ReplicatedWrite> write, Done done);

  // Returns once every write submitted before the call has been stored (or
  // failed) and its `done` has run.
  void Flush();

 private:
  struct Item {
    std::shared_ptr<const v1::ReplicatedWrite> write;
    Done done;
  };

  void RunWriter();

  const StoreBatch store_;
  absl::Mutex mu_;
  std::vector<Item> queue_ ABSL_GUARDED_BY(mu_);
  // Writes submitted, and writes whose outcome is known, since the start.
  uint64_t submitted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t finished_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_LOCAL_WRITE_QUEUE_H_
