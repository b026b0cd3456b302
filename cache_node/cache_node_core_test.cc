#include "cache_node/cache_node_core.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_node/free_space_monitor.h"
#include "cache_node/key_codec.h"
#include "cache_node/node_channels.h"
#include "cache_node/partition_store.h"
#include "cache_node/test_tables.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/cache_node.pb.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/common/testing/status_matchers.h"

namespace parley::cache {
namespace {

using ::parley::testing::MakeTempDir;
using ::parley::testing::StatusIs;
using ::testing::_;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kSelf[] = "self";
constexpr char kSelfAddress[] = "127.0.0.1:2";
constexpr char kOther[] = "other";
constexpr char kOtherAddress[] = "127.0.0.1:1";
constexpr uint32_t kPartitions = 8;
constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr size_t kMaxValueBytes = 64;

uint64_t TermBase(uint64_t term) { return term << 32; }

// `count` distinct keys of `ns` that land in `partition`.
std::vector<std::string> KeysIn(const std::string& ns, uint32_t partition,
                                int count, const std::string& prefix = "key") {
  std::vector<std::string> keys;
  for (int i = 0; static_cast<int>(keys.size()) < count; ++i) {
    std::string key = absl::StrCat(prefix, "-", i);
    if (PartitionOf(ns, key, kPartitions) == partition) {
      keys.push_back(std::move(key));
    }
  }
  return keys;
}

std::string KeyIn(const std::string& ns, uint32_t partition,
                  const std::string& prefix = "key") {
  return KeysIn(ns, partition, 1, prefix).front();
}

std::vector<TablePartition> Uniform(std::vector<std::string> replicas,
                                    uint64_t term) {
  return std::vector<TablePartition>(kPartitions,
                                     TablePartition{std::move(replicas), term});
}

// A table of kPartitions partitions, naming the addresses of the nodes it
// holds.
v1::PartitionTable MakeTable(uint64_t epoch,
                             const std::vector<TablePartition>& specs) {
  std::set<std::string> named;
  for (const TablePartition& spec : specs) {
    named.insert(spec.replicas.begin(), spec.replicas.end());
  }
  TableAddresses addresses;
  for (const std::string& node : named) {
    addresses.emplace_back(node, node == kSelf ? kSelfAddress : kOtherAddress);
  }
  return cache::TableOf(epoch, specs, addresses);
}

// Every partition's primary is this node, alone.
v1::PartitionTable SelfTable(uint64_t epoch, uint64_t term) {
  return MakeTable(epoch, Uniform({kSelf}, term));
}

// `partition` is held by "other" (primary) and this node (backup); every
// other partition by "other" alone.
v1::PartitionTable BackupTable(uint64_t epoch, uint32_t partition,
                               uint64_t term) {
  std::vector<TablePartition> specs = Uniform({kOther}, term);
  specs[partition].replicas = {kOther, kSelf};
  return MakeTable(epoch, specs);
}

v1::PutRequest MakePut(const std::string& ns, const std::string& key,
                       const std::string& value, uint64_t ttl_ms = 0,
                       std::optional<uint64_t> expected = std::nullopt) {
  v1::PutRequest request;
  request.set_namespace_(ns);
  request.set_key(key);
  request.set_value(value);
  request.set_ttl_ms(ttl_ms);
  if (expected.has_value()) {
    request.mutable_expected_version()->set_value(*expected);
  }
  return request;
}

v1::DeleteRequest MakeDelete(const std::string& ns, const std::string& key,
                             std::optional<uint64_t> expected = std::nullopt) {
  v1::DeleteRequest request;
  request.set_namespace_(ns);
  request.set_key(key);
  if (expected.has_value()) {
    request.mutable_expected_version()->set_value(*expected);
  }
  return request;
}

v1::TouchRequest MakeTouch(const std::string& ns, const std::string& key,
                           uint64_t ttl_ms) {
  v1::TouchRequest request;
  request.set_namespace_(ns);
  request.set_key(key);
  request.set_ttl_ms(ttl_ms);
  return request;
}

v1::GetRequest MakeGet(const std::string& ns, const std::string& key) {
  v1::GetRequest request;
  request.set_namespace_(ns);
  request.set_key(key);
  return request;
}

v1::ReplicateItem MakeItem(uint32_t partition, const std::string& ns,
                           const std::string& key, const std::string& value,
                           uint64_t version, uint64_t previous_version,
                           uint64_t term) {
  v1::ReplicateItem item;
  v1::ReplicatedWrite* write = item.mutable_write();
  write->set_partition(partition);
  write->set_namespace_(ns);
  write->set_key(key);
  write->set_value(value);
  write->set_version(version);
  item.set_term(term);
  item.set_previous_version(previous_version);
  return item;
}

v1::ReplicateRequest MakeReplicate(std::vector<v1::ReplicateItem> items) {
  v1::ReplicateRequest request;
  request.set_from_node(kOther);
  for (v1::ReplicateItem& item : items) *request.add_items() = std::move(item);
  return request;
}

v1::ConfigEvent SessionConfig(v1::ConfigEvent::Kind kind,
                              const std::string& group,
                              const std::string& seconds) {
  v1::ConfigEvent event;
  event.set_kind(kind);
  event.set_revision(1);
  v1::ConfigEntry* entry = event.add_entries();
  entry->set_path(absl::StrCat("groups/", group, "/session/timeout_seconds"));
  entry->set_value(seconds);
  return event;
}

// A stand-in for another cache node (defined with the promotion tests).
class FakeSource;

class CacheNodeCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("cache_node_core");
    Start(nullptr);
  }

  // (Re)creates the store and the core, the store with `free_space`.
  void Start(std::shared_ptr<FreeSpaceMonitor> free_space) {
    core_.reset();
    store_.reset();
    PartitionStoreOptions store_options;
    store_options.data_dir = dir_;
    store_options.block_cache_bytes = 8 << 20;
    store_options.free_space = std::move(free_space);
    std::shared_ptr<std::atomic<int64_t>> clock = clock_;
    store_options.now_ms = [clock] { return clock->load(); };
    absl::StatusOr<std::unique_ptr<PartitionStore>> store =
        PartitionStore::Open(std::move(store_options));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);

