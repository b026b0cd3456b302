#include "tests/support/local_cluster.h"

#include <csignal>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"

namespace parley::testing {
namespace {

constexpr char kCoordinator[] = "services/coordinator/parley-coordinator";
constexpr char kCacheNode[] = "cache_node/parley-cache-node";

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  return context;
}

std::string Tail(const std::string& log) {
  return log.size() > 3000 ? log.substr(log.size() - 3000) : log;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Start(
    const std::string& dir, LocalClusterOptions options) {
  std::unique_ptr<LocalCluster> cluster(new LocalCluster(dir, options));
  absl::StatusOr<StartedServer> coordinator =
      StartServer(RunfilePath(kCoordinator),
                  {absl::StrCat("--data_dir=", dir, "/coordinator"),
                   absl::StrCat("--partitions=", options.partitions)},
                  dir, "coordinator");
  if (!coordinator.ok()) return coordinator.status();
  cluster->coordinator_ = std::move(*coordinator);
  for (int i = 1; i <= options.cache_nodes; ++i) {
    if (absl::Status s = cluster->StartCacheNode(i); !s.ok()) return s;
  }
  if (absl::Status s = cluster->WaitForStableTable(options.cache_nodes);
      !s.ok()) {
    return s;
  }
  return cluster;
}

std::string LocalCluster::cache_node_address(int i) const {
  auto it = nodes_.find(i);
  return it == nodes_.end() ? "" : it->second.address();
}

absl::Status LocalCluster::StartCacheNode(int i) {
  std::vector<std::string> args = {
      absl::StrCat("--node_id=cache-", i),
      absl::StrCat("--data_dir=", dir_, "/cache-", i),
      absl::StrCat("--coordinator=", coordinator_.address()),
      "--lease_ttl_seconds=2", "--shutdown_grace_seconds=3"};
  args.insert(args.end(), options_.cache_node_flags.begin(),
              options_.cache_node_flags.end());
  absl::StatusOr<StartedServer> node = StartServer(
      RunfilePath(kCacheNode), args, dir_, absl::StrCat("cache-", i));
  if (!node.ok()) return node.status();
  nodes_[i] = std::move(*node);
  return absl::OkStatus();
}

void LocalCluster::KillCacheNode(int i) {
  auto it = nodes_.find(i);
  if (it == nodes_.end() || it->second.process == nullptr) return;
  it->second.process->Signal(SIGKILL);
  it->second.process->Wait(absl::Seconds(5)).IgnoreError();
  it->second.process.reset();
}

absl::Status LocalCluster::WaitForStableTable(int count,
                                              absl::Duration timeout) {
  auto coordinator = v1::Coordinator::NewStub(grpc::CreateChannel(
      coordinator_.address(), grpc::InsecureChannelCredentials()));
  std::map<int, std::unique_ptr<v1::CacheNode::Stub>> stubs;
  for (const auto& [i, node] : nodes_) {
    if (node.process == nullptr) continue;
    stubs[i] = v1::CacheNode::NewStub(grpc::CreateChannel(
        node.address(), grpc::InsecureChannelCredentials()));
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    v1::PartitionTable table;
    bool stable =
        coordinator
            ->GetPartitionTable(Context().get(), v1::GetPartitionTableRequest(),
                                &table)
            .ok() &&
        table.nodes_size() == count && static_cast<int>(stubs.size()) == count;
    uint32_t primaries = 0;
    for (auto& [i, stub] : stubs) {
      if (!stable) break;
      v1::StatsResponse stats;
      if (!stub->Stats(Context().get(), v1::StatsRequest(), &stats).ok() ||
          stats.table_epoch() != table.epoch()) {
        stable = false;
        break;
      }
      for (const v1::PartitionStats& p : stats.partitions()) {
        if (p.role() != "primary" && p.role() != "backup") stable = false;
      }
      primaries += stats.primaries();
    }
    if (stable && primaries == table.partition_count()) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "the partition table did not settle on ", count, " nodes within ",
      absl::FormatDuration(timeout), "\n", Logs()));
}

std::string LocalCluster::Logs() const {
  std::string logs =
      absl::StrCat("--- coordinator\n", Tail(coordinator_.process->Log()));
  for (const auto& [i, node] : nodes_) {
    if (node.process == nullptr) continue;
    absl::StrAppend(&logs, "--- cache-", i, "\n", Tail(node.process->Log()));
  }
  return logs;
}

}  // namespace parley::testing
