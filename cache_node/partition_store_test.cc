#include "cache_node/partition_store.h"

#include <sched.h>
#include <sys/mount.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/status_matchers.h"

namespace parley::cache {
namespace {

using ::parley::testing::MakeTempDir;
using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kRetentionMs = 60'000;

v1::ReplicatedWrite MakeWrite(uint32_t partition, const std::string& ns,
                              const std::string& key, const std::string& value,
                              uint64_t version, int64_t expire_time_ms = 0,
                              bool deleted = false) {
  v1::ReplicatedWrite write;
  write.set_partition(partition);
  write.set_namespace_(ns);
  write.set_key(key);
  write.set_value(value);
  write.set_version(version);
  write.set_expire_time_ms(expire_time_ms);
  write.set_deleted(deleted);
  return write;
}

v1::ReplicatedWrite MakeDelete(uint32_t partition, const std::string& ns,
                               const std::string& key, uint64_t version) {
  return MakeWrite(partition, ns, key, "", version, 0, /*deleted=*/true);
}

class PartitionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("partition_store");
    Reopen();
  }

  PartitionStoreOptions Options() {
    PartitionStoreOptions options;
    options.data_dir = dir_;
    options.block_cache_bytes = 8 << 20;
    std::shared_ptr<std::atomic<int64_t>> clock = clock_;
    options.now_ms = [clock] { return clock->load(); };
    options.tombstone_retention_ms = kRetentionMs;
    return options;
  }

  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<PartitionStore>> store =
        PartitionStore::Open(Options());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Advance(int64_t ms) { clock_->fetch_add(ms); }

  std::optional<StoredEntry> MustRead(uint32_t partition, const std::string& ns,
                                      const std::string& key) {
    absl::StatusOr<std::optional<StoredEntry>> entry =
        store_->Read(partition, ns, key);
    EXPECT_TRUE(entry.ok()) << entry.status();
    return entry.ok() ? *entry : std::nullopt;
  }

  // Every write ReadSince emits, and the chunk count.
  std::vector<v1::ReplicatedWrite> ReadAllSince(uint32_t partition,
                                                uint64_t after,
                                                size_t chunk_bytes,
                                                int* chunks = nullptr,
                                                uint64_t* snapshot = nullptr) {
    std::vector<v1::ReplicatedWrite> all;
    int emitted = 0;
    absl::StatusOr<uint64_t> version =
        store_->ReadSince(partition, after, chunk_bytes,
                          [&](std::vector<v1::ReplicatedWrite>& chunk) {
                            EXPECT_FALSE(chunk.empty());
                            ++emitted;
                            for (auto& w : chunk) all.push_back(std::move(w));
                            return true;
                          });
    EXPECT_TRUE(version.ok()) << version.status();
    if (chunks != nullptr) *chunks = emitted;
    if (snapshot != nullptr && version.ok()) *snapshot = *version;
    return all;
  }

  std::shared_ptr<std::atomic<int64_t>> clock_ =
      std::make_shared<std::atomic<int64_t>>(kStartMs);
  std::string dir_;
  std::unique_ptr<PartitionStore> store_;
};

TEST_F(PartitionStoreTest, WriteReadRoundTrip) {
  EXPECT_EQ(store_->NowMs(), kStartMs);
  const std::string key("k\0ey", 4);
  ASSERT_TRUE(
      store_->Write(MakeWrite(5, "ns", key, "value", 7, kStartMs + 1000), 7)
          .ok());
  std::optional<StoredEntry> entry = MustRead(5, "ns", key);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->value, "value");
  EXPECT_EQ(entry->header.version, 7u);
  EXPECT_EQ(entry->header.expire_time_ms, kStartMs + 1000);
  EXPECT_FALSE(entry->header.deleted);
  EXPECT_FALSE(IsGone(entry->header, store_->NowMs()));

  // Other partitions, namespaces and keys are distinct.
  EXPECT_FALSE(MustRead(6, "ns", key).has_value());
  EXPECT_FALSE(MustRead(5, "ns2", key).has_value());
  EXPECT_FALSE(MustRead(5, "ns", "k").has_value());

  // Survives a reopen (WAL).
  Reopen();
  entry = MustRead(5, "ns", key);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->value, "value");
}

