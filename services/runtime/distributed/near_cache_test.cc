#include "services/runtime/distributed/near_cache.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/session_state.pb.h"

namespace parley::distributed {
namespace {

using ::parley::v1::SessionState;

CachedSession Session(const std::string& id, uint64_t version,
                      int64_t expire_time_ms = 0) {
  auto state = std::make_shared<SessionState>();
  state->set_session_id(id);
  state->set_version(version);
  return CachedSession{std::move(state), expire_time_ms};
}

std::unique_ptr<NearCache> EnabledCache(size_t max_entries,
                                        int num_shards = 1) {
  auto cache =
      std::make_unique<NearCache>(NearCacheOptions{max_entries, num_shards});
  cache->Enable();
  return cache;
}

bool Put(NearCache& cache, const std::string& id, uint64_t version,
         int64_t expire_time_ms = 0) {
  return cache.Insert(id, Session(id, version, expire_time_ms),
                      cache.Reserve(id));
}

uint64_t CachedVersion(NearCache& cache, const std::string& id) {
  std::optional<CachedSession> hit = cache.Lookup(id, 0);
  return hit.has_value() ? hit->version() : 0;
}

TEST(NearCacheTest, ServesNothingUntilEnabled) {
  NearCache cache(NearCacheOptions{10, 1});
  EXPECT_FALSE(cache.enabled());
  EXPECT_FALSE(Put(cache, "a", 1));
  EXPECT_FALSE(cache.Lookup("a", 0).has_value());
  cache.Enable();
  EXPECT_TRUE(Put(cache, "a", 1));
  ASSERT_TRUE(cache.Lookup("a", 0).has_value());
  EXPECT_EQ(cache.Lookup("a", 0)->state->session_id(), "a");
}

TEST(NearCacheTest, ZeroEntriesDisablesTheCache) {
  auto cache = EnabledCache(0);
  EXPECT_EQ(cache->capacity(), 0u);
  EXPECT_FALSE(Put(*cache, "a", 1));
  EXPECT_FALSE(cache->Lookup("a", 0).has_value());
  EXPECT_EQ(cache->size(), 0u);
  EXPECT_FALSE(cache->Evict("a", 5));
  cache->Clear();
}

TEST(NearCacheTest, EvictsTheLeastRecentlyUsed) {
  auto cache = EnabledCache(2);
  ASSERT_TRUE(Put(*cache, "a", 1));
  ASSERT_TRUE(Put(*cache, "b", 2));
  ASSERT_TRUE(cache->Lookup("a", 0).has_value());  // "b" is now the oldest.
  ASSERT_TRUE(Put(*cache, "c", 3));
  EXPECT_EQ(cache->size(), 2u);
  EXPECT_EQ(CachedVersion(*cache, "a"), 1u);
  EXPECT_EQ(CachedVersion(*cache, "b"), 0u);
  EXPECT_EQ(CachedVersion(*cache, "c"), 3u);
}

TEST(NearCacheTest, NeverHoldsMoreThanMaxEntriesOverShards) {
  auto cache = EnabledCache(100, 8);
  for (int i = 0; i < 1000; ++i) {
    const std::string id = absl::StrCat("s", i);
    ASSERT_TRUE(Put(*cache, id, i + 1));
  }
  EXPECT_EQ(cache->size(), 100u);
  // The newest survive.
  EXPECT_EQ(CachedVersion(*cache, "s999"), 1000u);
}

TEST(NearCacheTest, EvictDropsOnlyOlderCopies) {
  auto cache = EnabledCache(10);
  ASSERT_TRUE(Put(*cache, "a", 5));
  EXPECT_FALSE(cache->Evict("a", 4));
  EXPECT_FALSE(cache->Evict("a", 5));  // The copy is that write.
  EXPECT_EQ(CachedVersion(*cache, "a"), 5u);
  EXPECT_TRUE(cache->Evict("a", 6));
  EXPECT_EQ(CachedVersion(*cache, "a"), 0u);
  EXPECT_FALSE(cache->Evict("missing", 1));
}

TEST(NearCacheTest, KeepsTheNewerVersion) {
  auto cache = EnabledCache(10);
  ASSERT_TRUE(Put(*cache, "a", 5));
  EXPECT_FALSE(Put(*cache, "a", 3));
  EXPECT_EQ(CachedVersion(*cache, "a"), 5u);
  EXPECT_TRUE(Put(*cache, "a", 7));
  EXPECT_EQ(CachedVersion(*cache, "a"), 7u);
}

TEST(NearCacheTest, InvalidationRefusesInsertsOfReadsStartedBefore) {
  auto cache = EnabledCache(10);
  // A tier read starts, then an invalidation arrives (nothing cached yet),
  // then the read's older result comes back: it must not be cached.
  NearCache::Ticket ticket = cache->Reserve("a");
  EXPECT_FALSE(cache->Evict("a", 9));
  EXPECT_FALSE(cache->Insert("a", Session("a", 8), ticket));
  EXPECT_EQ(cache->size(), 0u);
  // What that read returned at the invalidated version or later is fine,
  // and so are other ids read meanwhile.
  EXPECT_TRUE(cache->Insert("b", Session("b", 3), ticket));
  EXPECT_TRUE(cache->Insert("a", Session("a", 9), ticket));

  ticket = cache->Reserve("a");
  cache->Erase("a");
  EXPECT_FALSE(cache->Insert("a", Session("a", 10), ticket));

  ticket = cache->Reserve("a");
  cache->Clear();
  EXPECT_FALSE(cache->Insert("a", Session("a", 10), ticket));
  EXPECT_FALSE(cache->Insert("b", Session("b", 10), ticket));

  // Reads started while disabled never insert after Enable.
  cache->Disable();
  ticket = cache->Reserve("a");
  cache->Enable();
  EXPECT_FALSE(cache->Insert("a", Session("a", 10), ticket));

  // A read started after the invalidation inserts.
  ticket = cache->Reserve("a");
  EXPECT_TRUE(cache->Insert("a", Session("a", 10), ticket));
}

// Only invalidations that came after the ticket count: a late broadcast of
// an old version must not revive an earlier, higher one (such as the erase
// before a re-read after a failed compare-and-set).
TEST(NearCacheTest, AnOlderLateInvalidationDoesNotRefuseANewerRead) {
  auto cache = EnabledCache(10);
  cache->Erase("a");  // Refused compare-and-set: drop, then re-read.
  NearCache::Ticket ticket = cache->Reserve("a");
  EXPECT_FALSE(cache->Evict("a", 4));  // A late broadcast of version 4.
  EXPECT_TRUE(cache->Insert("a", Session("a", 5), ticket));
  EXPECT_EQ(CachedVersion(*cache, "a"), 5u);

  cache->Evict("b", 9);
  ticket = cache->Reserve("b");
  cache->Evict("b", 3);
  EXPECT_TRUE(cache->Insert("b", Session("b", 8), ticket));

  // A newer invalidation after the ticket still refuses, even with an
  // older one after it.
  ticket = cache->Reserve("c");
  cache->Evict("c", 9);
  cache->Evict("c", 2);
  EXPECT_FALSE(cache->Insert("c", Session("c", 8), ticket));
  EXPECT_TRUE(cache->Insert("c", Session("c", 9), ticket));
}

TEST(NearCacheTest, RefusesInsertsOlderThanTheRememberedInvalidations) {
  auto cache = std::make_unique<NearCache>(NearCacheOptions{10, 1, 2});
  cache->Enable();
  const NearCache::Ticket ticket = cache->Reserve("a");
  cache->Evict("x", 1);
  cache->Evict("y", 1);
  EXPECT_TRUE(cache->Insert("a", Session("a", 1), ticket));
  cache->Erase("a");
  cache->Evict("z", 1);  // Beyond 2 remembered: the ticket reaches too far.
  EXPECT_FALSE(cache->Insert("b", Session("b", 1), ticket));
  EXPECT_TRUE(cache->Insert("b", Session("b", 1), cache->Reserve("b")));
}

TEST(NearCacheTest, TakeHandsTheCopyOverAndRemovesIt) {
  auto cache = EnabledCache(10);
  ASSERT_TRUE(Put(*cache, "a", 5));
  ASSERT_TRUE(Put(*cache, "old", 2, /*expire_time_ms=*/1000));
  const uint64_t hits = cache->hits();
  std::optional<CachedSession> taken = cache->Take("a", 0);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->version(), 5u);
  EXPECT_EQ(taken->state.use_count(), 1);  // The cache kept no reference.
  EXPECT_EQ(cache->hits(), hits + 1);
  EXPECT_FALSE(cache->Take("a", 0).has_value());
  EXPECT_FALSE(cache->Lookup("a", 0).has_value());
  // An expired copy is not handed over, and goes.
  EXPECT_FALSE(cache->Take("old", 1000).has_value());
  EXPECT_EQ(cache->size(), 0u);
  // Taking is not an invalidation: a read that started before inserts.
  const NearCache::Ticket ticket = cache->Reserve("a");
  ASSERT_TRUE(Put(*cache, "a", 6));
  ASSERT_TRUE(cache->Take("a", 0).has_value());
  EXPECT_TRUE(cache->Insert("a", Session("a", 6), ticket));
  // Nothing is handed over while disabled.
  cache->Disable();
  EXPECT_FALSE(cache->Take("a", 0).has_value());
}

TEST(NearCacheTest, DropsExpiredCopies) {
  auto cache = EnabledCache(10);
  ASSERT_TRUE(Put(*cache, "a", 1, /*expire_time_ms=*/1000));
  ASSERT_TRUE(Put(*cache, "b", 1, /*expire_time_ms=*/0));
  EXPECT_TRUE(cache->Lookup("a", 999).has_value());
  EXPECT_FALSE(cache->Lookup("a", 1000).has_value());
  EXPECT_EQ(cache->size(), 1u);
  EXPECT_TRUE(cache->Lookup("b", int64_t{1} << 50).has_value());
}

// Sessions nobody asks for again (left without EndSession) leave once
// expired, as other lookups pass by, instead of filling the cache.
TEST(NearCacheTest, LookupsSweepExpiredCopiesNobodyAsksFor) {
  auto cache = EnabledCache(1000);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(Put(*cache, "abandoned-" + std::to_string(i), 1,
                    /*expire_time_ms=*/1000 + i));
  }
  ASSERT_TRUE(Put(*cache, "live", 1, /*expire_time_ms=*/100000));
  // Before they expire, nothing goes.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cache->Lookup("live", 999));
  EXPECT_EQ(cache->size(), 101u);
  // After, each lookup drops a few of the oldest expired ones.
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(cache->Lookup("live", 5000));
  EXPECT_EQ(cache->size(), 1u);
  EXPECT_TRUE(cache->Lookup("live", 5000).has_value());
}

