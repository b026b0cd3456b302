#include "services/coordinator/broadcast_log.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.pb.h"

namespace parley::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using Entries = google::protobuf::RepeatedPtrField<v1::BroadcastEntry>;

// `count` entries with keys "k<first>", "k<first+1>", ...
Entries MakeEntries(int count, int first = 1) {
  Entries entries;
  for (int i = 0; i < count; ++i) {
    v1::BroadcastEntry* entry = entries.Add();
    entry->set_namespace_("sessions");
    entry->set_key(absl::StrCat("k", first + i));
    entry->set_version(static_cast<uint64_t>(100 + first + i));
  }
  return entries;
}

std::vector<uint64_t> Sequences(const Entries& entries) {
  std::vector<uint64_t> sequences;
  for (const v1::BroadcastEntry& entry : entries) {
    sequences.push_back(entry.sequence());
  }
  return sequences;
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> range;
  for (uint64_t s = first; s <= last; ++s) range.push_back(s);
  return range;
}

v1::StreamPosition Position(uint64_t epoch, uint64_t sequence) {
  v1::StreamPosition position;
  position.set_epoch(epoch);
  position.set_sequence(sequence);
  return position;
}

constexpr size_t kNoLagLimit = 1000000;

TEST(BroadcastLogTest, EmptyLog) {
  BroadcastLog log(/*epoch=*/4, /*capacity=*/10);
  EXPECT_EQ(log.epoch(), 4u);
  EXPECT_EQ(log.head(), 0u);
  EXPECT_EQ(log.first_kept(), 1u);
  Entries out;
  EXPECT_TRUE(log.ReadAfter(0, 10, &out));
  EXPECT_TRUE(out.empty());
}

TEST(BroadcastLogTest, AppendStampsSequenceEpochAndOrigin) {
  BroadcastLog log(/*epoch=*/7, /*capacity=*/100);
  Entries first = MakeEntries(3);
  first.Mutable(1)->set_origin("other-server");
  first.Mutable(2)->set_sequence(999);  // Ignored: the log numbers entries.
  first.Mutable(2)->set_epoch(55);
  EXPECT_EQ(log.Append(first, "rs-1"), 3u);
  EXPECT_EQ(log.Append(MakeEntries(2, 4), "rs-2"), 5u);
  EXPECT_EQ(log.head(), 5u);
  EXPECT_EQ(log.first_kept(), 1u);

  Entries out;
  ASSERT_TRUE(log.ReadAfter(0, 100, &out));
  ASSERT_EQ(out.size(), 5);
  EXPECT_THAT(Sequences(out), ElementsAre(1, 2, 3, 4, 5));
  for (int i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].epoch(), 7u) << i;
    EXPECT_EQ(out[i].key(), absl::StrCat("k", i + 1));
    EXPECT_EQ(out[i].namespace_(), "sessions");
    EXPECT_EQ(out[i].version(), static_cast<uint64_t>(101 + i));
  }
  EXPECT_EQ(out[0].origin(), "rs-1");
  EXPECT_EQ(out[1].origin(), "other-server");  // A set origin is kept.
  EXPECT_EQ(out[2].origin(), "rs-1");
  EXPECT_EQ(out[3].origin(), "rs-2");
  EXPECT_EQ(out[4].origin(), "rs-2");
}

TEST(BroadcastLogTest, AppendNothingKeepsHead) {
  BroadcastLog log(1, 10);
  log.Append(MakeEntries(2), "");
  EXPECT_EQ(log.Append(Entries(), "rs-1"), 2u);
  EXPECT_EQ(log.head(), 2u);
}

TEST(BroadcastLogTest, CapacityEvictsOldest) {
  BroadcastLog log(/*epoch=*/1, /*capacity=*/4);
  log.Append(MakeEntries(3), "");
  EXPECT_EQ(log.first_kept(), 1u);
  log.Append(MakeEntries(7, 4), "");
  EXPECT_EQ(log.head(), 10u);
  EXPECT_EQ(log.first_kept(), 7u);

  Entries kept;
  ASSERT_TRUE(log.ReadAfter(6, 100, &kept));
  EXPECT_THAT(Sequences(kept), ElementsAre(7, 8, 9, 10));
  EXPECT_EQ(kept[0].key(), "k7");

  // Entry 6 is gone: reading after 5 must fail and copy nothing.
  Entries gone;
  EXPECT_FALSE(log.ReadAfter(5, 100, &gone));
  EXPECT_TRUE(gone.empty());
  EXPECT_FALSE(log.ReadAfter(0, 100, &gone));
  EXPECT_TRUE(gone.empty());
}