TEST_F(PartitionStoreTest, RejectsBadInput) {
  EXPECT_THAT(
      store_->Write(MakeWrite(1, "bad ns", "k", "v", 1), 1),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("namespace")));
  EXPECT_THAT(store_->Write(MakeWrite(1, "ns", "", "v", 1), 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key")));
  EXPECT_THAT(
      store_->Write(MakeWrite(70000, "ns", "k", "v", 1), 1),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("partition")));
  v1::ReplicatedWrite good = MakeWrite(1, "ns", "k", "v", 1);
  v1::ReplicatedWrite bad = MakeWrite(1, "ns", std::string(2000, 'k'), "v", 2);
  // A batch with a bad write applies nothing.
  EXPECT_THAT(
      store_->ApplyIfNewer({&good, &bad}, std::nullopt),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2000 bytes")));
  EXPECT_FALSE(MustRead(1, "ns", "k").has_value());
}

TEST_F(PartitionStoreTest, SecondOpenOfSameDirectoryFails) {
  EXPECT_THAT(PartitionStore::Open(Options()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(dir_)));
}

TEST_F(PartitionStoreTest, DeleteLeavesTombstone) {
  ASSERT_TRUE(store_->Write(MakeWrite(1, "ns", "k", "v", 1), 1).ok());
  ASSERT_TRUE(store_->Write(MakeDelete(1, "ns", "k", 2), 2).ok());
  std::optional<StoredEntry> entry = MustRead(1, "ns", "k");
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(entry->header.deleted);
  EXPECT_EQ(entry->header.version, 2u);
  EXPECT_EQ(entry->header.expire_time_ms, kStartMs + kRetentionMs);
  EXPECT_TRUE(IsGone(entry->header, store_->NowMs()));
  EXPECT_TRUE(entry->value.empty());
}

TEST_F(PartitionStoreTest, ApplyIfNewerKeepsHighestVersion) {
  v1::ReplicatedWrite v5 = MakeWrite(2, "ns", "k", "five", 5);
  absl::StatusOr<int> applied = store_->ApplyIfNewer({&v5}, std::nullopt);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, 1);

  v1::ReplicatedWrite v3 = MakeWrite(2, "ns", "k", "three", 3);
  v1::ReplicatedWrite v5b = MakeWrite(2, "ns", "k", "five again", 5);
  applied = store_->ApplyIfNewer({&v3, &v5b}, std::nullopt);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 0);
  EXPECT_EQ(MustRead(2, "ns", "k")->value, "five");

  // In one batch: 8 applies, 6 (below 8 written just before) does not, a
  // new key does.
  v1::ReplicatedWrite v8 = MakeWrite(2, "ns", "k", "eight", 8);
  v1::ReplicatedWrite v6 = MakeWrite(2, "ns", "k", "six", 6);
  v1::ReplicatedWrite other = MakeWrite(3, "ns", "other", "o", 1);
  applied = store_->ApplyIfNewer({&v8, &v6, &other}, std::nullopt);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 2);
  EXPECT_EQ(MustRead(2, "ns", "k")->value, "eight");
  EXPECT_EQ(MustRead(2, "ns", "k")->header.version, 8u);
  EXPECT_EQ(MustRead(3, "ns", "other")->value, "o");

  // Increasing versions of one key in one batch all apply.
  v1::ReplicatedWrite v9 = MakeWrite(2, "ns", "k", "nine", 9);
  v1::ReplicatedWrite v10 = MakeDelete(2, "ns", "k", 10);
  applied = store_->ApplyIfNewer({&v9, &v10}, std::nullopt);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 2);
  std::optional<StoredEntry> entry = MustRead(2, "ns", "k");
  EXPECT_TRUE(entry->header.deleted);
  EXPECT_EQ(entry->header.version, 10u);
  // A replicated tombstone without expiry gets the retention.
  EXPECT_EQ(entry->header.expire_time_ms, kStartMs + kRetentionMs);

  // A tombstone is a version too: older writes do not resurrect the key.
  v1::ReplicatedWrite v7 = MakeWrite(2, "ns", "k", "seven", 7);
  applied = store_->ApplyIfNewer({&v7}, std::nullopt);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 0);
  EXPECT_TRUE(MustRead(2, "ns", "k")->header.deleted);
}

TEST_F(PartitionStoreTest, ContiguousVersionWithWrites) {
  ASSERT_TRUE(store_->SetMeta(4, {0, 3}).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(4, "ns", "a", "v", 10), 10).ok());
  absl::StatusOr<PartitionMeta> meta = store_->GetMeta(4);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->contiguous_version, 10u);
  EXPECT_EQ(meta->term_fence, 3u);  // Kept.

  // Write sets it as given.
  ASSERT_TRUE(store_->Write(MakeWrite(4, "ns", "b", "v", 11), 9).ok());
  EXPECT_EQ(store_->GetMeta(4)->contiguous_version, 9u);

  // ApplyIfNewer raises it only.
  v1::ReplicatedWrite w = MakeWrite(4, "ns", "c", "v", 20);
  ASSERT_TRUE(store_->ApplyIfNewer({&w}, std::make_pair(4u, 20ull)).ok());
  EXPECT_EQ(store_->GetMeta(4)->contiguous_version, 20u);
  EXPECT_EQ(store_->GetMeta(4)->term_fence, 3u);
  ASSERT_TRUE(store_->ApplyIfNewer({}, std::make_pair(4u, 15ull)).ok());
  EXPECT_EQ(store_->GetMeta(4)->contiguous_version, 20u);

  // Even when no write is newer, the contiguous version is recorded.
  absl::StatusOr<int> applied =
      store_->ApplyIfNewer({&w}, std::make_pair(4u, 25ull));
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 0);
  EXPECT_EQ(store_->GetMeta(4)->contiguous_version, 25u);

  // Untouched partitions read as zeros.
  EXPECT_EQ(store_->GetMeta(5)->contiguous_version, 0u);
  EXPECT_EQ(store_->GetMeta(5)->term_fence, 0u);

  Reopen();
  EXPECT_EQ(store_->GetMeta(4)->contiguous_version, 25u);
  EXPECT_EQ(store_->GetMeta(4)->term_fence, 3u);
}