    CacheNodeOptions options;
    options.node_id = kSelf;
    options.max_value_bytes = kMaxValueBytes;
    // One entry per catch-up chunk, so chunking is visible.
    options.catch_up_chunk_bytes = 1;
    options.keep_left_copies_for = keep_left_copies_for_;
    core_ = std::make_unique<CacheNodeCore>(
        options, store_.get(), std::make_shared<NodeChannels>(nullptr));
  }

  void TearDown() override {
    core_.reset();
    store_.reset();
  }

  int64_t Now() const { return clock_->load(); }
  void Advance(int64_t ms) { clock_->fetch_add(ms); }

  // Waits (bounded) until this node serves `partition` as primary: Get
  // stops answering UNAVAILABLE.
  bool AwaitServing(uint32_t partition) {
    const v1::GetRequest probe =
        MakeGet("probe", KeyIn("probe", partition, "probe"));
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (absl::Now() < deadline) {
      absl::StatusOr<v1::GetResponse> got = core_->Get(probe);
      if (got.status().code() != absl::StatusCode::kUnavailable) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  void AwaitAllServing() {
    for (uint32_t p = 0; p < kPartitions; ++p) {
      ASSERT_TRUE(AwaitServing(p)) << "partition " << p << " never served";
    }
  }

  // Defined with the promotion tests below.
  void ExpectPromotionWithoutTheFrozenPrimary(bool early_new_term_pull);
  void ExpectStillPullingFrom(const FakeSource& primary);

  // Pulls every partition from this node as another node's promotion to
  // `term` does, which raises this node's fences to `term`.
  void PullEveryPartition(uint64_t term) {
    for (uint32_t p = 0; p < kPartitions; ++p) {
      v1::CatchUpRequest request;
      request.set_partition(p);
      request.set_term(term);
      request.set_from_node(kOther);
      absl::StatusOr<uint64_t> served = core_->ServeCatchUp(
          request, [](std::vector<v1::ReplicatedWrite>&) { return true; });
      ASSERT_TRUE(served.ok()) << served.status();
    }
  }

  // Restarts the core keeping left copies for 300 ms, makes it the only
  // copy of every partition (table epoch 1, term 1) and stores "v" at
  // `key` of namespace "objects".
  void StoreAsSolePrimaryKeepingLeftCopies(const std::string& key) {
    keep_left_copies_for_ = absl::Milliseconds(300);
    Start(nullptr);
    BecomeSolePrimary(/*epoch=*/1, /*term=*/1);
    ASSERT_GT(MustPut(MakePut("objects", key, "v")), 0u);
  }

  // Adopts a table naming this node the only copy of every partition and
  // waits for the promotions.
  void BecomeSolePrimary(uint64_t epoch, uint64_t term) {
    core_->OnTable(SelfTable(epoch, term));
    AwaitAllServing();
  }

  // Runs an asynchronous operation and waits (bounded) for its outcome.
  template <typename Response, typename Request>
  absl::StatusOr<Response> Call(void (CacheNodeCore::*method)(const Request&,
                                                              Done<Response>),
                                const Request& request) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<Response>>>();
    std::future<absl::StatusOr<Response>> future = promise->get_future();
    (core_.get()->*method)(request, [promise](absl::StatusOr<Response> r) {
      promise->set_value(std::move(r));
    });
    if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      return absl::DeadlineExceededError("the operation never completed");
    }
    return future.get();
  }

  absl::StatusOr<v1::PutResponse> Put(const v1::PutRequest& request) {
    return Call(&CacheNodeCore::Put, request);
  }
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& request) {
    return Call(&CacheNodeCore::Delete, request);
  }
  absl::StatusOr<v1::TouchResponse> Touch(const v1::TouchRequest& request) {
    return Call(&CacheNodeCore::Touch, request);
  }

  // Puts and expects success; returns the version (0 on failure).
  uint64_t MustPut(const v1::PutRequest& request) {
    absl::StatusOr<v1::PutResponse> put = Put(request);
    EXPECT_TRUE(put.ok()) << put.status();
    return put.ok() ? put->version() : 0;
  }

  v1::GetResponse MustGet(const std::string& ns, const std::string& key) {
    absl::StatusOr<v1::GetResponse> got = core_->Get(MakeGet(ns, key));
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : v1::GetResponse();
  }

  std::optional<StoredEntry> MustRead(uint32_t partition, const std::string& ns,
                                      const std::string& key) {
    absl::StatusOr<std::optional<StoredEntry>> entry =
        store_->Read(partition, ns, key);
    EXPECT_TRUE(entry.ok()) << entry.status();
    return entry.ok() ? *entry : std::nullopt;
  }

  // Copies of partitions left are dropped at once unless a test sets this
  // and calls Start again.
  absl::Duration keep_left_copies_for_ = absl::ZeroDuration();
  std::string dir_;
  std::shared_ptr<std::atomic<int64_t>> clock_ =
      std::make_shared<std::atomic<int64_t>>(kStartMs);
  std::unique_ptr<PartitionStore> store_;
  std::unique_ptr<CacheNodeCore> core_;
};

// ------------------------------------------------------------- routing

TEST_F(CacheNodeCoreTest, EverythingIsUnavailableBeforeAnyTable) {
  EXPECT_FALSE(core_->HasTable());
  uint32_t partition = 0;
  EXPECT_THAT(core_->RouteFor("objects", "a", &partition),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("no partition table")));
  EXPECT_THAT(core_->Get(MakeGet("objects", "a")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
  EXPECT_THAT(Put(MakePut("objects", "a", "v")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));

  v1::ReplicateResponse replicated = core_->Replicate(
      MakeReplicate({MakeItem(0, "objects", "a", "v", TermBase(1) + 1, 0, 1)}));
  ASSERT_EQ(replicated.results_size(), 1);
  EXPECT_EQ(replicated.results(0).code(),
            static_cast<int>(absl::StatusCode::kUnavailable));

  v1::StatsResponse stats = core_->Stats();
  EXPECT_EQ(stats.node_id(), kSelf);
  EXPECT_EQ(stats.table_epoch(), 0u);
  EXPECT_EQ(stats.partitions_size(), 0);
}

TEST_F(CacheNodeCoreTest, RoutesLocallyWhenThisNodeIsPrimary) {
  core_->OnTable(SelfTable(/*epoch=*/1, /*term=*/1));
  ASSERT_TRUE(core_->HasTable());
  EXPECT_EQ(core_->table()->epoch(), 1u);
  uint32_t partition = 99;
  absl::StatusOr<Route> route = core_->RouteFor("objects", "a", &partition);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_TRUE(route->local);
  EXPECT_EQ(route->primary_id, kSelf);
  EXPECT_EQ(partition, PartitionOf("objects", "a", kPartitions));
}

TEST_F(CacheNodeCoreTest, RoutesToTheOtherPrimary) {
  core_->OnTable(MakeTable(/*epoch=*/1, Uniform({kOther}, /*term=*/1)));
  uint32_t partition = 99;
  absl::StatusOr<Route> route = core_->RouteFor("objects", "a", &partition);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_FALSE(route->local);
  EXPECT_EQ(route->primary_id, kOther);
  EXPECT_EQ(route->primary_address, kOtherAddress);
  EXPECT_EQ(partition, PartitionOf("objects", "a", kPartitions));

  // Requests that reach this node anyway are refused, naming the primary.
  EXPECT_THAT(
      core_->Get(MakeGet("objects", "a")),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("'other'")));
  EXPECT_THAT(Put(MakePut("objects", "a", "v")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not the primary")));
}

TEST_F(CacheNodeCoreTest, IgnoresTablesThatAreNotNewer) {
  core_->OnTable(SelfTable(/*epoch=*/2, /*term=*/2));
  core_->OnTable(MakeTable(/*epoch=*/2, Uniform({kOther}, /*term=*/2)));
  core_->OnTable(MakeTable(/*epoch=*/1, Uniform({kOther}, /*term=*/1)));
  absl::StatusOr<Route> route = core_->RouteFor("objects", "a", nullptr);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_TRUE(route->local);
  EXPECT_EQ(core_->table()->epoch(), 2u);
}

TEST_F(CacheNodeCoreTest, PartitionWithoutReplicasIsUnavailable) {
  const std::string key = KeyIn("objects", 5);
  std::vector<TablePartition> specs = Uniform({kSelf}, 1);
  specs[5].replicas.clear();
  core_->OnTable(MakeTable(/*epoch=*/1, specs));
  EXPECT_THAT(core_->RouteFor("objects", key, nullptr),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("partition 5 has no cache node")));
}

// The coordinator keeps a partition on its replicas while none is live,
// so the table names nodes it gives no address for.
TEST_F(CacheNodeCoreTest, APartitionWaitingForItsNodesIsUnavailable) {
  const std::string key = KeyIn("objects", 5);
  std::vector<TablePartition> specs = Uniform({kSelf}, 1);
  specs[5].replicas = {"gone-1", "gone-2"};
  core_->OnTable(cache::TableOf(/*epoch=*/1, specs, {{kSelf, kSelfAddress}}));
  EXPECT_THAT(core_->RouteFor("objects", key, nullptr),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("partition 5 waits for one of its cache "
                                 "nodes (gone-1, gone-2) to come back")));
  EXPECT_TRUE(IsNotApplied(core_->RouteFor("objects", key, nullptr).status()));
}