TEST(BroadcastLogTest, ReadAfterHonoursMaxAndHead) {
  BroadcastLog log(1, 100);
  log.Append(MakeEntries(10), "");
  Entries out;
  ASSERT_TRUE(log.ReadAfter(3, 2, &out));
  EXPECT_THAT(Sequences(out), ElementsAre(4, 5));
  Entries tail;
  ASSERT_TRUE(log.ReadAfter(8, 100, &tail));
  EXPECT_THAT(Sequences(tail), ElementsAre(9, 10));
  Entries none;
  EXPECT_TRUE(log.ReadAfter(10, 100, &none));
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(log.ReadAfter(50, 100, &none));
  EXPECT_TRUE(none.empty());
}

TEST(SubscriptionTest, FreshSubscriptionStartsAtHead) {
  BroadcastLog log(/*epoch=*/3, 100);
  log.Append(MakeEntries(5), "");
  SubscriptionCursor cursor = StartSubscription(log, nullptr);
  EXPECT_EQ(cursor.delivered, 5u);
  EXPECT_TRUE(cursor.needs_first_event);
  EXPECT_TRUE(cursor.reset_reason.empty());

  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::STARTED);
  EXPECT_EQ(event.epoch(), 3u);
  EXPECT_EQ(event.head(), 5u);
  EXPECT_TRUE(event.entries().empty());
  EXPECT_TRUE(event.reason().empty());

  // Nothing new: nothing to send, and the event is left cleared.
  EXPECT_FALSE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::KIND_UNSPECIFIED);
  EXPECT_TRUE(event.entries().empty());

  // Only entries appended after the start are delivered.
  log.Append(MakeEntries(2, 6), "");
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::ENTRIES);
  EXPECT_EQ(event.epoch(), 3u);
  EXPECT_THAT(Sequences(event.entries()), ElementsAre(6, 7));
  EXPECT_EQ(event.head(), 7u);
  EXPECT_EQ(cursor.delivered, 7u);
  EXPECT_FALSE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
}

TEST(SubscriptionTest, FreshSubscriptionOnEmptyLog) {
  BroadcastLog log(2, 100);
  SubscriptionCursor cursor = StartSubscription(log, nullptr);
  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::STARTED);
  EXPECT_EQ(event.head(), 0u);
  log.Append(MakeEntries(1), "");
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_THAT(Sequences(event.entries()), ElementsAre(1));
}

TEST(SubscriptionTest, ResumeWithinHistoryContinuesWithoutGapOrDuplicate) {
  BroadcastLog log(/*epoch=*/3, 100);
  log.Append(MakeEntries(10), "");
  v1::StreamPosition position = Position(3, 4);
  SubscriptionCursor cursor = StartSubscription(log, &position);
  EXPECT_FALSE(cursor.needs_first_event);
  EXPECT_EQ(cursor.delivered, 4u);

  // No STARTED/RESET: the first event already carries entry 5.
  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::ENTRIES);
  EXPECT_THAT(Sequences(event.entries()), ElementsAreArray(Range(5, 10)));
  EXPECT_EQ(event.entries(0).key(), "k5");
  EXPECT_EQ(event.head(), 10u);
  EXPECT_FALSE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
}

TEST(SubscriptionTest, ResumeAtHeadWaitsForNewEntries) {
  BroadcastLog log(3, 100);
  log.Append(MakeEntries(10), "");
  v1::StreamPosition position = Position(3, 10);
  SubscriptionCursor cursor = StartSubscription(log, &position);
  EXPECT_FALSE(cursor.needs_first_event);
  v1::BroadcastEvent event;
  EXPECT_FALSE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  log.Append(MakeEntries(1, 11), "");
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_THAT(Sequences(event.entries()), ElementsAre(11));
}

TEST(SubscriptionTest, ResumeRightBeforeOldestKeptEntryContinues) {
  BroadcastLog log(3, /*capacity=*/5);
  log.Append(MakeEntries(10), "");
  ASSERT_EQ(log.first_kept(), 6u);
  v1::StreamPosition position = Position(3, 5);
  SubscriptionCursor cursor = StartSubscription(log, &position);
  EXPECT_FALSE(cursor.needs_first_event);
  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::ENTRIES);
  EXPECT_THAT(Sequences(event.entries()), ElementsAre(6, 7, 8, 9, 10));
}