// What a restart after kill -9 finds: a copy of the open store's files
// (the write-ahead log holds every write that returned), opened.
std::unique_ptr<PartitionStore> OpenCrashCopy(const std::string& dir,
                                              PartitionStoreOptions options) {
  const std::string copy = MakeTempDir("partition_store_crash");
  std::filesystem::copy(dir, copy,
                        std::filesystem::copy_options::overwrite_existing |
                            std::filesystem::copy_options::recursive);
  options.data_dir = copy;
  absl::StatusOr<std::unique_ptr<PartitionStore>> store =
      PartitionStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST_F(PartitionStoreTest, HighestVersionWinsAfterACrash) {
  // Applied without a read (above everything stored)...
  v1::ReplicatedWrite v100 = MakeWrite(2, "ns", "k", "new", 100);
  ASSERT_TRUE(store_->ApplyIfNewer({&v100}, std::nullopt).ok());
  v1::ReplicatedWrite v101 = MakeWrite(2, "ns", "j", "new", 101);
  ASSERT_TRUE(store_->ApplyIfNewer({&v101}, std::make_pair(2u, 101ull)).ok());

  // ... and after a crash, an older write (e.g. a late batch of a broken
  // replication stream, or a catch-up chunk) still reads and loses.
  std::unique_ptr<PartitionStore> crashed = OpenCrashCopy(dir_, Options());
  ASSERT_NE(crashed, nullptr);
  v1::ReplicatedWrite v50 = MakeWrite(2, "ns", "k", "old", 50);
  absl::StatusOr<int> applied = crashed->ApplyIfNewer({&v50}, std::nullopt);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, 0);
  absl::StatusOr<std::optional<StoredEntry>> k = crashed->Read(2, "ns", "k");
  ASSERT_TRUE(k.ok() && k->has_value());
  EXPECT_EQ((*k)->value, "new");
  EXPECT_EQ((*k)->header.version, 100u);
  // Newer writes apply.
  v1::ReplicatedWrite v102 = MakeWrite(2, "ns", "k", "newer", 102);
  applied = crashed->ApplyIfNewer({&v102}, std::nullopt);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 1);
}

// The primary's batches: every write stored in order (a later write of a
// key wins within the batch), each partition's contiguous version and
// version bound raised, so a crash copy continues above them.
TEST_F(PartitionStoreTest, WriteManyStoresABatchOfPrimaryWrites) {
  const v1::ReplicatedWrite a1 = MakeWrite(3, "ns", "a", "a1", 7);
  const v1::ReplicatedWrite b1 = MakeWrite(4, "ns", "b", "b1", 20);
  const v1::ReplicatedWrite a2 = MakeWrite(3, "ns", "a", "a2", 8);
  const v1::ReplicatedWrite c1 = MakeDelete(3, "ns", "c", 9);
  ASSERT_TRUE(store_->WriteMany({&a1, &b1, &a2, &c1}).ok());
  EXPECT_EQ(MustRead(3, "ns", "a")->value, "a2");
  EXPECT_EQ(MustRead(3, "ns", "a")->header.version, 8u);
  EXPECT_EQ(MustRead(4, "ns", "b")->value, "b1");
  ASSERT_TRUE(MustRead(3, "ns", "c").has_value());
  EXPECT_TRUE(MustRead(3, "ns", "c")->header.deleted);
  EXPECT_EQ(MustRead(3, "ns", "c")->header.expire_time_ms,
            kStartMs + kRetentionMs);
  EXPECT_EQ(store_->GetMeta(3)->contiguous_version, 9u);
  EXPECT_EQ(store_->GetMeta(4)->contiguous_version, 20u);

  std::unique_ptr<PartitionStore> crashed = OpenCrashCopy(dir_, Options());
  ASSERT_NE(crashed, nullptr);
  EXPECT_GE(*crashed->VersionBound(3), 9u);
  EXPECT_GE(*crashed->VersionBound(4), 20u);
  crashed.reset();

  // A bad write fails the whole batch; nothing of it is stored.
  const v1::ReplicatedWrite d1 = MakeWrite(3, "ns", "d", "d1", 10);
  const v1::ReplicatedWrite bad = MakeWrite(3, "bad ns", "e", "e1", 11);
  EXPECT_EQ(store_->WriteMany({&d1, &bad}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(MustRead(3, "ns", "d").has_value());
}

TEST_F(PartitionStoreTest, ContiguousVersionIsStoredAtMostEverySecond) {
  v1::ReplicatedWrite w1 = MakeWrite(6, "ns", "a", "v", 1);
  ASSERT_TRUE(store_->ApplyIfNewer({&w1}, std::make_pair(6u, 1ull)).ok());
  v1::ReplicatedWrite w2 = MakeWrite(6, "ns", "b", "v", 2);
  ASSERT_TRUE(store_->ApplyIfNewer({&w2}, std::make_pair(6u, 2ull)).ok());
  EXPECT_EQ(store_->GetMeta(6)->contiguous_version, 2u);

  // The first write stored the partition's metadata (its version bound);
  // the raise that followed within a second is not stored yet: a crash
  // finds the lower value, whose catch-up also fetches version 2.
  std::unique_ptr<PartitionStore> crashed = OpenCrashCopy(dir_, Options());
  ASSERT_NE(crashed, nullptr);
  EXPECT_EQ(crashed->GetMeta(6)->contiguous_version, 1u);
  crashed.reset();

  Advance(1000);
  v1::ReplicatedWrite w3 = MakeWrite(6, "ns", "c", "v", 3);
  ASSERT_TRUE(store_->ApplyIfNewer({&w3}, std::make_pair(6u, 3ull)).ok());
  crashed = OpenCrashCopy(dir_, Options());
  ASSERT_NE(crashed, nullptr);
  EXPECT_EQ(crashed->GetMeta(6)->contiguous_version, 3u);
  crashed.reset();

  // Flush stores the latest.
  v1::ReplicatedWrite w4 = MakeWrite(6, "ns", "d", "v", 4);
  ASSERT_TRUE(store_->ApplyIfNewer({&w4}, std::make_pair(6u, 4ull)).ok());
  ASSERT_TRUE(store_->Flush().ok());
  crashed = OpenCrashCopy(dir_, Options());
  ASSERT_NE(crashed, nullptr);
  EXPECT_EQ(crashed->GetMeta(6)->contiguous_version, 4u);
}

TEST_F(PartitionStoreTest, MetaPersistsAcrossReopen) {
  ASSERT_TRUE(store_->SetMeta(0, {12, 4}).ok());
  ASSERT_TRUE(store_->SetMeta(65535, {0xffffffffffull, 9}).ok());
  Reopen();
  absl::StatusOr<PartitionMeta> meta = store_->GetMeta(0);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->contiguous_version, 12u);
  EXPECT_EQ(meta->term_fence, 4u);
  meta = store_->GetMeta(65535);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->contiguous_version, 0xffffffffffull);
  EXPECT_EQ(meta->term_fence, 9u);
  // A write after reopen keeps the stored term fence.
  ASSERT_TRUE(store_->Write(MakeWrite(0, "ns", "k", "v", 13), 13).ok());
  EXPECT_EQ(store_->GetMeta(0)->term_fence, 4u);
}