// A node whose lease lapsed may still find itself primary of a partition
// that waits for its replicas: it takes no write that its backups, not
// live, cannot hold.
TEST_F(CacheNodeCoreTest, APrimaryWithoutLiveBackupsRefusesWrites) {
  std::vector<TablePartition> specs = Uniform({kSelf}, 1);
  specs[6].replicas = {kSelf, "gone-1", "gone-2"};
  core_->OnTable(cache::TableOf(/*epoch=*/1, specs, {{kSelf, kSelfAddress}}));
  ASSERT_TRUE(AwaitServing(6));
  const std::string key = KeyIn("objects", 6);
  absl::StatusOr<v1::PutResponse> put = Put(MakePut("objects", key, "v"));
  EXPECT_THAT(put, StatusIs(absl::StatusCode::kUnavailable,
                            HasSubstr("partition 6 has 0 other cop(ies) on "
                                      "live cache nodes, fewer than the 1")));
  EXPECT_TRUE(IsNotApplied(put.status()));
  EXPECT_FALSE(MustRead(6, "objects", key).has_value());
  // Partitions with only this node take writes as before.
  EXPECT_GT(MustPut(MakePut("objects", KeyIn("objects", 7), "v")), 0u);
}

TEST_F(CacheNodeCoreTest, RejectsBadNamespacesAndKeys) {
  BecomeSolePrimary(/*epoch=*/1, /*term=*/1);
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(core_->RouteFor("", "a", nullptr),
              StatusIs(kInvalid, HasSubstr("namespace")));
  EXPECT_THAT(core_->RouteFor("has space", "a", nullptr),
              StatusIs(kInvalid, HasSubstr("namespace")));
  EXPECT_THAT(core_->RouteFor(std::string(129, 'n'), "a", nullptr),
              StatusIs(kInvalid, HasSubstr("namespace")));
  EXPECT_THAT(core_->RouteFor("objects", "", nullptr),
              StatusIs(kInvalid, HasSubstr("key")));
  EXPECT_THAT(core_->RouteFor("objects", std::string(1025, 'k'), nullptr),
              StatusIs(kInvalid, HasSubstr("key")));
  // The longest allowed ones are fine.
  EXPECT_TRUE(
      core_->RouteFor(std::string(128, 'n'), std::string(1024, 'k'), nullptr)
          .ok());

  // Every operation validates its inputs.
  EXPECT_THAT(core_->Get(MakeGet("bad ns", "a")), StatusIs(kInvalid, _));
  EXPECT_THAT(Put(MakePut("objects", "", "v")), StatusIs(kInvalid, _));
  EXPECT_THAT(Delete(MakeDelete("bad ns", "a")), StatusIs(kInvalid, _));
  EXPECT_THAT(Touch(MakeTouch("objects", "", 100)), StatusIs(kInvalid, _));
}

TEST_F(CacheNodeCoreTest, DropsPartitionsItNoLongerHolds) {
  BecomeSolePrimary(/*epoch=*/1, /*term=*/1);
  const uint32_t p = 4;
  const std::string key = KeyIn("objects", p);
  MustPut(MakePut("objects", key, "v"));
  ASSERT_TRUE(MustRead(p, "objects", key).has_value());

  core_->OnTable(MakeTable(/*epoch=*/2, Uniform({kOther}, /*term=*/2)));
  absl::StatusOr<Route> route = core_->RouteFor("objects", key, nullptr);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_FALSE(route->local);
  EXPECT_FALSE(MustRead(p, "objects", key).has_value());
}

// The keys of `partition` that a catch-up from this node (another node
// taking the partition over in `term`) receives.
std::set<std::string> KeysPulled(CacheNodeCore& core, uint32_t partition,
                                 uint64_t term) {
  v1::CatchUpRequest request;
  request.set_partition(partition);
  request.set_term(term);
  request.set_from_node(kOther);
  std::set<std::string> keys;
  absl::StatusOr<uint64_t> served = core.ServeCatchUp(
      request, [&keys](std::vector<v1::ReplicatedWrite>& chunk) {
        for (const v1::ReplicatedWrite& write : chunk) keys.insert(write.key());
        return true;
      });
  EXPECT_TRUE(served.ok()) << served.status();
  return keys;
}

