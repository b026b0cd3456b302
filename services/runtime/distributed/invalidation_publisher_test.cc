// The publisher's queueing, coalescing, batching and retries, against a
// fake Publish call (the real call is exercised against a real coordinator
// in tests/distributed_sessions_test.cc).
#include "services/runtime/distributed/invalidation_publisher.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.pb.h"

namespace parley::distributed {
namespace {

// Records calls; fails the first `failures` of them; the first call waits
// for `release` when it is given.
class FakeCoordinator {
 public:
  explicit FakeCoordinator(int failures = 0,
                           absl::Notification* release = nullptr)
      : failures_left_(failures), release_(release) {}

  PublishCall Call() {
    return [this](const v1::PublishRequest& request)
               -> absl::StatusOr<v1::PublishResponse> {
      bool first = false;
      {
        absl::MutexLock lock(&mu_);
        first = ++calls_ == 1;
      }
      if (first) {
        entered_.Notify();
        if (release_ != nullptr) release_->WaitForNotification();
      }
      absl::MutexLock lock(&mu_);
      if (failures_left_ > 0) {
        --failures_left_;
        return absl::UnavailableError("coordinator down");
      }
      requests_.push_back(request);
      v1::PublishResponse response;
      response.set_epoch(3);
      response.set_first_sequence(head_ + 1);
      head_ += request.entries_size();
      response.set_last_sequence(head_);
      return response;
    };
  }

  // Waits until the first call started.
  void WaitForFirstCall() { entered_.WaitForNotification(); }

  std::vector<v1::PublishRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

  // Highest version published per key.
  std::map<std::string, uint64_t> Published() {
    std::map<std::string, uint64_t> out;
    for (const v1::PublishRequest& request : requests()) {
      for (const v1::BroadcastEntry& entry : request.entries()) {
        uint64_t& version = out[entry.key()];
        version = std::max(version, entry.version());
      }
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int failures_left_ ABSL_GUARDED_BY(mu_);
  uint64_t head_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<v1::PublishRequest> requests_ ABSL_GUARDED_BY(mu_);
  absl::Notification* const release_;
  absl::Notification entered_;
};

InvalidationPublisherOptions Options() {
  InvalidationPublisherOptions options;
  options.group = "web";
  options.origin = "server-a";
  options.retry = {absl::Milliseconds(1), absl::Milliseconds(5), 2.0, 0};
  options.shutdown_flush = absl::Milliseconds(200);
  options.linger = absl::ZeroDuration();
  return options;
}

TEST(InvalidationPublisherTest, PublishesWithGroupAndOrigin) {
  FakeCoordinator coordinator;
  InvalidationPublisher publisher(Options(), coordinator.Call());
  publisher.Publish("sessions/web", "s1", 7);
  ASSERT_TRUE(publisher.Flush(absl::Seconds(10)));
  std::vector<v1::PublishRequest> requests = coordinator.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].group(), "web");
  EXPECT_EQ(requests[0].origin(), "server-a");
  ASSERT_EQ(requests[0].entries_size(), 1);
  EXPECT_EQ(requests[0].entries(0).namespace_(), "sessions/web");
  EXPECT_EQ(requests[0].entries(0).key(), "s1");
  EXPECT_EQ(requests[0].entries(0).version(), 7u);
  EXPECT_EQ(publisher.last_published().epoch(), 3u);
  EXPECT_EQ(publisher.last_published().sequence(), 1u);
}

TEST(InvalidationPublisherTest, CoalescesWhatQueuesDuringACall) {
  absl::Notification release;
  FakeCoordinator coordinator(0, &release);
  InvalidationPublisher publisher(Options(), coordinator.Call());
  publisher.Publish("sessions/web", "first", 1);
  coordinator.WaitForFirstCall();
  // Queued while the first call is out: one entry per key, newest version.
  for (uint64_t v = 10; v < 20; ++v) {
    publisher.Publish("sessions/web", "s1", v);
    publisher.Publish("sessions/web", "s2", 100 - v);
    publisher.Publish("sessions/other", "s1", 1);
  }
  EXPECT_FALSE(publisher.Flush(absl::Milliseconds(20)));
  release.Notify();
  ASSERT_TRUE(publisher.Flush(absl::Seconds(10)));
  std::vector<v1::PublishRequest> requests = coordinator.requests();
  ASSERT_EQ(requests.size(), 2u);
  ASSERT_EQ(requests[1].entries_size(), 3);
  EXPECT_EQ(requests[1].entries(0).key(), "s1");
  EXPECT_EQ(requests[1].entries(0).version(), 19u);
  EXPECT_EQ(requests[1].entries(1).key(), "s2");
  EXPECT_EQ(requests[1].entries(1).version(), 90u);
  EXPECT_EQ(requests[1].entries(2).namespace_(), "sessions/other");
}

// With a linger, entries written within it share one Publish call, and a
// full batch does not wait for the linger to end.
TEST(InvalidationPublisherTest, EntriesWithinTheLingerShareOneCall) {
  FakeCoordinator coordinator;
  InvalidationPublisherOptions options = Options();
  options.linger = absl::Milliseconds(300);
  options.max_batch = 3;
  InvalidationPublisher publisher(options, coordinator.Call());
  publisher.Publish("sessions/web", "s1", 1);
  publisher.Publish("sessions/web", "s2", 1);
  EXPECT_FALSE(publisher.Flush(absl::Milliseconds(100)));  // Still lingering.
  ASSERT_TRUE(publisher.Flush(absl::Seconds(10)));
  std::vector<v1::PublishRequest> requests = coordinator.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].entries_size(), 2);