TEST_F(PartitionStoreTest, ExpiredEntriesAreGoneAndCompactedAway) {
  ASSERT_TRUE(
      store_->Write(MakeWrite(1, "ns", "past", "v", 1, kStartMs - 1), 1).ok());
  ASSERT_TRUE(
      store_->Write(MakeWrite(1, "ns", "soon", "v", 2, kStartMs + 1000), 2)
          .ok());
  ASSERT_TRUE(store_->Write(MakeWrite(1, "ns", "forever", "v", 3), 3).ok());
  ASSERT_TRUE(
      store_->Write(MakeWrite(1, "ns", "later", "v", 4, kStartMs + 100000), 4)
          .ok());

  std::optional<StoredEntry> past = MustRead(1, "ns", "past");
  ASSERT_TRUE(past.has_value());
  EXPECT_TRUE(IsGone(past->header, store_->NowMs()));

  Advance(5000);  // "soon" is past its expiry now.
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_FALSE(MustRead(1, "ns", "past").has_value());
  EXPECT_FALSE(MustRead(1, "ns", "soon").has_value());
  EXPECT_TRUE(MustRead(1, "ns", "forever").has_value());
  EXPECT_TRUE(MustRead(1, "ns", "later").has_value());
  absl::StatusOr<PartitionMeta> meta = store_->GetMeta(1);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->contiguous_version, 4u);

  // Stays gone after reopen (not resurrected from older files).
  Reopen();
  EXPECT_FALSE(MustRead(1, "ns", "soon").has_value());
  EXPECT_TRUE(MustRead(1, "ns", "later").has_value());
}

TEST_F(PartitionStoreTest, TombstoneRemovedOnlyAfterRetention) {
  ASSERT_TRUE(store_->Write(MakeWrite(1, "ns", "k", "v", 1), 1).ok());
  ASSERT_TRUE(store_->CompactAll().ok());  // The value reaches a file.
  ASSERT_TRUE(store_->Write(MakeDelete(1, "ns", "k", 2), 2).ok());

  Advance(kRetentionMs - 1);
  ASSERT_TRUE(store_->CompactAll().ok());
  std::optional<StoredEntry> entry = MustRead(1, "ns", "k");
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(entry->header.deleted);

  Advance(1);
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_FALSE(MustRead(1, "ns", "k").has_value());
  EXPECT_EQ(store_->GetMeta(1)->contiguous_version, 2u);
}

TEST_F(PartitionStoreTest, ReadSinceFiltersAndReturnsSnapshotVersion) {
  ASSERT_TRUE(store_->Write(MakeWrite(3, "ns", "a", "va", 1), 1).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(3, "ns", "b", "vb", 2), 2).ok());
  ASSERT_TRUE(store_->Write(MakeDelete(3, "ns", "c", 3), 3).ok());
  ASSERT_TRUE(
      store_->Write(MakeWrite(3, "ns", "d", "vd", 4, kStartMs - 1), 4).ok());
  ASSERT_TRUE(
      store_->Write(MakeWrite(3, "ns", "e", "ve", 5, kStartMs + 10), 5).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(4, "ns", "x", "vx", 9), 9).ok());
  ASSERT_TRUE(store_->SetMeta(3, {5, 0}).ok());

  uint64_t snapshot = 0;
  std::vector<v1::ReplicatedWrite> writes =
      ReadAllSince(3, 1, 1 << 20, nullptr, &snapshot);
  EXPECT_EQ(snapshot, 5u);
  std::vector<std::string> keys;
  for (const auto& w : writes) {
    keys.push_back(w.key());
    EXPECT_EQ(w.partition(), 3u);
    EXPECT_EQ(w.namespace_(), "ns");
  }
  // Above version 1; tombstone "c" included; expired "d" left out.
  EXPECT_THAT(keys, ElementsAre("b", "c", "e"));
  EXPECT_EQ(writes[0].value(), "vb");
  EXPECT_EQ(writes[0].version(), 2u);
  EXPECT_TRUE(writes[1].deleted());
  EXPECT_EQ(writes[1].version(), 3u);
  EXPECT_EQ(writes[1].expire_time_ms(), kStartMs + kRetentionMs);
  EXPECT_EQ(writes[2].expire_time_ms(), kStartMs + 10);

  EXPECT_TRUE(ReadAllSince(3, 5, 1 << 20).empty());
  // Empty partition: no chunk, version 0.
  int chunks = -1;
  snapshot = 99;
  EXPECT_TRUE(ReadAllSince(7, 0, 1 << 20, &chunks, &snapshot).empty());
  EXPECT_EQ(chunks, 0);
  EXPECT_EQ(snapshot, 0u);
}