// A node whose lease lapsed under load may be the last holder of writes
// that the nodes taking its partitions over lack: it keeps its copy (and
// serves it to their catch-ups) for a while before dropping it.
TEST_F(CacheNodeCoreTest, KeepsALeftCopyForTheNodesTakingOverThenDropsIt) {
  const uint32_t p = 4;
  const std::string key = KeyIn("objects", p);
  ASSERT_NO_FATAL_FAILURE(StoreAsSolePrimaryKeepingLeftCopies(key));

  const absl::Time left = absl::Now();
  core_->OnTable(MakeTable(/*epoch=*/2, Uniform({kOther}, /*term=*/2)));
  EXPECT_EQ(KeysPulled(*core_, p, /*term=*/2), std::set<std::string>{key});
  // Not served to clients any more.
  EXPECT_FALSE(core_->RouteFor("objects", key, nullptr)->local);

  while (MustRead(p, "objects", key).has_value() &&
         absl::Now() - left < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GE(absl::Now() - left, absl::Milliseconds(300));
  EXPECT_FALSE(MustRead(p, "objects", key).has_value()) << "never dropped";
  EXPECT_TRUE(KeysPulled(*core_, p, /*term=*/2).empty());
}

// Named a replica again before the drop is due, the node keeps its copy
// and catches up from it instead of copying the partition anew.
TEST_F(CacheNodeCoreTest, ACopyLeftAndTakenBackInTimeIsKept) {
  const uint32_t p = 4;
  const std::string key = KeyIn("objects", p);
  ASSERT_NO_FATAL_FAILURE(StoreAsSolePrimaryKeepingLeftCopies(key));

  core_->OnTable(MakeTable(/*epoch=*/2, Uniform({kOther}, /*term=*/2)));
  BecomeSolePrimary(/*epoch=*/3, /*term=*/3);
  absl::SleepFor(absl::Milliseconds(600));  // Past the first drop's time.
  EXPECT_EQ(MustGet("objects", key).entry().value(), "v");

  // Leaving again schedules a new drop.
  core_->OnTable(MakeTable(/*epoch=*/4, Uniform({kOther}, /*term=*/4)));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (MustRead(p, "objects", key).has_value() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_FALSE(MustRead(p, "objects", key).has_value()) << "never dropped";
}

// ------------------------------------------------------------- versions

TEST_F(CacheNodeCoreTest, VersionsGrowWithinAPartitionAboveTheTermBase) {
  constexpr uint64_t kTerm = 5;
  BecomeSolePrimary(/*epoch=*/1, kTerm);
  const uint32_t p = 2;
  const std::vector<std::string> keys = KeysIn("objects", p, 3);

  std::vector<uint64_t> versions;
  versions.push_back(MustPut(MakePut("objects", keys[0], "a")));
  versions.push_back(MustPut(MakePut("objects", keys[1], "b")));
  versions.push_back(MustPut(MakePut("objects", keys[0], "c")));
  versions.push_back(MustPut(MakePut("objects", keys[2], "d")));
  EXPECT_GT(versions[0], TermBase(kTerm));
  EXPECT_LT(versions[0], TermBase(kTerm + 1));
  for (size_t i = 1; i < versions.size(); ++i) {
    EXPECT_GT(versions[i], versions[i - 1]) << "write " << i;
  }
  v1::GetResponse got = MustGet("objects", keys[0]);
  ASSERT_TRUE(got.found());
  EXPECT_EQ(got.entry().value(), "c");
  EXPECT_EQ(got.entry().version(), versions[2]);

  // The same partition under a newer primary term (still this node): after
  // the re-promotion, versions start above the new term's base.
  constexpr uint64_t kNewTerm = 7;
  std::vector<TablePartition> specs = Uniform({kSelf}, kTerm);
  specs[p].term = kNewTerm;
  core_->OnTable(MakeTable(/*epoch=*/2, specs));
  ASSERT_TRUE(AwaitServing(p));
  const uint64_t next = MustPut(MakePut("objects", keys[1], "e"));
  EXPECT_GT(next, TermBase(kNewTerm));
  EXPECT_GT(next, versions.back());
  EXPECT_GT(MustPut(MakePut("objects", keys[2], "f")), next);
  got = MustGet("objects", keys[0]);
  ASSERT_TRUE(got.found());
  EXPECT_EQ(got.entry().version(), versions[2]);

  // A partition whose term did not change keeps its term's versions.
  const uint64_t other =
      MustPut(MakePut("objects", KeyIn("objects", p + 1), "g"));
  EXPECT_GT(other, TermBase(kTerm));
  EXPECT_LT(other, TermBase(kTerm + 1));
}

TEST_F(CacheNodeCoreTest, APrimaryRestartedInTheSameTermNeverReusesAVersion) {
  constexpr uint64_t kTerm = 5;
  BecomeSolePrimary(/*epoch=*/1, kTerm);
  const uint32_t p = 4;
  const std::vector<std::string> keys = KeysIn("objects", p, 3);
  const uint64_t first = MustPut(MakePut("objects", keys[0], "a"));
  // Within a second of the first write: its contiguous version is not
  // stored with it (the clock is fake and stands still).
  const uint64_t second = MustPut(MakePut("objects", keys[1], "b"));
  ASSERT_GT(second, first);

  // kill -9: a copy of the store's files (the log holds both writes) is
  // opened by a new core, primary again in the same term.
  const std::string copy = MakeTempDir("cache_node_core_crash");
  std::filesystem::copy(dir_, copy,
                        std::filesystem::copy_options::overwrite_existing |
                            std::filesystem::copy_options::recursive);
  core_.reset();
  store_.reset();
  PartitionStoreOptions store_options;
  store_options.data_dir = copy;
  std::shared_ptr<std::atomic<int64_t>> clock = clock_;
  store_options.now_ms = [clock] { return clock->load(); };
  absl::StatusOr<std::unique_ptr<PartitionStore>> store =
      PartitionStore::Open(std::move(store_options));
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = std::move(*store);
  EXPECT_LT(store_->GetMeta(p)->contiguous_version, second);
  CacheNodeOptions options;
  options.node_id = kSelf;
  options.max_value_bytes = kMaxValueBytes;
  core_ = std::make_unique<CacheNodeCore>(
      options, store_.get(), std::make_shared<NodeChannels>(nullptr));
  BecomeSolePrimary(/*epoch=*/1, kTerm);

  EXPECT_EQ(MustGet("objects", keys[1]).entry().version(), second);
  const uint64_t third = MustPut(MakePut("objects", keys[2], "c"));
  EXPECT_GT(third, second);
  EXPECT_LT(third, TermBase(kTerm + 1));
  EXPECT_GT(MustPut(MakePut("objects", keys[1], "d")), third);
}

// ---------------------------------------------------- compare-and-set

TEST_F(CacheNodeCoreTest, CompareAndSetPutAndDelete) {
  BecomeSolePrimary(/*epoch=*/1, /*term=*/1);
  const std::string ns = "objects";
  const std::string key = "cas";

  // 0: must not exist.
  const uint64_t v1 = MustPut(MakePut(ns, key, "one", 0, /*expected=*/0));
  ASSERT_GT(v1, 0u);
  EXPECT_THAT(Put(MakePut(ns, key, "again", 0, /*expected=*/0)),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr(absl::StrCat("version ", v1))));
  const uint64_t v2 = MustPut(MakePut(ns, key, "two", 0, /*expected=*/v1));
  EXPECT_GT(v2, v1);
  EXPECT_THAT(Put(MakePut(ns, key, "stale", 0, /*expected=*/v1)),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr(absl::StrCat("version ", v2))));
  v1::GetResponse got = MustGet(ns, key);
  ASSERT_TRUE(got.found());
  EXPECT_EQ(got.entry().value(), "two");
  EXPECT_EQ(got.entry().version(), v2);

  // Delete with the wrong expected version changes nothing.
  EXPECT_THAT(Delete(MakeDelete(ns, key, /*expected=*/v1)),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr(absl::StrCat("version ", v2))));
  EXPECT_TRUE(MustGet(ns, key).found());

  absl::StatusOr<v1::DeleteResponse> deleted =
      Delete(MakeDelete(ns, key, /*expected=*/v2));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(deleted->existed());
  EXPECT_GT(deleted->version(), v2);
  const uint64_t tombstone = deleted->version();
  EXPECT_FALSE(MustGet(ns, key).found());

  // Deleting what is not there is not an error.
  deleted = Delete(MakeDelete(ns, key));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_FALSE(deleted->existed());
  deleted = Delete(MakeDelete(ns, "never-written"));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_FALSE(deleted->existed());

  // A deleted entry counts as absent for compare-and-set.
  const uint64_t v3 = MustPut(MakePut(ns, key, "three", 0, /*expected=*/0));
  EXPECT_GT(v3, tombstone);
  // Unconditional puts overwrite.
  EXPECT_GT(MustPut(MakePut(ns, key, "four")), v3);
}