TEST(NearCacheTest, ClearAndDisableDropEverything) {
  auto cache = EnabledCache(10, 4);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Put(*cache, absl::StrCat(i), 1));
  cache->Clear();
  EXPECT_EQ(cache->size(), 0u);
  EXPECT_TRUE(cache->enabled());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Put(*cache, absl::StrCat(i), 1));
  cache->Disable();
  EXPECT_EQ(cache->size(), 0u);
  EXPECT_FALSE(Put(*cache, "a", 1));
}

// The guarantee the store relies on, under concurrency: once Evict(id, v)
// returned, no lookup ever sees a version below v, although readers keep
// inserting what they read from a "tier" that may be older by then.
TEST(NearCacheTest, NoOlderCopyOnceAnInvalidationWasApplied) {
  auto cache = EnabledCache(64, 4);
  constexpr int kKeys = 4;
  std::atomic<uint64_t> tier[kKeys];
  std::atomic<uint64_t> applied[kKeys];
  for (int k = 0; k < kKeys; ++k) {
    tier[k] = 1;
    applied[k] = 0;
  }
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::atomic<int> inserts{0};

  std::vector<std::thread> threads;
  // Readers: ticket, read the tier, dawdle, insert.
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 random(r);
      while (!stop) {
        const int k = random() % kKeys;
        const std::string id = absl::StrCat("k", k);
        NearCache::Ticket ticket = cache->Reserve(id);
        const uint64_t version = tier[k].load();
        if (random() % 2 == 0) std::this_thread::yield();
        if (cache->Insert(id, Session(id, version), ticket)) ++inserts;
      }
    });
  }
  // Checkers: a hit is never older than an invalidation already applied.
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 random(100 + c);
      while (!stop) {
        const int k = random() % kKeys;
        const uint64_t floor = applied[k].load();
        std::optional<CachedSession> hit =
            cache->Lookup(absl::StrCat("k", k), 0);
        if (hit.has_value() && hit->version() < floor) ++violations;
      }
    });
  }
  // Writer: a new version in the tier, then its invalidation.
  std::mt19937 random(7);
  for (int i = 0; i < 100000; ++i) {
    const int k = random() % kKeys;
    const uint64_t version = tier[k].fetch_add(1) + 1;
    cache->Evict(absl::StrCat("k", k), version);
    applied[k].store(version);
  }
  stop = true;
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(inserts.load(), 0);
}

}  // namespace
}  // namespace parley::distributed
