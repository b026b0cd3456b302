// A cache node frozen with SIGSTOP past its lease is taken out of the
// partition table; when it resumes (SIGCONT) it must not acknowledge a
// write for a partition it no longer owns: every write it acknowledges
// right after resuming carries a term at least the new primary's, and every
// acknowledged write (its own and those of writers running throughout)
// reads back with its value.
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_node/cache_client.h"
#include "cache_node/key_codec.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "tests/fault/fault_cluster.h"
#include "tests/fault/ledger.h"
#include "tests/support/child_process.h"

namespace parley::fault {
namespace {

constexpr char kNamespace[] = "fault.freeze";

TEST(CacheNodeFreezeTest, ResumedStalePrimaryAcknowledgesNoWrite) {
  const std::string dir = testing::FreshTempDir("cache_node_freeze");
  absl::StatusOr<std::unique_ptr<FaultCluster>> started =
      FaultCluster::Start(dir, {});
  ASSERT_TRUE(started.ok()) << started.status();
  FaultCluster& cluster = **started;
  absl::StatusOr<std::unique_ptr<cache::CacheClient>> client =
      ConnectFaultClient(cluster.coordinator_address());
  ASSERT_TRUE(client.ok()) << client.status();

  absl::StatusOr<v1::PartitionTable> before = cluster.PartitionTable();
  ASSERT_TRUE(before.ok()) << before.status();
  std::set<uint32_t> owned;  // partitions cache-3 is primary of
  for (const v1::PartitionReplicas& p : before->partitions()) {
    if (p.replicas(0) == "cache-3") owned.insert(p.partition());
  }
  ASSERT_FALSE(owned.empty());
  // Keys of those partitions, to send straight to cache-3 once resumed.
  std::vector<std::string> direct_keys;
  for (int i = 0; direct_keys.size() < 60; ++i) {
    const std::string key = absl::StrCat("direct-", i);
    if (owned.count(
            cache::PartitionOf(kNamespace, key, before->partition_count()))) {
      direct_keys.push_back(key);
    }
  }

  Ledger ledger;
  Writers writers(client->get(), kNamespace, &ledger, /*threads=*/2);
  absl::SleepFor(absl::Seconds(1));

  cluster.SignalCacheNode(3, SIGSTOP);
  const absl::Time frozen = absl::Now();
  // Out of the table once its lease (2 s) lapses.
  ASSERT_TRUE(WaitUntilTableLacks(cluster, "cache-3", absl::Seconds(15)));
  const absl::Duration removal = absl::Now() - frozen;
  // Its partitions are served again once the new primaries caught up from
  // the two other copies (they need not wait for the frozen one: see
  // FrozenNodesPartitionsFailOverWithinSeconds below).
  absl::Status removed = cluster.WaitForStableTable({1, 2}, absl::Seconds(60));
  ASSERT_TRUE(removed.ok()) << removed;
  const absl::Duration served_again = absl::Now() - frozen;
  absl::StatusOr<v1::PartitionTable> without = cluster.PartitionTable();
  ASSERT_TRUE(without.ok()) << without.status();
  std::map<uint32_t, uint64_t> term;
  for (const v1::PartitionReplicas& p : without->partitions()) {
    for (const std::string& replica : p.replicas()) {
      EXPECT_NE(replica, "cache-3") << "partition " << p.partition();
    }
    term[p.partition()] = p.primary_term();
  }

  // Writes for partitions it used to lead are sent to it while it is
  // still frozen (they wait in its socket), then it resumes: they are the
  // first thing it handles, before it can have heard of the new table.
  auto frozen_node = v1::CacheNode::NewStub(grpc::CreateChannel(
      cluster.cache_node_address(3), grpc::InsecureChannelCredentials()));
  Ledger direct;
  absl::Mutex mu;
  std::map<std::string, int> outcomes;
  std::vector<std::string> stale_terms;
  std::vector<std::thread> senders;
  for (const std::string& key : direct_keys) {
    senders.emplace_back([&, key] {
      v1::PutRequest put;
      put.set_namespace_(kNamespace);
      put.set_key(key);
      put.set_value(absl::StrCat("direct value of ", key));
      v1::PutResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
      grpc::Status status = frozen_node->Put(&context, put, &response);
      absl::MutexLock lock(&mu);
      ++outcomes[status.ok() ? "OK"
                             : absl::StrCat("code ", status.error_code())];
      if (!status.ok()) return;
      direct.Record(key, response.version(), put.value());
      const uint32_t partition =
          cache::PartitionOf(kNamespace, key, without->partition_count());
      if ((response.version() >> 32) < term[partition]) {
        stale_terms.push_back(
            absl::StrCat(key, " (partition ", partition,
                         ") acknowledged at term ", response.version() >> 32,
                         " below the new primary's ", term[partition]));
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(500));
  cluster.SignalCacheNode(3, SIGCONT);
  const absl::Time resumed = absl::Now();
  for (std::thread& sender : senders) sender.join();
  EXPECT_TRUE(stale_terms.empty()) << absl::StrJoin(stale_terms, "\n");

  // It re-joins; the table converges on the three nodes.
  absl::Status rejoined =
      cluster.WaitForStableTable({1, 2, 3}, absl::Seconds(60));
  EXPECT_TRUE(rejoined.ok()) << rejoined;
  const absl::Duration rejoin = absl::Now() - resumed;
  absl::SleepFor(absl::Seconds(1));
  writers.Stop();

  std::vector<std::string> lost = LostWrites(**client, kNamespace, ledger);
  EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged writes lost:\n"
                            << absl::StrJoin(lost, "\n");
  std::vector<std::string> lost_direct =
      LostWrites(**client, kNamespace, direct);
  EXPECT_TRUE(lost_direct.empty())
      << lost_direct.size()
      << " writes acknowledged by the resumed node lost:\n"
      << absl::StrJoin(lost_direct, "\n");
  EXPECT_LT(writers.failures() * 100, writers.attempts())
      << writers.failures() << " of " << writers.attempts() << " writes failed";

  std::string summary;
  for (const auto& [outcome, n] : outcomes) {
    absl::StrAppend(&summary, outcome, ": ", n, " ");
  }
  std::printf(
      "frozen cache-3 left the table after %s, its partitions were all "
      "served again after %s; resumed, it answered %zu "
      "direct writes for its old partitions with {%s}; the table converged "
      "on 3 nodes %s after the resume; writers: %d of %d writes failed, "
      "%zu keys checked\n",
      absl::FormatDuration(removal).c_str(),
      absl::FormatDuration(served_again).c_str(), direct_keys.size(),
      summary.c_str(), absl::FormatDuration(rejoin).c_str(), writers.failures(),
      writers.attempts(), ledger.Snapshot().size());
  if (HasFailure()) ADD_FAILURE() << cluster.Logs();
}

// The partitions of a frozen (not dead) cache node fail over about as fast
// as those of a killed one: lease (2 s) plus a promotion. A process that
// accepts connections but never answers bounds a pull from it only by the
// pull deadline (30 s), so a new primary does not pull from a copy that
// left the table when the copies it reached hold every acknowledged write
// (CacheNodeCore::Promote: it caught up from the old primary, and fewer
// than a write quorum of the term's copies are out of reach). That holds
// also when the other survivor took the new table first and its catch-up
// raised this node's fence to the new term before this node saw the table.
TEST(CacheNodeFreezeTest, FrozenNodesPartitionsFailOverWithinSeconds) {
  const std::string dir = testing::FreshTempDir("cache_node_freeze_fast");
  absl::StatusOr<std::unique_ptr<FaultCluster>> started =
      FaultCluster::Start(dir, {});
  ASSERT_TRUE(started.ok()) << started.status();
  FaultCluster& cluster = **started;
  cluster.SignalCacheNode(3, SIGSTOP);
  const absl::Time frozen = absl::Now();
  absl::Status failed_over =
      cluster.WaitForStableTable({1, 2}, absl::Seconds(10));
  EXPECT_TRUE(failed_over.ok()) << failed_over;
  std::printf("a frozen node's partitions failed over in %s\n",
              absl::FormatDuration(absl::Now() - frozen).c_str());
  cluster.SignalCacheNode(3, SIGCONT);
}

}  // namespace
}  // namespace parley::fault