TEST_F(CacheNodeCoreTest, TouchAndValueLimits) {
  BecomeSolePrimary(/*epoch=*/1, /*term=*/1);
  absl::StatusOr<v1::TouchResponse> touched =
      Touch(MakeTouch("objects", "absent", 1000));
  ASSERT_TRUE(touched.ok()) << touched.status();
  EXPECT_FALSE(touched->found());
  EXPECT_FALSE(MustGet("objects", "absent").found());

  EXPECT_THAT(Touch(MakeTouch("objects", "absent", 0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));

  EXPECT_THAT(
      Put(MakePut("objects", "big", std::string(kMaxValueBytes + 1, 'x'))),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bytes")));
  EXPECT_FALSE(MustGet("objects", "big").found());
  EXPECT_GT(
      MustPut(MakePut("objects", "big", std::string(kMaxValueBytes, 'x'))), 0u);
}

// ------------------------------------------------------------- expiry

TEST_F(CacheNodeCoreTest, EntriesExpireWithTheirTtl) {
  BecomeSolePrimary(/*epoch=*/1, /*term=*/1);
  const int64_t start = Now();
  MustPut(MakePut("objects", "short", "v", /*ttl_ms=*/1000));
  v1::GetResponse got = MustGet("objects", "short");
  ASSERT_TRUE(got.found());
  EXPECT_EQ(got.entry().expire_time_ms(), start + 1000);

  Advance(999);
  EXPECT_TRUE(MustGet("objects", "short").found());
  Advance(1);
  EXPECT_FALSE(MustGet("objects", "short").found());

  // An expired entry cannot be touched back to life, and counts as absent.
  absl::StatusOr<v1::TouchResponse> touched =
      Touch(MakeTouch("objects", "short", 1000));
  ASSERT_TRUE(touched.ok()) << touched.status();
  EXPECT_FALSE(touched->found());
  EXPECT_GT(MustPut(MakePut("objects", "short", "w", 0, /*expected=*/0)), 0u);

  // Touch moves the expiry to now + ttl.
  MustPut(MakePut("objects", "touched", "v", /*ttl_ms=*/1000));
  Advance(500);
  touched = Touch(MakeTouch("objects", "touched", 1000));
  ASSERT_TRUE(touched.ok()) << touched.status();
  EXPECT_TRUE(touched->found());
  got = MustGet("objects", "touched");
  ASSERT_TRUE(got.found());
  EXPECT_EQ(got.entry().expire_time_ms(), Now() + 1000);
  EXPECT_EQ(got.entry().version(), touched->version());
  Advance(900);
  EXPECT_TRUE(MustGet("objects", "touched").found());
  Advance(100);
  EXPECT_FALSE(MustGet("objects", "touched").found());
}

TEST_F(CacheNodeCoreTest, SessionNamespacesTakeTheGroupsSessionTimeout) {
  BecomeSolePrimary(/*epoch=*/1, /*term=*/1);
  core_->OnGroupConfig(SessionConfig(v1::ConfigEvent::SNAPSHOT, "web", "2"));

  MustPut(MakePut("sessions/web", "s1", "v"));
  v1::GetResponse got = MustGet("sessions/web", "s1");
  ASSERT_TRUE(got.found());
  EXPECT_EQ(got.entry().expire_time_ms(), Now() + 2000);

  // An explicit ttl wins.
  MustPut(MakePut("sessions/web", "s2", "v", /*ttl_ms=*/500));
  EXPECT_EQ(MustGet("sessions/web", "s2").entry().expire_time_ms(),
            Now() + 500);

  // Other namespaces and groups get no default.
  MustPut(MakePut("objects", "o1", "v"));
  EXPECT_EQ(MustGet("objects", "o1").entry().expire_time_ms(), 0);
  MustPut(MakePut("sessions/api", "s1", "v"));
  EXPECT_EQ(MustGet("sessions/api", "s1").entry().expire_time_ms(), 0);
  MustPut(MakePut("sessions/webx", "s1", "v"));
  EXPECT_EQ(MustGet("sessions/webx", "s1").entry().expire_time_ms(), 0);

  Advance(2000);
  EXPECT_FALSE(MustGet("sessions/web", "s1").found());
  EXPECT_TRUE(MustGet("objects", "o1").found());

  // A new snapshot without the entry removes the default.
  v1::ConfigEvent empty;
  empty.set_kind(v1::ConfigEvent::SNAPSHOT);
  core_->OnGroupConfig(empty);
  MustPut(MakePut("sessions/web", "s3", "v"));
  EXPECT_EQ(MustGet("sessions/web", "s3").entry().expire_time_ms(), 0);
}

// ----------------------------------------------------- low disk space

TEST_F(CacheNodeCoreTest, RefusesWritesButServesReadsWhenLowOnDiskSpace) {
  auto free = std::make_shared<std::atomic<uint64_t>>(uint64_t{1} << 30);
  FreeSpaceOptions space;
  space.path = dir_;
  space.min_free_bytes = 64 << 20;
  space.stat = [free](const std::string&) -> absl::StatusOr<FilesystemSpace> {
    return FilesystemSpace{free->load(), uint64_t{100} << 30};
  };
  auto monitor = std::make_shared<FreeSpaceMonitor>(space);
  Start(monitor);
  BecomeSolePrimary(/*epoch=*/1, /*term=*/1);
  const std::string key = KeyIn("objects", 2);
  MustPut(MakePut("objects", key, "before"));
  EXPECT_FALSE(core_->Stats().low_on_disk());
  EXPECT_EQ(core_->Stats().disk_reserve_bytes(), uint64_t{64} << 20);

  free->store(uint64_t{10} << 20);
  monitor->Refresh();
  // While the node may hand its partitions over: UNAVAILABLE, retry.
  EXPECT_THAT(Put(MakePut("objects", key, "after")),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr(dir_), HasSubstr("10.0 MiB free"),
                             HasSubstr("hands its partitions over"))));
  // Staying in the tier: RESOURCE_EXHAUSTED.
  core_->SetLowDiskPlan(CacheNodeCore::LowDiskPlan::kStay);
  EXPECT_THAT(Put(MakePut("objects", key, "after")),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr(dir_), HasSubstr("10.0 MiB free"))));
  EXPECT_THAT(Delete(MakeDelete("objects", key)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("")));
  EXPECT_EQ(MustGet("objects", key).entry().value(), "before");
  const v1::StatsResponse stats = core_->Stats();
  EXPECT_TRUE(stats.low_on_disk());
  EXPECT_EQ(stats.disk_free_bytes(), uint64_t{10} << 20);
  EXPECT_EQ(stats.errors(), 0u);

  // Space back: writes resume.
  free->store(uint64_t{1} << 30);
  monitor->Refresh();
  EXPECT_GT(MustPut(MakePut("objects", key, "after")), 0u);
  EXPECT_FALSE(core_->Stats().low_on_disk());
}

// ------------------------------------------------ replication (backup)

class CacheNodeBackupTest : public CacheNodeCoreTest {
 protected:
  static constexpr uint32_t kPartition = 3;
  static constexpr uint64_t kTerm = 4;

  void SetUp() override {
    CacheNodeCoreTest::SetUp();
    if (HasFatalFailure()) return;
    core_->OnTable(BackupTable(/*epoch=*/1, kPartition, kTerm));
  }

  v1::ReplicateItem Item(const std::string& key, const std::string& value,
                         uint64_t version, uint64_t previous,
                         uint64_t term = kTerm) {
    return MakeItem(kPartition, "objects", key, value, version, previous, term);
  }

  uint64_t Base() const { return TermBase(kTerm); }
};

TEST_F(CacheNodeBackupTest, InOrderWritesAdvanceTheContiguousVersion) {
  v1::ReplicateResponse response = core_->Replicate(MakeReplicate(
      {Item("a", "1", Base() + 1, 0), Item("b", "2", Base() + 2, Base() + 1)}));
  ASSERT_EQ(response.results_size(), 2);
  for (const v1::ReplicateResult& result : response.results()) {
    EXPECT_EQ(result.code(), 0);
    EXPECT_EQ(result.contiguous_version(), Base() + 2);
  }
  response =
      core_->Replicate(MakeReplicate({Item("a", "3", Base() + 3, Base() + 2)}));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).code(), 0);
  EXPECT_EQ(response.results(0).contiguous_version(), Base() + 3);

  std::optional<StoredEntry> a = MustRead(kPartition, "objects", "a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->value, "3");
  EXPECT_EQ(a->header.version, Base() + 3);
  std::optional<StoredEntry> b = MustRead(kPartition, "objects", "b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->value, "2");

  absl::StatusOr<PartitionMeta> meta = store_->GetMeta(kPartition);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->contiguous_version, Base() + 3);

  // A backup does not serve reads itself.
  EXPECT_THAT(core_->Get(MakeGet("objects", KeyIn("objects", kPartition))),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("")));
}

// A primary sends a batch again when the stream it went out on broke
// before the answer (ReplicationLink): the writes the backup holds already
// change nothing, and count as held.
TEST_F(CacheNodeBackupTest, ABatchSentAgainChangesNothing) {
  const v1::ReplicateRequest first = MakeReplicate(
      {Item("a", "1", Base() + 1, 0), Item("b", "2", Base() + 2, Base() + 1)});
  ASSERT_EQ(core_->Replicate(first).results_size(), 2);
  ASSERT_EQ(
      core_->Replicate(MakeReplicate({Item("a", "3", Base() + 3, Base() + 2)}))
          .results_size(),
      1);

  v1::ReplicateResponse again = core_->Replicate(first);
  ASSERT_EQ(again.results_size(), 2);
  for (const v1::ReplicateResult& result : again.results()) {
    EXPECT_EQ(result.code(), 0);
    EXPECT_EQ(result.contiguous_version(), Base() + 3);
  }
  std::optional<StoredEntry> a = MustRead(kPartition, "objects", "a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->value, "3");
  EXPECT_EQ(a->header.version, Base() + 3);
  absl::StatusOr<PartitionMeta> meta = store_->GetMeta(kPartition);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->contiguous_version, Base() + 3);

  // In-order writes continue from there.
  v1::ReplicateResponse next =
      core_->Replicate(MakeReplicate({Item("c", "4", Base() + 4, Base() + 3)}));
  ASSERT_EQ(next.results_size(), 1);
  EXPECT_EQ(next.results(0).contiguous_version(), Base() + 4);
}

