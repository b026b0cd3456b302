#include "services/runtime/server/worker_pool.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace parley::runtime {
namespace {

TEST(WorkerPoolTest, RunsEveryTaskOnItsThreads) {
  std::atomic<int> ran{0};
  absl::Mutex mu;
  std::set<std::thread::id> threads;
  {
    WorkerPool pool(4);
    absl::BlockingCounter started(4);
    absl::Notification release;
    // Four tasks that block until all four run at once: needs 4 workers.
    for (int i = 0; i < 4; ++i) {
      pool.Run([&] {
        {
          absl::MutexLock lock(&mu);
          threads.insert(std::this_thread::get_id());
        }
        started.DecrementCount();
        release.WaitForNotification();
        ++ran;
      });
    }
    started.Wait();
    release.Notify();
    for (int i = 0; i < 1000; ++i) pool.Run([&] { ++ran; });
  }  // The destructor runs what is queued, then joins.
  EXPECT_EQ(ran.load(), 1004);
  EXPECT_EQ(threads.size(), 4u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

}  // namespace
}  // namespace parley::runtime