TEST(SubscriptionTest, ResumeWithOtherEpochResets) {
  BroadcastLog log(/*epoch=*/3, 100);
  log.Append(MakeEntries(10), "");
  v1::StreamPosition position = Position(2, 4);
  SubscriptionCursor cursor = StartSubscription(log, &position);
  EXPECT_TRUE(cursor.needs_first_event);
  EXPECT_EQ(cursor.delivered, 10u);
  EXPECT_THAT(cursor.reset_reason, HasSubstr("epoch changed from 2 to 3"));

  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::RESET);
  EXPECT_EQ(event.epoch(), 3u);
  EXPECT_EQ(event.head(), 10u);
  EXPECT_TRUE(event.entries().empty());
  EXPECT_THAT(event.reason(), HasSubstr("epoch changed from 2 to 3"));

  // After the RESET it continues from the head.
  EXPECT_FALSE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  log.Append(MakeEntries(1, 11), "");
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::ENTRIES);
  EXPECT_THAT(Sequences(event.entries()), ElementsAre(11));
}

TEST(SubscriptionTest, ResumePastHeadResets) {
  BroadcastLog log(3, 100);
  log.Append(MakeEntries(10), "");
  v1::StreamPosition position = Position(3, 11);
  SubscriptionCursor cursor = StartSubscription(log, &position);
  EXPECT_TRUE(cursor.needs_first_event);
  EXPECT_EQ(cursor.delivered, 10u);
  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::RESET);
  EXPECT_EQ(event.head(), 10u);
  EXPECT_THAT(event.reason(),
              HasSubstr("resume position 11 is past the stream's head 10"));
}

TEST(SubscriptionTest, ResumeOlderThanKeptHistoryResets) {
  BroadcastLog log(3, /*capacity=*/5);
  log.Append(MakeEntries(10), "");
  ASSERT_EQ(log.first_kept(), 6u);
  v1::StreamPosition position = Position(3, 4);  // Entry 5 is gone.
  SubscriptionCursor cursor = StartSubscription(log, &position);
  EXPECT_TRUE(cursor.needs_first_event);
  EXPECT_EQ(cursor.delivered, 10u);
  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::RESET);
  EXPECT_EQ(event.head(), 10u);
  EXPECT_TRUE(event.entries().empty());
  EXPECT_THAT(event.reason(), HasSubstr("entries after 4 are no longer kept"));
  EXPECT_THAT(event.reason(), HasSubstr("oldest kept: 6"));
}

TEST(NextBroadcastEventTest, BatchesAtMostMaxBatch) {
  BroadcastLog log(1, 100);
  SubscriptionCursor cursor = StartSubscription(log, nullptr);
  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 3, &cursor, &event));
  ASSERT_EQ(event.kind(), v1::BroadcastEvent::STARTED);
  log.Append(MakeEntries(10), "");

  std::vector<std::vector<uint64_t>> batches;
  std::vector<uint64_t> heads;
  while (NextBroadcastEvent(log, kNoLagLimit, 3, &cursor, &event)) {
    ASSERT_EQ(event.kind(), v1::BroadcastEvent::ENTRIES);
    batches.push_back(Sequences(event.entries()));
    heads.push_back(event.head());
  }
  EXPECT_THAT(batches, ElementsAre(ElementsAre(1, 2, 3), ElementsAre(4, 5, 6),
                                   ElementsAre(7, 8, 9), ElementsAre(10)));
  EXPECT_THAT(heads, ElementsAre(3, 6, 9, 10));
  EXPECT_EQ(cursor.delivered, 10u);
}