TEST_F(CacheNodeBackupTest, GapsHoldTheContiguousVersionUntilFilled) {
  v1::ReplicateResponse response =
      core_->Replicate(MakeReplicate({Item("a", "1", Base() + 1, 0)}));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).contiguous_version(), Base() + 1);

  // Base()+2 is missing: the later writes are applied, the contiguous
  // version stays.
  response =
      core_->Replicate(MakeReplicate({Item("c", "3", Base() + 3, Base() + 2),
                                      Item("d", "4", Base() + 4, Base() + 3)}));
  ASSERT_EQ(response.results_size(), 2);
  for (const v1::ReplicateResult& result : response.results()) {
    EXPECT_EQ(result.code(), 0);
    EXPECT_EQ(result.contiguous_version(), Base() + 1);
  }
  std::optional<StoredEntry> c = MustRead(kPartition, "objects", "c");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->header.version, Base() + 3);
  ASSERT_TRUE(MustRead(kPartition, "objects", "d").has_value());

  // Filling the gap moves through the writes already applied.
  response =
      core_->Replicate(MakeReplicate({Item("b", "2", Base() + 2, Base() + 1)}));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).code(), 0);
  EXPECT_EQ(response.results(0).contiguous_version(), Base() + 4);
  absl::StatusOr<PartitionMeta> meta = store_->GetMeta(kPartition);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->contiguous_version, Base() + 4);

  // And in-order writes continue from there.
  response =
      core_->Replicate(MakeReplicate({Item("e", "5", Base() + 5, Base() + 4)}));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).contiguous_version(), Base() + 5);
}

TEST_F(CacheNodeBackupTest, ABackupLowOnDiskSpaceRefusesReplicatedWrites) {
  FreeSpaceOptions space;
  space.path = dir_;
  space.min_free_bytes = 64 << 20;
  space.stat = [](const std::string&) -> absl::StatusOr<FilesystemSpace> {
    return FilesystemSpace{uint64_t{1} << 20, uint64_t{100} << 30};
  };
  Start(std::make_shared<FreeSpaceMonitor>(space));
  core_->OnTable(BackupTable(/*epoch=*/1, kPartition, kTerm));
  v1::ReplicateResponse response =
      core_->Replicate(MakeReplicate({Item("a", "1", Base() + 1, 0)}));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(response.results(0).contiguous_version(), 0u);
  EXPECT_FALSE(MustRead(kPartition, "objects", "a").has_value());
  EXPECT_EQ(core_->Stats().errors(), 0u);
}

TEST_F(CacheNodeBackupTest, RefusesWritesOfOlderTerms) {
  // Older than the table's term.
  v1::ReplicateResponse response = core_->Replicate(
      MakeReplicate({Item("old", "x", TermBase(kTerm - 1) + 1, 0, kTerm - 1)}));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(response.results(0).code(), 9);
  EXPECT_FALSE(MustRead(kPartition, "objects", "old").has_value());

  // A newer term raises the fence...
  const uint64_t newer = TermBase(kTerm + 1) + 1;
  response =
      core_->Replicate(MakeReplicate({Item("new", "y", newer, 0, kTerm + 1)}));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).code(), 0);
  EXPECT_EQ(response.results(0).contiguous_version(), newer);
  ASSERT_TRUE(MustRead(kPartition, "objects", "new").has_value());

  // ... so the table's own term is now stale too, even mixed in a batch.
  response = core_->Replicate(
      MakeReplicate({Item("stale", "z", Base() + 1, 0, kTerm),
                     Item("next", "w", newer + 1, newer, kTerm + 1)}));
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(0).code(), 9);
  EXPECT_EQ(response.results(1).code(), 0);
  EXPECT_EQ(response.results(1).contiguous_version(), newer + 1);
  EXPECT_FALSE(MustRead(kPartition, "objects", "stale").has_value());
  EXPECT_TRUE(MustRead(kPartition, "objects", "next").has_value());

  absl::StatusOr<PartitionMeta> meta = store_->GetMeta(kPartition);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->term_fence, kTerm + 1);
}

TEST_F(CacheNodeBackupTest, HighestVersionWins) {
  // The newer write arrives first (past a gap), then the older one.
  v1::ReplicateResponse response = core_->Replicate(
      MakeReplicate({Item("k", "new", Base() + 2, Base() + 1)}));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).code(), 0);
  response = core_->Replicate(MakeReplicate({Item("k", "old", Base() + 1, 0)}));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).code(), 0);
  // The older write still fills the gap.
  EXPECT_EQ(response.results(0).contiguous_version(), Base() + 2);

  std::optional<StoredEntry> k = MustRead(kPartition, "objects", "k");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->value, "new");
  EXPECT_EQ(k->header.version, Base() + 2);

  // The same within one batch.
  response = core_->Replicate(
      MakeReplicate({Item("j", "newer", Base() + 4, Base() + 3),
                     Item("j", "older", Base() + 3, Base() + 2)}));
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(1).contiguous_version(), Base() + 4);
  std::optional<StoredEntry> j = MustRead(kPartition, "objects", "j");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->value, "newer");
  EXPECT_EQ(j->header.version, Base() + 4);
}

TEST_F(CacheNodeBackupTest, RejectsUnknownPartitions) {
  v1::ReplicateResponse response = core_->Replicate(MakeReplicate(
      {MakeItem(kPartitions + 1, "objects", "a", "v", Base() + 1, 0, kTerm)}));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
}

// ------------------------------------------------------------- fencing

TEST_F(CacheNodeCoreTest, ServeCatchUpStreamsEntriesAboveAVersion) {
  constexpr uint64_t kTerm = 2;
  BecomeSolePrimary(/*epoch=*/1, kTerm);
  const uint32_t p = 6;
  const std::vector<std::string> keys = KeysIn("objects", p, 3);
  const uint64_t v1 = MustPut(MakePut("objects", keys[0], "a"));
  const uint64_t v2 = MustPut(MakePut("objects", keys[1], "b"));
  const uint64_t v3 = MustPut(MakePut("objects", keys[2], "c"));
  // Another partition's entry is not streamed.
  MustPut(MakePut("objects", KeyIn("objects", p + 1), "elsewhere"));

  v1::CatchUpRequest request;
  request.set_partition(p);
  request.set_after_version(v1);
  request.set_term(kTerm);
  request.set_from_node(kOther);
  std::vector<v1::ReplicatedWrite> streamed;
  int chunks = 0;
  absl::StatusOr<uint64_t> snapshot = core_->ServeCatchUp(
      request, [&](std::vector<v1::ReplicatedWrite>& chunk) {
        ++chunks;
        for (v1::ReplicatedWrite& write : chunk) streamed.push_back(write);
        return true;
      });
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(*snapshot, v3);
  ASSERT_EQ(streamed.size(), 2u);
  std::vector<std::pair<std::string, uint64_t>> got;
  for (const v1::ReplicatedWrite& write : streamed) {
    EXPECT_EQ(write.partition(), p);
    EXPECT_EQ(write.namespace_(), "objects");
    got.emplace_back(write.key(), write.version());
  }
  EXPECT_THAT(got, UnorderedElementsAre(std::make_pair(keys[1], v2),
                                        std::make_pair(keys[2], v3)));
  EXPECT_EQ(chunks, 2);  // One entry per chunk (catch_up_chunk_bytes = 1).

  // `emit` returning false stops the stream.
  request.set_after_version(0);
  chunks = 0;
  snapshot =
      core_->ServeCatchUp(request, [&](std::vector<v1::ReplicatedWrite>&) {
        ++chunks;
        return false;
      });
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(chunks, 1);

  // Deletes are streamed as tombstones.
  absl::StatusOr<v1::DeleteResponse> deleted =
      Delete(MakeDelete("objects", keys[1]));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  request.set_after_version(v3);
  streamed.clear();
  snapshot = core_->ServeCatchUp(request,
                                 [&](std::vector<v1::ReplicatedWrite>& chunk) {
                                   for (v1::ReplicatedWrite& write : chunk)
                                     streamed.push_back(write);
                                   return true;
                                 });
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(*snapshot, deleted->version());
  ASSERT_EQ(streamed.size(), 1u);
  EXPECT_EQ(streamed[0].key(), keys[1]);
  EXPECT_TRUE(streamed[0].deleted());
  EXPECT_EQ(streamed[0].version(), deleted->version());

  // The same term fences nothing: this node still takes writes.
  EXPECT_GT(MustPut(MakePut("objects", keys[0], "d")), deleted->version());

  EXPECT_GE(core_->Stats().catch_ups(), 3u);

  request.set_partition(kPartitions);
  EXPECT_THAT(
      core_->ServeCatchUp(
          request, [](std::vector<v1::ReplicatedWrite>&) { return true; }),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("")));
}

