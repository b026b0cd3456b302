// A cache node whose data_dir fills up (a 2 MiB tmpfs, in a mount
// namespace of the test's own). It refuses writes once the filesystem is
// down to the space it keeps free, and leaves the table while the other
// nodes can take its partitions over (writes refused meanwhile are answered
// UNAVAILABLE and retried by the client library). Failed writes must be
// reported to the client with a clear error, no acknowledged write may be
// lost or corrupted, and the tier must keep serving reads of every key and
// writes of every partition from the other copies. Needs root (or
// CAP_SYS_ADMIN) to mount; skipped otherwise.
#include <sched.h>
#include <sys/mount.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
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

constexpr char kNamespace[] = "fault.disk";

// Mounts a tmpfs of `size` at `path` in a private mount namespace of this
// process (inherited by the servers it starts). Empty when it worked, else
// why not.
std::string MountTinyFilesystem(const std::string& path,
                                const std::string& size) {
  if (unshare(CLONE_NEWNS) != 0) {
    return absl::StrCat("unshare(CLONE_NEWNS): ", std::strerror(errno));
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return absl::StrCat("making / private: ", std::strerror(errno));
  }
  std::filesystem::create_directories(path);
  const std::string options = absl::StrCat("size=", size);
  if (mount("tmpfs", path.c_str(), "tmpfs", 0, options.c_str()) != 0) {
    return absl::StrCat("mount -t tmpfs ", path, ": ", std::strerror(errno));
  }
  return "";
}