TEST_F(PartitionStoreTest, ReadSinceChunksAndStops) {
  const std::string value(100, 'v');
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(store_
                    ->Write(MakeWrite(8, "ns", absl::StrFormat("k%04d", i),
                                      value, i + 1),
                            i + 1)
                    .ok());
  }
  int chunks = 0;
  std::vector<v1::ReplicatedWrite> all = ReadAllSince(8, 0, 1000, &chunks);
  ASSERT_EQ(all.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(all[i].key(), absl::StrFormat("k%04d", i));
  }
  EXPECT_GE(chunks, 20);

  // Each chunk stays near the requested size.
  int calls = 0;
  absl::StatusOr<uint64_t> version = store_->ReadSince(
      8, 0, 1000, [&](std::vector<v1::ReplicatedWrite>& chunk) {
        size_t bytes = 0;
        for (const auto& w : chunk) bytes += w.ByteSizeLong();
        EXPECT_LE(bytes, 1000u + 200u);
        return ++calls < 3;
      });
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 200u);
  EXPECT_EQ(calls, 3);  // Stopped when emit said so.
}

TEST_F(PartitionStoreTest, ReadSinceUsesOneSnapshot) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        store_
            ->Write(MakeWrite(9, "ns", absl::StrFormat("k%02d", i), "v", i + 1),
                    i + 1)
            .ok());
  }
  int seen = 0;
  bool wrote = false;
  absl::StatusOr<uint64_t> version =
      store_->ReadSince(9, 0, 1, [&](std::vector<v1::ReplicatedWrite>& chunk) {
        seen += chunk.size();
        if (!wrote) {
          // Writes during the read are not part of it.
          wrote = true;
          EXPECT_TRUE(
              store_->Write(MakeWrite(9, "ns", "k99", "new", 100), 100).ok());
          EXPECT_TRUE(store_->Write(MakeDelete(9, "ns", "k40", 101), 101).ok());
        }
        for (const auto& w : chunk) {
          EXPECT_NE(w.key(), "k99");
          EXPECT_FALSE(w.deleted());
        }
        return true;
      });
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 50u);
  EXPECT_EQ(seen, 50);
}

TEST_F(PartitionStoreTest, ReadSinceVersionMatchesEntriesUnderWrites) {
  // Each Write stores an entry and the contiguous version together, so in
  // any snapshot the highest entry version equals the contiguous version.
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint64_t v = 1; !done.load(); ++v) {
      ASSERT_TRUE(
          store_
              ->Write(MakeWrite(6, "ns", absl::StrCat("k", v % 64), "v", v), v)
              .ok());
    }
  });
  // No ASSERT here: the writer thread must be joined.
  for (int round = 0; round < 3000; ++round) {
    uint64_t highest = 0;
    absl::StatusOr<uint64_t> version = store_->ReadSince(
        6, 0, 1 << 20, [&](std::vector<v1::ReplicatedWrite>& chunk) {
          for (const auto& w : chunk) highest = std::max(highest, w.version());
          return true;
        });
    EXPECT_TRUE(version.ok()) << version.status();
    if (!version.ok() || *version != highest) {
      ADD_FAILURE() << "round " << round << ": snapshot version "
                    << version.value_or(0) << ", highest entry " << highest;
      break;
    }
  }
  done = true;
  writer.join();
}