TEST_F(CacheNodeCoreTest, CatchUpWithANewerTermFencesThePrimary) {
  constexpr uint64_t kTerm = 2;
  BecomeSolePrimary(/*epoch=*/1, kTerm);
  const uint32_t p = 1;
  const std::string key = KeyIn("objects", p);
  const uint64_t version = MustPut(MakePut("objects", key, "v"));

  v1::CatchUpRequest request;
  request.set_partition(p);
  request.set_after_version(0);
  request.set_term(kTerm + 1);
  request.set_from_node(kOther);
  std::vector<v1::ReplicatedWrite> streamed;
  absl::StatusOr<uint64_t> snapshot = core_->ServeCatchUp(
      request, [&](std::vector<v1::ReplicatedWrite>& chunk) {
        for (v1::ReplicatedWrite& write : chunk) streamed.push_back(write);
        return true;
      });
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(*snapshot, version);
  ASSERT_EQ(streamed.size(), 1u);
  EXPECT_EQ(streamed[0].key(), key);

  // A newer primary term exists: this node may not acknowledge writes (or
  // serve reads) of the partition any more.
  EXPECT_THAT(Put(MakePut("objects", key, "w")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("newer primary term")));
  EXPECT_THAT(Delete(MakeDelete("objects", key)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("newer primary term")));
  EXPECT_THAT(core_->Get(MakeGet("objects", key)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("newer primary term")));
  std::optional<StoredEntry> stored = MustRead(p, "objects", key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->value, "v");

  absl::StatusOr<PartitionMeta> meta = store_->GetMeta(p);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->term_fence, kTerm + 1);

  // Other partitions are not affected.
  EXPECT_GT(MustPut(MakePut("objects", KeyIn("objects", p + 1), "v")), 0u);
}

// ----------------------------------------------------------- promotion

// A stand-in for another cache node that serves catch-ups of an empty
// partition, a backup's too unless `refuse_backups`; once frozen, it holds
// every catch-up without answering (as a process stopped with SIGSTOP).
class FakeSource final : public v1::CacheNode::Service {
 public:
  explicit FakeSource(bool refuse_backups) : refuse_backups_(refuse_backups) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeSource() override {
    closing_ = true;
    server_->Shutdown();
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int backup_catch_ups() const { return backup_catch_ups_.load(); }
  int pulls() const { return pulls_.load(); }
  void Freeze() { frozen_ = true; }

  grpc::Status CatchUp(grpc::ServerContext* context,
                       const v1::CatchUpRequest* request,
                       grpc::ServerWriter<v1::CatchUpChunk>* writer) override {
    if (frozen_) {
      if (!request->from_backup()) ++pulls_;
      while (!closing_ && !context->IsCancelled()) {
        absl::SleepFor(absl::Milliseconds(10));
      }
      return grpc::Status(grpc::StatusCode::CANCELLED, "frozen");
    }
    if (request->from_backup()) {
      if (refuse_backups_) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not serving yet");
      }
      ++backup_catch_ups_;
    }
    v1::CatchUpChunk last;
    last.set_last(true);
    writer->Write(last);
    return grpc::Status::OK;
  }

