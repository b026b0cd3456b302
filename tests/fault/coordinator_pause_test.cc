// SIGSTOP of the coordinator for longer than the cache nodes' leases (as a
// stalled VM or an overloaded machine does), with writers going on: when
// it resumes, every lease has lapsed at once. The partitions keep their
// replicas (unavailable, none live) instead of starting empty elsewhere,
// the nodes keep their copies, and once they re-join every write
// acknowledged before, during and after the pause is still there.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_node/cache_client.h"
#include "gtest/gtest.h"
#include "tests/fault/fault_cluster.h"
#include "tests/fault/ledger.h"
#include "tests/support/child_process.h"

namespace parley::fault {
namespace {

constexpr char kNamespace[] = "fault.pause";

TEST(CoordinatorPauseTest, LeasesLapsingTogetherLoseNoAcknowledgedWrite) {
  const std::string dir = testing::FreshTempDir("coordinator_pause");
  FaultCluster::Options cluster_options;
  absl::StatusOr<std::unique_ptr<FaultCluster>> started =
      FaultCluster::Start(dir, cluster_options);
  ASSERT_TRUE(started.ok()) << started.status();
  FaultCluster& cluster = **started;
  absl::StatusOr<std::unique_ptr<cache::CacheClient>> client =
      ConnectFaultClient(cluster.coordinator_address());
  ASSERT_TRUE(client.ok()) << client.status();

  // Writes going on across every pause.
  Ledger across;
  Writers writers(client->get(), kNamespace, &across, /*threads=*/2);
  const absl::Duration pause =
      absl::Seconds(cluster_options.lease_ttl_seconds + 3);
  // Whether the coordinator sweeps the lapsed leases before it takes the
  // heartbeats that waited during the pause is a race (the old code lost
  // every earlier write in about half the rounds): three rounds.
  for (int round = 1; round <= 3; ++round) {
    // Writes acknowledged before the pause, not overwritten after it.
    Ledger before;
    {
      Writers writers(client->get(), kNamespace, &before, /*threads=*/2,
                      /*compare_and_set=*/false, absl::StrCat("before", round));
      absl::SleepFor(absl::Seconds(2));
    }
    cluster.SignalCoordinator(SIGSTOP);
    absl::SleepFor(pause);
    cluster.SignalCoordinator(SIGCONT);
    const absl::Time resumed = absl::Now();
    absl::Status stable =
        cluster.WaitForStableTable({1, 2, 3}, absl::Seconds(60));
    EXPECT_TRUE(stable.ok()) << stable;
    const absl::Duration settle = absl::Now() - resumed;

    ASSERT_GT(before.Snapshot().size(), 50u) << "too few writes to judge";
    std::vector<std::string> lost = LostWrites(**client, kNamespace, before);
    EXPECT_TRUE(lost.empty()) << "round " << round << ": " << lost.size()
                              << " writes acknowledged before the pause lost:\n"
                              << absl::StrJoin(lost, "\n");
    std::printf(
        "round %d: coordinator paused %s (leases %d s); stable table of 3 "
        "nodes %s after it resumed; %zu keys written before, %zu of them "
        "lost\n",
        round, absl::FormatDuration(pause).c_str(),
        cluster_options.lease_ttl_seconds, absl::FormatDuration(settle).c_str(),
        before.Snapshot().size(), lost.size());
  }
  absl::SleepFor(absl::Seconds(1));
  writers.Stop();
  std::vector<std::string> lost_across =
      LostWrites(**client, kNamespace, across);
  EXPECT_TRUE(lost_across.empty())
      << lost_across.size() << " writes acknowledged across the pauses lost:\n"
      << absl::StrJoin(lost_across, "\n");
  std::printf(
      "writers across the pauses: %d of %d writes failed, %zu keys, %zu "
      "lost\n",
      writers.failures(), writers.attempts(), across.Snapshot().size(),
      lost_across.size());
  if (HasFailure() || getenv("SHOWLOGS"))
    std::printf("%s", cluster.Logs().c_str());
}

}  // namespace
}  // namespace parley::fault