TEST(NextBroadcastEventTest, LagOverLimitResetsToHead) {
  BroadcastLog log(/*epoch=*/6, 100);
  SubscriptionCursor cursor = StartSubscription(log, nullptr);
  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, /*max_lag=*/5, 100, &cursor, &event));

  // Exactly at the limit is still delivered.
  log.Append(MakeEntries(5), "");
  ASSERT_TRUE(NextBroadcastEvent(log, 5, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::ENTRIES);
  EXPECT_THAT(Sequences(event.entries()), ElementsAre(1, 2, 3, 4, 5));

  // One over the limit: RESET, skipping to the head.
  log.Append(MakeEntries(6, 6), "");
  ASSERT_TRUE(NextBroadcastEvent(log, 5, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::RESET);
  EXPECT_EQ(event.epoch(), 6u);
  EXPECT_EQ(event.head(), 11u);
  EXPECT_TRUE(event.entries().empty());
  EXPECT_THAT(event.reason(),
              HasSubstr("subscriber fell 6 entries behind (limit 5)"));
  EXPECT_EQ(cursor.delivered, 11u);
  EXPECT_FALSE(NextBroadcastEvent(log, 5, 100, &cursor, &event));

  // It continues from the head afterwards.
  log.Append(MakeEntries(2, 12), "");
  ASSERT_TRUE(NextBroadcastEvent(log, 5, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::ENTRIES);
  EXPECT_THAT(Sequences(event.entries()), ElementsAre(12, 13));
}

TEST(NextBroadcastEventTest, EvictedEntriesResetToHead) {
  BroadcastLog log(1, /*capacity=*/3);
  SubscriptionCursor cursor = StartSubscription(log, nullptr);
  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  log.Append(MakeEntries(5), "");  // Entries 1 and 2 are evicted.
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::RESET);
  EXPECT_EQ(event.head(), 5u);
  EXPECT_TRUE(event.entries().empty());
  EXPECT_THAT(event.reason(), HasSubstr("entries after 0 are no longer kept"));
  EXPECT_EQ(cursor.delivered, 5u);
  EXPECT_FALSE(NextBroadcastEvent(log, kNoLagLimit, 100, &cursor, &event));
}

// Appends 10,000 entries in random chunks while a subscriber drains them in
// random batches and reconnects once; every entry arrives exactly once, in
// order.
TEST(NextBroadcastEventTest, RandomChunksAndReconnectDeliverEachEntryOnce) {
  constexpr uint64_t kTotal = 10000;
  constexpr uint64_t kEpoch = 9;
  BroadcastLog log(kEpoch, /*capacity=*/kTotal * 2);
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> chunk_size(1, 150);
  std::uniform_int_distribution<int> batch_size(1, 64);
  std::bernoulli_distribution append_now(0.5);

  SubscriptionCursor cursor = StartSubscription(log, nullptr);
  v1::BroadcastEvent event;
  ASSERT_TRUE(NextBroadcastEvent(log, kNoLagLimit, 10, &cursor, &event));
  ASSERT_EQ(event.kind(), v1::BroadcastEvent::STARTED);
  ASSERT_EQ(event.head(), 0u);

  std::vector<uint64_t> seen;
  seen.reserve(kTotal);
  bool reconnected = false;
  int iterations = 0;
  while (seen.size() < kTotal) {
    ASSERT_LT(++iterations, 1000000) << "no progress";
    if (log.head() < kTotal && append_now(rng)) {
      const int n = static_cast<int>(std::min<uint64_t>(
          static_cast<uint64_t>(chunk_size(rng)), kTotal - log.head()));
      log.Append(MakeEntries(n, static_cast<int>(log.head()) + 1), "rs-1");
      continue;
    }
    const size_t batch = static_cast<size_t>(batch_size(rng));
    if (!NextBroadcastEvent(log, kNoLagLimit, batch, &cursor, &event)) {
      ASSERT_EQ(cursor.delivered, log.head());
      continue;
    }
    ASSERT_EQ(event.kind(), v1::BroadcastEvent::ENTRIES) << event.reason();
    ASSERT_GE(event.entries_size(), 1);
    ASSERT_LE(static_cast<size_t>(event.entries_size()), batch);
    for (const v1::BroadcastEntry& entry : event.entries()) {
      ASSERT_EQ(entry.sequence(), seen.size() + 1) << "gap or duplicate";
      ASSERT_EQ(entry.key(), absl::StrCat("k", entry.sequence()));
      ASSERT_EQ(entry.epoch(), kEpoch);
      seen.push_back(entry.sequence());
    }
    ASSERT_EQ(event.head(), seen.back());
    if (!reconnected && seen.size() >= kTotal / 2 && log.head() > seen.back()) {
      // The subscriber drops and comes back with the last entry it holds.
      v1::StreamPosition position = Position(kEpoch, seen.back());
      cursor = StartSubscription(log, &position);
      ASSERT_FALSE(cursor.needs_first_event) << cursor.reset_reason;
      ASSERT_EQ(cursor.delivered, seen.back());
      reconnected = true;
    }
  }
  EXPECT_TRUE(reconnected);
  EXPECT_EQ(log.head(), kTotal);
  ASSERT_EQ(seen.size(), kTotal);
  for (uint64_t i = 0; i < kTotal; ++i) ASSERT_EQ(seen[i], i + 1);
  EXPECT_FALSE(NextBroadcastEvent(log, kNoLagLimit, 64, &cursor, &event));
}

}  // namespace
}  // namespace parley::coordinator