 private:
  const bool refuse_backups_;
  std::atomic<bool> frozen_{false};
  std::atomic<bool> closing_{false};
  std::atomic<int> backup_catch_ups_{0};
  std::atomic<int> pulls_{0};
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// A table of kPartitions partitions with these replicas (primary first)
// and term, naming `addresses`.
v1::PartitionTable TableOf(uint64_t epoch, uint64_t term,
                           const std::vector<std::string>& replicas,
                           const TableAddresses& addresses) {
  return UniformTable(epoch, term, kPartitions, replicas, addresses);
}

// Makes `core` a backup in term 1 (table epoch 1) of `primary`, with
// `other` the second backup, and waits until it caught up from `primary`
// in every partition.
void BackUpUntilCaughtUp(CacheNodeCore& core, FakeSource& primary,
                         FakeSource& other) {
  core.OnTable(TableOf(1, 1, {"primary", kSelf, kOther},
                       {{"primary", primary.address()},
                        {kSelf, kSelfAddress},
                        {kOther, other.address()}}));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (primary.backup_catch_ups() < static_cast<int>(kPartitions) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(primary.backup_catch_ups(), static_cast<int>(kPartitions));
  absl::SleepFor(absl::Milliseconds(100));  // The last ones are recorded.
}

// This node, a caught-up backup of a primary that then froze (and, when
// `early_new_term_pull`, pulled at the new term by the other survivor
// first), becomes primary of every partition within 3 s of the table that
// drops the frozen one, without pulling from it.
void CacheNodeCoreTest::ExpectPromotionWithoutTheFrozenPrimary(
    bool early_new_term_pull) {
  FakeSource primary(/*refuse_backups=*/false);
  FakeSource other(/*refuse_backups=*/false);
  ASSERT_NO_FATAL_FAILURE(BackUpUntilCaughtUp(*core_, primary, other));

  primary.Freeze();
  if (early_new_term_pull) PullEveryPartition(/*term=*/2);
  const absl::Time left = absl::Now();
  core_->OnTable(TableOf(2, 2, {kSelf, kOther},
                         {{kSelf, kSelfAddress}, {kOther, other.address()}}));
  AwaitAllServing();
  EXPECT_LT(absl::Now() - left, absl::Seconds(3));
  EXPECT_EQ(primary.pulls(), 0);
}

// Two seconds on, the promotion still waits for `primary`, which it asked.
void CacheNodeCoreTest::ExpectStillPullingFrom(const FakeSource& primary) {
  absl::SleepFor(absl::Seconds(2));
  EXPECT_THAT(
      core_->Get(MakeGet("objects", KeyIn("objects", 0))),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("being taken over")));
  EXPECT_GT(primary.pulls(), 0);
}

// The partitions of a primary that froze and left the table fail over at
// once when this node, its backup, had caught up from it and the other
// backup answers: two of the three copies reached, with a write quorum of
// two (R=3).
TEST_F(CacheNodeCoreTest, APromotionSkipsALeftCopyWhenTheSurvivorsSuffice) {
  ExpectPromotionWithoutTheFrozenPrimary(/*early_new_term_pull=*/false);
}

// A catch-up of another survivor (here: pulls of the new term, as the new
// primary of other partitions sends them) that reaches this node before
// the new table raises its fences to the new term early; with consecutive
// table epochs no term can lie between, so the left copy is still skipped.
TEST_F(CacheNodeCoreTest, APromotionSkipsALeftCopyAfterAnEarlyNewTermPull) {
  ExpectPromotionWithoutTheFrozenPrimary(/*early_new_term_pull=*/true);
}

// When a table was missed (epoch 2 here), a fence raised to the new term
// may hide a primary of a term in between that this node never saw: the
// promotion tries the left copy.
TEST_F(CacheNodeCoreTest, APromotionTriesALeftCopyWhenATableWasMissed) {
  FakeSource primary(/*refuse_backups=*/false);
  FakeSource other(/*refuse_backups=*/false);
  ASSERT_NO_FATAL_FAILURE(BackUpUntilCaughtUp(*core_, primary, other));

  primary.Freeze();
  PullEveryPartition(/*term=*/3);
  core_->OnTable(TableOf(3, 3, {kSelf, kOther},
                         {{kSelf, kSelfAddress}, {kOther, other.address()}}));
  ExpectStillPullingFrom(primary);
}

// Without that knowledge (this node never caught up from the old primary)
// the promotion still tries the copy that left, which never answers.
TEST_F(CacheNodeCoreTest, APromotionTriesALeftCopyThatMayHoldWrites) {
  FakeSource primary(/*refuse_backups=*/true);
  FakeSource other(/*refuse_backups=*/false);
  core_->OnTable(TableOf(1, 1, {"primary", kSelf, kOther},
                         {{"primary", primary.address()},
                          {kSelf, kSelfAddress},
                          {kOther, other.address()}}));
  absl::SleepFor(absl::Milliseconds(200));
  primary.Freeze();
  core_->OnTable(TableOf(2, 2, {kSelf, kOther},
                         {{kSelf, kSelfAddress}, {kOther, other.address()}}));
  ExpectStillPullingFrom(primary);
}

TEST_F(CacheNodeCoreTest, RefusalsBeforeAnyWriteAreMarkedNotApplied) {
  // Being taken over ("other", where nothing listens, is still to be
  // caught up from).
  core_->OnTable(MakeTable(/*epoch=*/1, Uniform({kSelf, kOther}, /*term=*/1)));
  absl::StatusOr<v1::PutResponse> put =
      Put(MakePut("objects", KeyIn("objects", 1), "v", 0, /*expected=*/0));
  EXPECT_THAT(put, StatusIs(absl::StatusCode::kUnavailable,
                            HasSubstr("being taken over")));
  EXPECT_TRUE(IsNotApplied(put.status()));
  // Not the primary.
  core_->OnTable(MakeTable(/*epoch=*/2, Uniform({kOther}, /*term=*/2)));
  put = Put(MakePut("objects", KeyIn("objects", 1), "v", 0, /*expected=*/0));
  EXPECT_THAT(put, StatusIs(absl::StatusCode::kFailedPrecondition,
                            HasSubstr("not the primary")));
  EXPECT_TRUE(IsNotApplied(put.status()));
  // A compare-and-set that lost is an answer, not a refusal.
  core_->OnTable(MakeTable(/*epoch=*/3, Uniform({kSelf}, /*term=*/3)));
  AwaitAllServing();
  put = Put(MakePut("objects", KeyIn("objects", 1), "v", 0, /*expected=*/5));
  EXPECT_THAT(put, StatusIs(absl::StatusCode::kAborted, HasSubstr("")));
  EXPECT_FALSE(IsNotApplied(put.status()));
  EXPECT_FALSE(IsNotApplied(absl::OkStatus()));
  EXPECT_FALSE(IsNotApplied(NotApplied(absl::OkStatus())));
}

TEST_F(CacheNodeCoreTest, APromotingPrimaryServesNoBackupCatchUp) {
  // "other" (nothing listens there) is a copy to pull from: the promotion
  // waits for it.
  core_->OnTable(MakeTable(/*epoch=*/1, Uniform({kSelf, kOther}, /*term=*/1)));
  v1::CatchUpRequest request;
  request.set_partition(2);
  request.set_term(1);
  request.set_from_node(kOther);
  request.set_from_backup(true);
  auto drain = [](std::vector<v1::ReplicatedWrite>&) { return true; };
  EXPECT_THAT(core_->ServeCatchUp(request, drain),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("does not serve partition 2")));
  // A promoting node's copy is still served to another promotion.
  request.set_from_backup(false);
  EXPECT_TRUE(core_->ServeCatchUp(request, drain).ok());

  // Once serving, the backup is answered.
  core_->OnTable(MakeTable(/*epoch=*/2, Uniform({kSelf}, /*term=*/1)));
  AwaitAllServing();
  request.set_from_backup(true);
  EXPECT_TRUE(core_->ServeCatchUp(request, drain).ok());
  // Not for another term.
  request.set_term(2);
  EXPECT_THAT(core_->ServeCatchUp(request, drain),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
}

// --------------------------------------------------------------- stats

TEST_F(CacheNodeCoreTest, StatsCountOperationsAndReportRoles) {
  BecomeSolePrimary(/*epoch=*/3, /*term=*/3);
  const v1::StatsResponse before = core_->Stats();

  const uint32_t p = 0;
  const std::vector<std::string> keys = KeysIn("objects", p, 2);
  MustPut(MakePut("objects", keys[0], "a"));
  MustPut(MakePut("objects", keys[1], "b"));
  const uint64_t last = MustPut(MakePut("objects", keys[0], "c"));
  MustGet("objects", keys[0]);
  MustGet("objects", "missing");
  ASSERT_TRUE(Delete(MakeDelete("objects", keys[1])).ok());
  core_->CountForward();

  const v1::StatsResponse stats = core_->Stats();
  EXPECT_EQ(stats.node_id(), kSelf);
  EXPECT_EQ(stats.table_epoch(), 3u);
  EXPECT_EQ(stats.puts(), before.puts() + 3);
  EXPECT_EQ(stats.gets(), before.gets() + 2);
  EXPECT_EQ(stats.deletes(), before.deletes() + 1);
  EXPECT_EQ(stats.forwards(), before.forwards() + 1);
  EXPECT_EQ(stats.primaries(), kPartitions);
  EXPECT_EQ(stats.backups(), 0u);
  ASSERT_EQ(stats.partitions_size(), static_cast<int>(kPartitions));
  for (const v1::PartitionStats& partition : stats.partitions()) {
    EXPECT_EQ(partition.role(), "primary") << partition.partition();
    EXPECT_EQ(partition.replication_lag(), 0u);
    if (partition.partition() == p) {
      EXPECT_GT(partition.last_version(), last);  // The delete came after.
    }
  }
}

TEST_F(CacheNodeBackupTest, StatsReportTheBackupRole) {
  core_->Replicate(MakeReplicate(
      {Item("a", "1", Base() + 1, 0), Item("b", "2", Base() + 2, Base() + 1)}));
  const v1::StatsResponse stats = core_->Stats();
  EXPECT_EQ(stats.table_epoch(), 1u);
  EXPECT_EQ(stats.primaries(), 0u);
  EXPECT_EQ(stats.backups(), 1u);
  EXPECT_EQ(stats.replicated_in(), 2u);
  ASSERT_EQ(stats.partitions_size(), 1);
  EXPECT_EQ(stats.partitions(0).partition(), kPartition);
  // The catch-up from "other" cannot succeed here (nothing listens there).
  EXPECT_THAT(stats.partitions(0).role(),
              AnyOf(Eq("backup"), Eq("catching-up")));
  EXPECT_EQ(stats.partitions(0).last_version(), Base() + 2);
}

}  // namespace
}  // namespace parley::cache
