#include "cache_node/local_write_queue.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cache_node/partition_store.h"
#include "gtest/gtest.h"
#include "services/common/testing/status_matchers.h"

namespace parley::cache {
namespace {

using ::parley::testing::MakeTempDir;

std::shared_ptr<const v1::ReplicatedWrite> MakeWrite(uint32_t partition,
                                                     const std::string& ns,
                                                     const std::string& key,
                                                     const std::string& value,
                                                     uint64_t version) {
  auto write = std::make_shared<v1::ReplicatedWrite>();
  write->set_partition(partition);
  write->set_namespace_(ns);
  write->set_key(key);
  write->set_value(value);
  write->set_version(version);
  return write;
}

class LocalWriteQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PartitionStoreOptions options;
    options.data_dir = MakeTempDir("local_write_queue");
    options.block_cache_bytes = 8 << 20;
    absl::StatusOr<std::unique_ptr<PartitionStore>> store =
        PartitionStore::Open(std::move(options));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    queue_ = std::make_unique<LocalWriteQueue>(
        [this](const std::vector<const v1::ReplicatedWrite*>& writes) {
          batches_.fetch_add(1);
          return store_->WriteMany(writes);
        });
  }

  std::string ValueOf(uint32_t partition, const std::string& key) {
    absl::StatusOr<std::optional<StoredEntry>> entry =
        store_->Read(partition, "ns", key);
    EXPECT_TRUE(entry.ok()) << entry.status();
    return entry.ok() && entry->has_value() ? (*entry)->value : "(none)";
  }

  std::unique_ptr<PartitionStore> store_;
  std::atomic<int> batches_{0};
  std::unique_ptr<LocalWriteQueue> queue_;
};

// Threads submitting at once: every write is stored, each key ends at the
// last value its thread submitted (writes are stored in submission order),
// every callback runs once with OK, in fewer batches than writes.
TEST_F(LocalWriteQueueTest, StoresEveryWriteInOrderInBatches) {
  constexpr int kThreads = 4;
  constexpr int kWrites = 500;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // One partition per thread: its versions grow as a primary's do.
      for (int i = 1; i <= kWrites; ++i) {
        queue_->Submit(MakeWrite(t, "ns", absl::StrCat("key-", t, "-", i % 7),
                                 absl::StrCat("value-", i), i),
                       [&](const absl::Status& status) {
                         (status.ok() ? ok : failed).fetch_add(1);
                       });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  queue_->Flush();
  EXPECT_EQ(ok.load(), kThreads * kWrites);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_LT(batches_.load(), kThreads * kWrites);
  for (int t = 0; t < kThreads; ++t) {
    for (int k = 0; k < 7; ++k) {
      // The last i with i % 7 == k.
      const int last = kWrites - ((kWrites - k) % 7 + 7) % 7;
      EXPECT_EQ(ValueOf(t, absl::StrCat("key-", t, "-", k)),
                absl::StrCat("value-", last))
          << "thread " << t << " key " << k;
    }
    EXPECT_EQ(store_->GetMeta(t)->contiguous_version,
              static_cast<uint64_t>(kWrites));
  }
}

// Flush returns only once what was submitted before is stored and told.
TEST_F(LocalWriteQueueTest, FlushWaitsForEarlierWrites) {
  std::atomic<int> told{0};
  for (int i = 1; i <= 100; ++i) {
    queue_->Submit(MakeWrite(1, "ns", absl::StrCat("k", i), "v", i),
                   [&](const absl::Status&) { told.fetch_add(1); });
  }
  queue_->Flush();
  EXPECT_EQ(told.load(), 100);
  EXPECT_EQ(ValueOf(1, "k100"), "v");
}

// A batch that cannot be stored fails each of its writes' callbacks.
TEST_F(LocalWriteQueueTest, AFailedBatchFailsItsWrites) {
  absl::Mutex mu;
  std::vector<absl::Status> outcomes;
  queue_->Submit(MakeWrite(1, "bad ns", "k", "v", 1),
                 [&](const absl::Status& status) {
                   absl::MutexLock lock(&mu);
                   outcomes.push_back(status);
                 });
  queue_->Flush();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].code(), absl::StatusCode::kInvalidArgument);
}

// Destroying the queue stores what is still queued first.
TEST_F(LocalWriteQueueTest, DestructionStoresWhatIsQueued) {
  std::atomic<int> told{0};
  for (int i = 1; i <= 200; ++i) {
    queue_->Submit(MakeWrite(2, "ns", "k", absl::StrCat("v", i), i),
                   [&](const absl::Status& status) {
                     if (status.ok()) told.fetch_add(1);
                   });
  }
  queue_.reset();
  EXPECT_EQ(told.load(), 200);
  EXPECT_EQ(ValueOf(2, "k"), "v200");
}

}  // namespace
}  // namespace parley::cache