// Fills cache-3's data_dir while writing through the tier; checks the
// tier (and, with `node_must_survive`, the full node itself).
void FillOneNodesDisk(const std::string& name, bool node_must_survive) {
  const std::string dir = testing::FreshTempDir(name);
  const std::string why_not = MountTinyFilesystem(dir + "/cache-3", "2m");
  if (!why_not.empty()) {
    GTEST_SKIP() << "cannot give a cache node a tiny filesystem here ("
                 << why_not << "); needs root or CAP_SYS_ADMIN";
  }
  absl::StatusOr<std::unique_ptr<FaultCluster>> started =
      FaultCluster::Start(dir, {});
  ASSERT_TRUE(started.ok()) << started.status();
  FaultCluster& cluster = **started;
  cache::CacheClientOptions options;
  options.coordinator_address = cluster.coordinator_address();
  options.operation_timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<cache::CacheClient>> client =
      cache::CacheClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();

  // Fill: 16 KiB values under new keys from 4 threads, well past 2 MiB,
  // until 20 writes failed or 20 s passed.
  Ledger ledger;
  std::atomic<int> attempts{0}, failures{0};
  absl::Mutex mu;
  std::map<std::string, int> errors;  // message -> count
  const absl::Time fill_until = absl::Now() + absl::Seconds(20);
  std::vector<std::thread> fillers;
  for (int t = 0; t < 4; ++t) {
    fillers.emplace_back([&, t] {
      for (int i = 0; i < 150 && failures < 20 && absl::Now() < fill_until;
           ++i) {
        const std::string key = absl::StrCat("fill-", t, "-", i);
        const std::string value(16 * 1024, static_cast<char>('a' + i % 26));
        ++attempts;
        absl::StatusOr<uint64_t> version =
            (*client)->Put(kNamespace, key, value);
        if (version.ok()) {
          ledger.Record(key, *version, value);
          continue;
        }
        ++failures;
        absl::MutexLock lock(&mu);
        ++errors[version.status().ToString()];
      }
    });
  }
  for (std::thread& filler : fillers) filler.join();
  const std::filesystem::space_info space =
      std::filesystem::space(dir + "/cache-3");

  // Every acknowledged write reads back whole.
  std::vector<std::string> lost = LostWrites(**client, kNamespace, ledger);
  EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged writes lost:\n"
                            << absl::StrJoin(lost, "\n");

  // Every partition still takes writes (one new small key per partition).
  absl::StatusOr<v1::PartitionTable> table = cluster.PartitionTable();
  ASSERT_TRUE(table.ok()) << table.status();
  std::map<uint32_t, std::string> key_of;
  for (int i = 0; key_of.size() < table->partition_count(); ++i) {
    const std::string key = absl::StrCat("after-", i);
    key_of.emplace(
        cache::PartitionOf(kNamespace, key, table->partition_count()), key);
  }
  std::vector<std::string> refused;
  std::vector<std::thread> writers;
  for (const auto& [partition, key] : key_of) {
    writers.emplace_back([&, partition = partition, key = key] {
      absl::StatusOr<uint64_t> version =
          (*client)->Put(kNamespace, key, "small");
      absl::MutexLock lock(&mu);
      if (!version.ok()) {
        refused.push_back(absl::StrCat("partition ", partition, ": ",
                                       version.status().ToString()));
      }
    });
  }
  for (std::thread& writer : writers) writer.join();

  // The full node says what is wrong, in its log and its Stats, and has
  // left the table (the other two copies took its partitions over).
  const bool running = cluster.CacheNodeRunning(3);
  v1::StatsResponse stats;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  const grpc::Status stats_status =
      v1::CacheNode::NewStub(
          grpc::CreateChannel(cluster.cache_node_address(3),
                              grpc::InsecureChannelCredentials()))
          ->Stats(&context, v1::StatsRequest(), &stats);
  absl::StatusOr<v1::PartitionTable> final_table = cluster.PartitionTable();
  bool in_table = false;
  if (final_table.ok()) {
    for (const v1::CacheNodeAddress& node : final_table->nodes()) {
      if (node.id() == "cache-3") in_table = true;
    }
  }
  std::vector<std::string> complaints;
  for (absl::string_view line : absl::StrSplit(cluster.CacheNodeLog(3), '\n')) {
    if (absl::StrContains(line, " E ") || absl::StrContains(line, " W ")) {
      if (complaints.size() < 5) complaints.emplace_back(line);
    }
  }
  std::string messages;
  for (const auto& [message, n] : errors) {
    absl::StrAppend(&messages, "  ", n, "x ", message, "\n");
  }
  std::printf(
      "cache-3 on a 2 MiB tmpfs (%ju bytes free after the fill): %d of %d "
      "16 KiB writes failed, %zu acknowledged and read back; errors:\n%s"
      "afterwards %zu of %zu partitions refused a write; cache-3 %s, %s the "
      "table, Stats %s; its first warnings and errors:\n%s\n",
      static_cast<uintmax_t>(space.available), failures.load(), attempts.load(),
      ledger.Snapshot().size(), messages.c_str(), refused.size(), key_of.size(),
      running ? "still runs" : "exited", in_table ? "in" : "out of",
      stats_status.ok()
          ? absl::StrCat("low_on_disk=", stats.low_on_disk(),
                         " disk_free_bytes=", stats.disk_free_bytes(),
                         " disk_reserve_bytes=", stats.disk_reserve_bytes())
                .c_str()
          : stats_status.error_message().c_str(),
      absl::StrJoin(complaints, "\n").c_str());
  EXPECT_LT(space.available, 256u * 1024) << "the filesystem never filled up";
  EXPECT_TRUE(refused.empty()) << absl::StrJoin(refused, "\n");
  if (node_must_survive) {
    EXPECT_TRUE(running) << "cache-3 exited on a full disk:\n"
                         << cluster.CacheNodeLog(3);
    EXPECT_FALSE(complaints.empty())
        << "cache-3 logged nothing about its full disk";
    ASSERT_TRUE(stats_status.ok()) << stats_status.error_message();
    EXPECT_TRUE(stats.low_on_disk());
    EXPECT_LT(stats.disk_free_bytes(), 256u * 1024);
    EXPECT_GT(stats.disk_reserve_bytes(), 0u);
    EXPECT_FALSE(in_table) << "cache-3 stayed in the table";
  }
  if (::testing::Test::HasFailure()) ADD_FAILURE() << cluster.Logs();
}

// The tier: no acknowledged write lost, every key readable, every
// partition writable from the other copies.
TEST(CacheNodeDiskFullTest, TierServesFromTheOtherCopies) {
  FillOneNodesDisk("cache_node_disk_full", /*node_must_survive=*/false);
}

// The full node itself stays up and says what is wrong: it refuses writes
// with a clear error once its data_dir is down to the space it keeps free
// (--min_free_disk_mb, at most 1/16 of the filesystem: 128 KiB of this
// 2 MiB one), logs a warning, and leaves the table while the other nodes
// can take its partitions over. (It used to abort inside RocksDB, whose log
// file in the data_dir failed first: "Assertion
// `sync_without_flush_called_' failed.")
TEST(CacheNodeDiskFullTest, FullNodeReportsTheErrorAndStaysUp) {
  FillOneNodesDisk("cache_node_disk_full_node", /*node_must_survive=*/true);
}

}  // namespace
}  // namespace parley::fault