TEST_F(PartitionStoreTest, Scan) {
  ASSERT_TRUE(store_->Write(MakeWrite(2, "ab", "user:3", "v3", 1), 1).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(2, "ab", "user:1", "v1", 2), 2).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(2, "ab", "user:2", "v2", 3), 3).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(2, "ab", "user:4", "v4", 4), 4).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(2, "ab", "other", "o", 5), 5).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(2, "abc", "user:0", "x", 6), 6).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(3, "ab", "user:0", "x", 7), 7).ok());
  ASSERT_TRUE(store_->Write(MakeDelete(2, "ab", "user:2", 8), 8).ok());
  ASSERT_TRUE(
      store_->Write(MakeWrite(2, "ab", "user:5", "v5", 9, kStartMs), 9).ok());

  auto keys_of = [](const absl::StatusOr<std::vector<v1::Entry>>& entries) {
    std::vector<std::string> keys;
    EXPECT_TRUE(entries.ok()) << entries.status();
    if (entries.ok()) {
      for (const auto& e : *entries) keys.push_back(e.key());
    }
    return keys;
  };

  // Key order, prefix only, gone entries (deleted 2, expired 5) skipped,
  // nothing of "abc" or of partition 3.
  absl::StatusOr<std::vector<v1::Entry>> entries =
      store_->Scan(2, "ab", "user:", "", 100);
  EXPECT_THAT(keys_of(entries), ElementsAre("user:1", "user:3", "user:4"));
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].value(), "v1");
  EXPECT_EQ((*entries)[0].version(), 2u);
  EXPECT_EQ((*entries)[0].namespace_(), "ab");

  EXPECT_THAT(keys_of(store_->Scan(2, "ab", "", "", 100)),
              ElementsAre("other", "user:1", "user:3", "user:4"));
  EXPECT_THAT(keys_of(store_->Scan(2, "ab", "user:", "user:1", 100)),
              ElementsAre("user:3", "user:4"));
  EXPECT_THAT(keys_of(store_->Scan(2, "ab", "user:", "user:", 100)),
              ElementsAre("user:1", "user:3", "user:4"));
  EXPECT_THAT(keys_of(store_->Scan(2, "ab", "", "other", 2)),
              ElementsAre("user:1", "user:3"));
  EXPECT_THAT(keys_of(store_->Scan(2, "ab", "user:", "", 1)),
              ElementsAre("user:1"));
  EXPECT_THAT(keys_of(store_->Scan(2, "ab", "user:", "zzz", 10)),
              ElementsAre());
  EXPECT_THAT(keys_of(store_->Scan(2, "ab", "nope", "", 10)), ElementsAre());
  EXPECT_THAT(keys_of(store_->Scan(2, "a", "", "", 10)), ElementsAre());
  EXPECT_THAT(keys_of(store_->Scan(2, "abc", "", "", 10)),
              ElementsAre("user:0"));
  EXPECT_THAT(
      store_->Scan(2, "", "", "", 10),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("namespace")));
}

TEST_F(PartitionStoreTest, ScanPrefixWithHighBytes) {
  const std::string k1(
      "\xff\xff"
      "a",
      3);
  const std::string k2("\xff\xff\xff", 3);
  const std::string k3("\xff", 1);
  ASSERT_TRUE(store_->Write(MakeWrite(1, "ns", k1, "1", 1), 1).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(1, "ns", k2, "2", 2), 2).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(1, "ns", k3, "3", 3), 3).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(1, "nt", "x", "4", 4), 4).ok());
  absl::StatusOr<std::vector<v1::Entry>> entries =
      store_->Scan(1, "ns", "\xff\xff", "", 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].key(), k1);
  EXPECT_EQ((*entries)[1].key(), k2);
}

TEST_F(PartitionStoreTest, DropPartitionRemovesOnlyThatPartition) {
  for (uint32_t p : {10u, 11u, 12u}) {
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(
          store_
              ->Write(MakeWrite(p, "ns", absl::StrCat("k", i), "v", i + 1),
                      i + 1)
              .ok());
    }
    ASSERT_TRUE(store_->SetMeta(p, {20, p}).ok());
  }
  ASSERT_TRUE(store_->DropPartition(11).ok());
  EXPECT_FALSE(MustRead(11, "ns", "k0").has_value());
  EXPECT_TRUE(ReadAllSince(11, 0, 1 << 20).empty());
  EXPECT_EQ(store_->GetMeta(11)->contiguous_version, 0u);
  EXPECT_EQ(store_->GetMeta(11)->term_fence, 0u);
  EXPECT_EQ(ReadAllSince(10, 0, 1 << 20).size(), 20u);
  EXPECT_EQ(ReadAllSince(12, 0, 1 << 20).size(), 20u);
  EXPECT_EQ(store_->GetMeta(10)->term_fence, 10u);
  EXPECT_EQ(store_->GetMeta(12)->term_fence, 12u);

  // The partition can be taken on again; stale cached metadata is not used.
  ASSERT_TRUE(store_->Write(MakeWrite(11, "ns", "k0", "again", 1), 1).ok());
  EXPECT_EQ(MustRead(11, "ns", "k0")->value, "again");
  EXPECT_EQ(store_->GetMeta(11)->term_fence, 0u);

  // Dropping the last partition (upper bound edge).
  ASSERT_TRUE(store_->Write(MakeWrite(65535, "ns", "k", "v", 1), 1).ok());
  ASSERT_TRUE(store_->DropPartition(65535).ok());
  EXPECT_FALSE(MustRead(65535, "ns", "k").has_value());
  EXPECT_EQ(ReadAllSince(12, 0, 1 << 20).size(), 20u);

  Reopen();
  EXPECT_FALSE(MustRead(11, "ns", "k1").has_value());
  EXPECT_TRUE(MustRead(12, "ns", "k1").has_value());
}