  const absl::Time start = absl::Now();
  publisher.Publish("sessions/web", "s3", 1);
  publisher.Publish("sessions/web", "s4", 1);
  publisher.Publish("sessions/web", "s5", 1);
  ASSERT_TRUE(publisher.Flush(absl::Seconds(10)));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(250));
  requests = coordinator.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].entries_size(), 3);
}

TEST(InvalidationPublisherTest, SplitsIntoBatches) {
  absl::Notification release;
  FakeCoordinator coordinator(0, &release);
  InvalidationPublisherOptions options = Options();
  options.max_batch = 2;
  InvalidationPublisher publisher(options, coordinator.Call());
  publisher.Publish("sessions/web", "first", 1);
  coordinator.WaitForFirstCall();
  for (int i = 0; i < 5; ++i) {
    publisher.Publish("sessions/web", std::to_string(i), 1);
  }
  release.Notify();
  ASSERT_TRUE(publisher.Flush(absl::Seconds(10)));
  std::vector<v1::PublishRequest> requests = coordinator.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[1].entries_size(), 2);
  EXPECT_EQ(requests[2].entries_size(), 2);
  EXPECT_EQ(requests[3].entries_size(), 1);
  EXPECT_EQ(coordinator.Published().size(), 6u);
}

TEST(InvalidationPublisherTest, RetriesUntilTheCoordinatorAnswers) {
  FakeCoordinator coordinator(/*failures=*/3);
  InvalidationPublisher publisher(Options(), coordinator.Call());
  publisher.Publish("sessions/web", "s1", 4);
  ASSERT_TRUE(publisher.Flush(absl::Seconds(10)));
  EXPECT_EQ(publisher.failures(), 3u);
  EXPECT_EQ(coordinator.Published().at("s1"), 4u);
}

TEST(InvalidationPublisherTest, GivesUpOnlyWhenDestroyed) {
  FakeCoordinator coordinator(/*failures=*/1000000);
  auto publisher =
      std::make_unique<InvalidationPublisher>(Options(), coordinator.Call());
  publisher->Publish("sessions/web", "s1", 4);
  EXPECT_FALSE(publisher->Flush(absl::Milliseconds(100)));
  EXPECT_GT(publisher->failures(), 0u);
  const absl::Time start = absl::Now();
  publisher.reset();  // Bounded by shutdown_flush.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(coordinator.Published().empty());
}

TEST(InvalidationPublisherTest, DropsBeyondMaxPending) {
  absl::Notification release;
  FakeCoordinator coordinator(0, &release);
  InvalidationPublisherOptions options = Options();
  options.max_pending = 3;
  InvalidationPublisher publisher(options, coordinator.Call());
  publisher.Publish("sessions/web", "first", 1);
  coordinator.WaitForFirstCall();
  for (int i = 0; i < 5; ++i) {
    publisher.Publish("sessions/web", std::to_string(i), 1);
  }
  publisher.Publish("sessions/web", "0", 2);  // Coalesced: still fits.
  EXPECT_EQ(publisher.dropped(), 2u);
  release.Notify();
  ASSERT_TRUE(publisher.Flush(absl::Seconds(10)));
  std::map<std::string, uint64_t> published = coordinator.Published();
  EXPECT_EQ(published.size(), 4u);
  EXPECT_EQ(published.at("0"), 2u);
}

}  // namespace
}  // namespace parley::distributed
