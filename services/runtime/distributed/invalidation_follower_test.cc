// The follower's handling of broadcast events, driven directly (the stream
// itself is exercised against a real coordinator in
// tests/distributed_sessions_test.cc).
#include "services/runtime/distributed/invalidation_follower.h"

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "proto/parley/v1/session_state.pb.h"

namespace parley::distributed {
namespace {

using ::parley::v1::BroadcastEvent;

constexpr char kNamespace[] = "sessions/web";

class InvalidationFollowerTest : public ::testing::Test {
 protected:
  InvalidationFollowerTest()
      : cache_(NearCacheOptions{100, 4}),
        // Never started, so never connects.
        follower_(grpc::CreateChannel("127.0.0.1:1",
                                      grpc::InsecureChannelCredentials()),
                  InvalidationFollowerOptions{"web", kNamespace}, &cache_) {}

  bool Put(const std::string& id, uint64_t version) {
    auto state = std::make_shared<v1::SessionState>();
    state->set_session_id(id);
    state->set_version(version);
    return cache_.Insert(id, CachedSession{std::move(state), 0},
                         cache_.Reserve(id));
  }

  uint64_t Cached(const std::string& id) {
    std::optional<CachedSession> hit = cache_.Lookup(id, 0);
    return hit.has_value() ? hit->version() : 0;
  }

  static BroadcastEvent Started(uint64_t epoch, uint64_t head) {
    BroadcastEvent event;
    event.set_kind(BroadcastEvent::STARTED);
    event.set_epoch(epoch);
    event.set_head(head);
    return event;
  }

  // ENTRIES with (key, version) pairs numbered from `first_sequence`.
  static BroadcastEvent Entries(
      uint64_t epoch, uint64_t first_sequence,
      std::vector<std::pair<std::string, uint64_t>> entries,
      const std::string& ns = kNamespace) {
    BroadcastEvent event;
    event.set_kind(BroadcastEvent::ENTRIES);
    event.set_epoch(epoch);
    uint64_t sequence = first_sequence;
    for (const auto& [key, version] : entries) {
      v1::BroadcastEntry* entry = event.add_entries();
      entry->set_namespace_(ns);
      entry->set_key(key);
      entry->set_version(version);
      entry->set_sequence(sequence++);
      entry->set_epoch(epoch);
      entry->set_origin("server-a");
    }
    event.set_head(sequence - 1);
    return event;
  }

  NearCache cache_;
  InvalidationFollower follower_;
};

TEST_F(InvalidationFollowerTest, GoesLiveAndEnablesTheCacheOnStarted) {
  EXPECT_FALSE(follower_.live());
  EXPECT_FALSE(cache_.enabled());
  EXPECT_FALSE(Put("a", 1));

  follower_.OnEvent(Started(7, 10));
  EXPECT_TRUE(follower_.live());
  EXPECT_TRUE(cache_.enabled());
  EXPECT_EQ(follower_.position().epoch(), 7u);
  EXPECT_EQ(follower_.position().sequence(), 10u);
  EXPECT_TRUE(Put("a", 1));
}

TEST_F(InvalidationFollowerTest, EntriesDropOlderCopiesOfItsNamespaceOnly) {
  follower_.OnEvent(Started(7, 10));
  ASSERT_TRUE(Put("a", 5));
  ASSERT_TRUE(Put("b", 5));
  ASSERT_TRUE(Put("c", 5));
  ASSERT_TRUE(Put("d", 5));

  follower_.OnEvent(Entries(7, 11, {{"a", 6}, {"b", 5}, {"c", 4}}));
  EXPECT_EQ(Cached("a"), 0u);  // Older than the write: dropped.
  EXPECT_EQ(Cached("b"), 5u);  // That write itself: kept.
  EXPECT_EQ(Cached("c"), 5u);  // Newer than it: kept.
  follower_.OnEvent(Entries(7, 14, {{"d", 9}}, "sessions/other"));
  EXPECT_EQ(Cached("d"), 5u);
  EXPECT_EQ(follower_.position().sequence(), 14u);
  EXPECT_TRUE(follower_.live());
}

TEST_F(InvalidationFollowerTest, AGapFlushesTheCache) {
  follower_.OnEvent(Started(7, 10));
  ASSERT_TRUE(Put("a", 5));
  const uint64_t flushes = follower_.flushes();
  follower_.OnEvent(Entries(7, 13, {{"z", 1}}));  // 11 and 12 are missing.
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_EQ(follower_.flushes(), flushes + 1);
  EXPECT_EQ(follower_.position().sequence(), 13u);
  // Continues from there.
  ASSERT_TRUE(Put("a", 5));
  follower_.OnEvent(Entries(7, 14, {{"z", 2}}));
  EXPECT_EQ(Cached("a"), 5u);
}

TEST_F(InvalidationFollowerTest, ResetAndNewEpochFlushTheCache) {
  follower_.OnEvent(Started(7, 10));
  ASSERT_TRUE(Put("a", 5));
  BroadcastEvent reset;
  reset.set_kind(BroadcastEvent::RESET);
  reset.set_epoch(7);
  reset.set_head(500);
  reset.set_reason("subscriber fell behind");
  follower_.OnEvent(reset);
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_TRUE(follower_.live());
  EXPECT_EQ(follower_.position().sequence(), 500u);

  ASSERT_TRUE(Put("a", 5));
  follower_.OnEvent(Started(8, 0));  // The coordinator restarted.
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_EQ(follower_.position().epoch(), 8u);
  // Entries of the old epoch are a gap, too.
  ASSERT_TRUE(Put("a", 5));
  follower_.OnEvent(Entries(7, 1, {{"z", 1}}));
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(InvalidationFollowerTest, ADropDisablesAndFlushesUntilTheNextStart) {
  follower_.OnEvent(Started(7, 10));
  ASSERT_TRUE(Put("a", 5));
  follower_.OnDisconnect();
  EXPECT_FALSE(follower_.live());
  EXPECT_FALSE(cache_.enabled());
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_FALSE(Put("a", 5));
  follower_.OnEvent(Started(7, 12));
  EXPECT_TRUE(follower_.live());
  EXPECT_TRUE(Put("a", 5));
}

TEST_F(InvalidationFollowerTest, StopDisablesTheCache) {
  follower_.OnEvent(Started(7, 10));
  ASSERT_TRUE(Put("a", 5));
  follower_.Stop();
  EXPECT_FALSE(follower_.live());
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_FALSE(cache_.enabled());
}

TEST_F(InvalidationFollowerTest, WaitForPositionWaitsForTheEntries) {
  follower_.OnEvent(Started(7, 10));
  v1::StreamPosition target;
  target.set_epoch(7);
  target.set_sequence(12);
  EXPECT_FALSE(follower_.WaitForPosition(target, absl::Milliseconds(20)));
  std::thread feeder([this] {
    absl::SleepFor(absl::Milliseconds(50));
    follower_.OnEvent(Entries(7, 11, {{"a", 1}, {"b", 1}}));
  });
  EXPECT_TRUE(follower_.WaitForPosition(target, absl::Seconds(10)));
  feeder.join();
}

}  // namespace
}  // namespace parley::distributed