TEST_F(PartitionStoreTest, RefusesWritesWhenTheDataDirIsLowOnSpace) {
  // A filesystem of 1 GiB with 64 MiB + 40 KiB free; 64 MiB are kept free.
  auto free = std::make_shared<std::atomic<uint64_t>>((64 << 20) + (40 << 10));
  FreeSpaceOptions space;
  space.path = dir_;
  space.min_free_bytes = 64 << 20;
  space.stat = [free](const std::string&) -> absl::StatusOr<FilesystemSpace> {
    return FilesystemSpace{free->load(), uint64_t{1} << 30};
  };
  PartitionStoreOptions options = Options();
  options.free_space = std::make_shared<FreeSpaceMonitor>(space);
  store_.reset();
  absl::StatusOr<std::unique_ptr<PartitionStore>> opened =
      PartitionStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = std::move(*opened);
  ASSERT_NE(store_->free_space(), nullptr);

  const std::string value(16 << 10, 'v');
  ASSERT_TRUE(store_->Write(MakeWrite(1, "ns", "a", value, 1), 1).ok());
  ASSERT_TRUE(store_->Write(MakeWrite(1, "ns", "b", value, 2), 2).ok());
  free->fetch_sub(2 * value.size());  // What the two writes took.
  EXPECT_THAT(store_->Write(MakeWrite(1, "ns", "c", value, 3), 3),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr(absl::StrCat("'", dir_, "'"))));
  const v1::ReplicatedWrite replicated = MakeWrite(2, "ns", "d", value, 5);
  EXPECT_THAT(store_->ApplyIfNewer({&replicated}, std::nullopt),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("")));
  EXPECT_TRUE(store_->free_space()->low());

  // Reads and bookkeeping go on; nothing refused was stored.
  EXPECT_EQ(MustRead(1, "ns", "a")->value, value);
  EXPECT_FALSE(MustRead(1, "ns", "c").has_value());
  EXPECT_FALSE(MustRead(2, "ns", "d").has_value());
  EXPECT_TRUE(store_->SetMeta(1, {2, 1}).ok());

  // Space back: writes resume.
  free->store(uint64_t{200} << 20);
  options.free_space->Refresh();
  EXPECT_FALSE(store_->free_space()->low());
  EXPECT_TRUE(store_->Write(MakeWrite(1, "ns", "c", value, 3), 3).ok());
  EXPECT_TRUE(store_->ApplyIfNewer({&replicated}, std::nullopt).ok());
  EXPECT_EQ(MustRead(2, "ns", "d")->value, value);
}

// Mounts a tmpfs of `size` at `path` in a mount namespace of this process.
// Empty when it worked, else why not.
std::string MountTmpfs(const std::string& path, const std::string& size) {
  if (unshare(CLONE_NEWNS) != 0) {
    return absl::StrCat("unshare(CLONE_NEWNS): ", std::strerror(errno));
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return absl::StrCat("making / private: ", std::strerror(errno));
  }
  std::filesystem::create_directories(path);
  const std::string options = absl::StrCat("size=", size);
  if (mount("tmpfs", path.c_str(), "tmpfs", 0, options.c_str()) != 0) {
    return absl::StrCat("mount -t tmpfs: ", std::strerror(errno));
  }
  return "";
}

// Writes 16 KiB values from 8 threads until 40 writes failed; returns the
// failures.
std::vector<absl::Status> FillUp(PartitionStore& store) {
  absl::Mutex mu;
  std::vector<absl::Status> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string value(16 << 10, static_cast<char>('a' + t));
      for (int i = 0; i < 400; ++i) {
        {
          absl::MutexLock lock(&mu);
          if (failures.size() >= 40) return;
        }
        absl::Status s = store.Write(
            MakeWrite(t, "ns", absl::StrCat("k", i), value, i + 1), i + 1);
        if (!s.ok()) {
          absl::MutexLock lock(&mu);
          failures.push_back(s);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return failures;
}

// A full disk under concurrent writes (RocksDB's own log used to fail
// first, in the data_dir, and Debian's RocksDB then aborted): failed writes
// come back as errors, reads go on, and the store closes cleanly.
TEST_F(PartitionStoreTest, AFullDiskFailsWritesWithoutAborting) {
  const std::string tiny = dir_ + "-tiny";
  const std::string why_not = MountTmpfs(tiny, "1m");
  if (!why_not.empty()) GTEST_SKIP() << "no tmpfs here: " << why_not;
  PartitionStoreOptions options = Options();
  options.data_dir = tiny + "/db";
  store_.reset();
  absl::StatusOr<std::unique_ptr<PartitionStore>> opened =
      PartitionStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = std::move(*opened);

  std::vector<absl::Status> failures = FillUp(*store_);
  ASSERT_FALSE(failures.empty()) << "the tmpfs never filled up";
  for (const absl::Status& failure : failures) {
    EXPECT_THAT(failure, StatusIs(absl::StatusCode::kResourceExhausted,
                                  HasSubstr("No space left on device")));
  }
  EXPECT_EQ(MustRead(0, "ns", "k0")->value, std::string(16 << 10, 'a'));
  store_.reset();
}

// With a free-space check, writes are refused before the filesystem is
// full, and RocksDB itself never fails: its bookkeeping writes still work.
TEST_F(PartitionStoreTest, TheFreeSpaceCheckRefusesWritesBeforeRocksDbFails) {
  const std::string tiny = dir_ + "-tiny";
  const std::string why_not = MountTmpfs(tiny, "1m");
  if (!why_not.empty()) GTEST_SKIP() << "no tmpfs here: " << why_not;
  PartitionStoreOptions options = Options();
  options.data_dir = tiny + "/db";
  FreeSpaceOptions space;
  space.path = options.data_dir;
  space.min_free_bytes = 64 << 20;  // At most 1/16 of 1 MiB: 64 KiB.
  options.free_space = std::make_shared<FreeSpaceMonitor>(space);
  store_.reset();
  absl::StatusOr<std::unique_ptr<PartitionStore>> opened =
      PartitionStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = std::move(*opened);

  std::vector<absl::Status> failures = FillUp(*store_);
  ASSERT_FALSE(failures.empty());
  for (const absl::Status& failure : failures) {
    EXPECT_THAT(failure, StatusIs(absl::StatusCode::kResourceExhausted,
                                  HasSubstr("keeps 64 KiB free")));
  }
  EXPECT_TRUE(store_->free_space()->low());
  EXPECT_GT(std::filesystem::space(tiny).available, 0u);
  EXPECT_TRUE(store_->SetMeta(3, {7, 2}).ok());
  EXPECT_EQ(store_->GetMeta(3)->contiguous_version, 7u);
  EXPECT_TRUE(store_->Flush().ok());
  store_.reset();
}

TEST_F(PartitionStoreTest, ConcurrentApplyIfNewerKeepsMax) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 4000;
  std::atomic<uint64_t> max_version{0};
  std::atomic<int> applied_total{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(t * 7919 + 1);
      std::uniform_int_distribution<uint64_t> jitter(1, 64);
      for (int i = 0; i < kPerThread; ++i) {
        // Random versions that mostly grow, so that most writes are newer
        // and the threads really race on the read-compare-write.
        uint64_t version = static_cast<uint64_t>(i) * 16 + jitter(random);
        uint64_t seen = max_version.load();
        while (version > seen &&
               !max_version.compare_exchange_weak(seen, version)) {
        }
        v1::ReplicatedWrite write =
            MakeWrite(1, "ns", "hot", absl::StrCat(version), version);
        absl::StatusOr<int> applied =
            store_->ApplyIfNewer({&write}, std::make_pair(1u, version));
        ASSERT_TRUE(applied.ok()) << applied.status();
        applied_total += *applied;
        if (i % 50 == 0) {
          // Primary-path writes of a partition sharing the lock stripe.
          ASSERT_TRUE(
              store_
                  ->Write(MakeWrite(65, "ns", absl::StrCat("t", t), "v", i + 1),
                          i + 1)
                  .ok());
        }
      }
    });
  }
  // The stored version never goes down, and matches its value.
  std::thread observer([&] {
    uint64_t last = 0;
    while (!done.load()) {
      absl::StatusOr<std::optional<StoredEntry>> entry =
          store_->Read(1, "ns", "hot");
      ASSERT_TRUE(entry.ok());
      if (!entry->has_value()) continue;
      ASSERT_GE((*entry)->header.version, last);
      ASSERT_EQ((*entry)->value, absl::StrCat((*entry)->header.version));
      last = (*entry)->header.version;
    }
  });
  for (auto& thread : threads) thread.join();
  done = true;
  observer.join();
  std::optional<StoredEntry> entry = MustRead(1, "ns", "hot");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->header.version, max_version.load());
  EXPECT_EQ(entry->value, absl::StrCat(max_version.load()));
  EXPECT_EQ(store_->GetMeta(1)->contiguous_version, max_version.load());
  EXPECT_GE(applied_total.load(), 1);
  EXPECT_LT(applied_total.load(), kThreads * kPerThread);
}

TEST_F(PartitionStoreTest, MoreDataThanBlockCache) {
  store_.reset();
  PartitionStoreOptions options = Options();
  options.block_cache_bytes = 1 << 20;
  absl::StatusOr<std::unique_ptr<PartitionStore>> opened =
      PartitionStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = std::move(*opened);

  // ~20 MiB of incompressible values over 16 partitions.
  constexpr int kEntries = 5000;
  constexpr size_t kValueBytes = 4096;
  auto value_of = [](int i) {
    std::mt19937_64 random(i);
    std::string value(kValueBytes, '\0');
    for (size_t j = 0; j < kValueBytes; j += 8) {
      uint64_t r = random();
      for (int b = 0; b < 8; ++b)
        value[j + b] = static_cast<char>(r >> (8 * b));
    }
    return value;
  };
  for (int i = 0; i < kEntries; ++i) {
    ASSERT_TRUE(store_
                    ->Write(MakeWrite(i % 16, "blobs", absl::StrCat("k", i),
                                      value_of(i), i + 1),
                            i + 1)
                    .ok());
  }
  ASSERT_TRUE(store_->CompactAll().ok());  // Everything in files.
  EXPECT_GE(store_->EstimatedBytes(), 15u << 20);
  EXPECT_GT(store_->EstimatedKeys(), 0u);

  for (int i = 0; i < kEntries; ++i) {
    std::optional<StoredEntry> entry =
        MustRead(i % 16, "blobs", absl::StrCat("k", i));
    ASSERT_TRUE(entry.has_value()) << i;
    ASSERT_EQ(entry->header.version, static_cast<uint64_t>(i + 1));
    ASSERT_TRUE(entry->value == value_of(i)) << i;
  }
  size_t total = 0;
  for (uint32_t p = 0; p < 16; ++p) {
    total += ReadAllSince(p, 0, 256 << 10).size();
  }
  EXPECT_EQ(total, static_cast<size_t>(kEntries));
}

}  // namespace
}  // namespace parley::cache
