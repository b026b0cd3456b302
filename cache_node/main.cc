// parley-cache-node: one node of Parley's partitioned, replicated cache tier.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "cache_node/cache_node_core.h"
#include "cache_node/cache_node_service.h"
#include "cache_node/free_space_monitor.h"
#include "cache_node/node_channels.h"
#include "cache_node/partition_store.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/common/channels.h"
#include "services/common/flags.h"
#include "services/common/logging.h"
#include "services/common/metrics/cache_node_metrics.h"
#include "services/common/server_bootstrap.h"
#include "services/common/tls.h"
#include "services/coordinator/member_agent.h"
#include "services/coordinator/stream_follower.h"
#include "services/coordinator/watch_requests.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, data_dir, ".parley/data/cache",
          "directory for this node's RocksDB data");
ABSL_FLAG(std::string, node_id, "",
          "this node's unique id in the tier (default: cache-<port>)");
ABSL_FLAG(std::string, advertise_address, "",
          "host:port other nodes and clients reach this node at (default: "
          "the --listen address)");
ABSL_FLAG(std::string, coordinator, "127.0.0.1:7400",
          "host:port of the group coordinator");
ABSL_FLAG(int, write_quorum, 0,
          "copies that must hold a write before it is acknowledged, primary "
          "included (0: a majority of the replication factor)");
ABSL_FLAG(uint64_t, max_value_bytes, 4 << 20, "largest value accepted");
ABSL_FLAG(uint64_t, block_cache_mb, 64, "RocksDB block cache size in MiB");
ABSL_FLAG(uint32_t, lease_ttl_seconds, 5,
          "membership lease: the coordinator drops this node after it");
ABSL_FLAG(uint64_t, catch_up_mb_per_second, 64,
          "bandwidth cap of each catch-up stream this node serves (0: none)");
ABSL_FLAG(uint32_t, keep_left_copies_seconds, 30,
          "how long a copy of a partition this node no longer replicates is "
          "kept (and served to the nodes taking it over) before it is "
          "dropped (0: at once)");
ABSL_FLAG(uint64_t, min_free_disk_mb, 64,
          "free space (MiB) kept in the data_dir's filesystem, at most 1/16 "
          "of it: writes that would leave less are refused "
          "(RESOURCE_EXHAUSTED), and the node leaves the tier while the other "
          "nodes can take its partitions over, until twice that is free "
          "again (0: no check)");

namespace {

namespace v1 = parley::v1;

std::string HostOf(const std::string& address) {
  return address.substr(0, address.rfind(':'));
}

// This node's place in the tier: joined at start, left for a while when
// its data_dir is low on space (WatchDiskSpace), left for good when it
// drains or stops. Thread-safe.
class TierMembership {
 public:
  explicit TierMembership(parley::coordinator::MemberAgentOptions options)
      : options_(std::move(options)) {}

  // Joins (in the background).
  void Start() {
    absl::MutexLock lock(&mu_);
    if (stopped_ || agent_ != nullptr) return;
    agent_ = std::make_unique<parley::coordinator::MemberAgent>(options_);
    agent_->Start();
  }

  // True while this node holds a lease.
  bool joined() const {
    absl::MutexLock lock(&mu_);
    return agent_ != nullptr && agent_->joined();
  }

  // True between StepOut and Rejoin.
  bool stepped_out() const {
    absl::MutexLock lock(&mu_);
    return stepped_out_;
  }

  // Leaves the tier until Rejoin.
  void StepOut() {
    absl::MutexLock lock(&mu_);
    if (stopped_ || stepped_out_) return;
    if (agent_ != nullptr) agent_->Stop();
    agent_.reset();
    stepped_out_ = true;
  }

  // Joins again after StepOut (not after Stop).
  void Rejoin() {
    absl::MutexLock lock(&mu_);
    if (stopped_ || !stepped_out_) return;
    stepped_out_ = false;
    agent_ = std::make_unique<parley::coordinator::MemberAgent>(options_);
    agent_->Start();
  }

  // Leaves the tier for good.
  void Stop() {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    if (agent_ != nullptr) agent_->Stop();
  }

 private:
  const parley::coordinator::MemberAgentOptions options_;
  mutable absl::Mutex mu_;
  std::unique_ptr<parley::coordinator::MemberAgent> agent_ ABSL_GUARDED_BY(mu_);
  bool stepped_out_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// OK when the other nodes of the table can take this node's partitions
// over: at least a write quorum of them, every one answering and none low
// on disk space itself. Nodes check their own state before asking the
// others, so of two nodes filling up together at most one leaves; the tier
// never shrinks below a write quorum by this.
absl::Status OthersCanTakeOver(const parley::cache::CacheNodeCore& core,
                               parley::cache::NodeChannels& channels,
                               int write_quorum) {
  std::shared_ptr<const parley::cache::TableView> view = core.table();
  if (view == nullptr) {
    return absl::FailedPreconditionError("no partition table yet");
  }
  const int quorum =
      write_quorum > 0
          ? write_quorum
          : static_cast<int>(view->table().replication_factor()) / 2 + 1;
  std::vector<const v1::CacheNodeAddress*> others;
  for (const v1::CacheNodeAddress& node : view->table().nodes()) {
    if (node.id() != core.node_id()) others.push_back(&node);
  }
  if (static_cast<int>(others.size()) < quorum) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the table has ", others.size(),
        " other cache node(s), fewer than the write quorum (", quorum, ")"));
  }
  for (const v1::CacheNodeAddress* node : others) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    v1::StatsResponse stats;
    const grpc::Status status =
        channels.Stub(node->address())
            ->Stats(&context, v1::StatsRequest(), &stats);
    if (!status.ok()) {
      return absl::UnavailableError(absl::StrCat("cache node '", node->id(),
                                                 "' does not answer (",
                                                 status.error_message(), ")"));
    }
    if (stats.low_on_disk()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cache node '", node->id(), "' is low on disk space too"));
    }
  }
  return absl::OkStatus();
}

// While the data_dir is low on space (writes refused), leaves the tier if
// the other nodes can take this node's partitions over, so that they keep
// taking writes (meanwhile refused writes are answered UNAVAILABLE, retry);
// it keeps its data, serves catch-ups from it, and joins again once twice
// the kept space is free. When the others cannot, it stays and refuses
// writes with RESOURCE_EXHAUSTED. Runs until `stop`.
void WatchDiskSpace(parley::cache::FreeSpaceMonitor& space,
                    parley::cache::CacheNodeCore& core,
                    TierMembership& membership,
                    parley::cache::NodeChannels& channels, int write_quorum,
                    absl::Notification& stop) {
  using Plan = parley::cache::CacheNodeCore::LowDiskPlan;
  std::string staying_because;
  absl::Time next_check = absl::InfinitePast();
  while (!stop.WaitForNotificationWithTimeout(absl::Milliseconds(200))) {
    space.Refresh();
    if (membership.stepped_out()) {
      if (space.HasFree(2.0)) {
        spdlog::info(
            "data_dir '{}' has {} free again: joining the tier again (this "
            "node catches up from the others)",
            space.path(), parley::cache::FormatBytes(space.available_bytes()));
        core.SetKeepData(false);
        core.SetLowDiskPlan(Plan::kHandOver);
        membership.Rejoin();
      }
      continue;
    }
    if (!space.low()) {
      if (!staying_because.empty()) core.SetLowDiskPlan(Plan::kHandOver);
      staying_because.clear();
      next_check = absl::InfinitePast();
      continue;
    }
    if (absl::Now() < next_check) continue;
    absl::Status can = OthersCanTakeOver(core, channels, write_quorum);
    if (can.ok()) {
      spdlog::warn(
          "data_dir '{}' is low on space ({} free): leaving the tier so that "
          "the other nodes take this node's partitions over; it keeps its "
          "data and joins again once {} are free",
          space.path(), parley::cache::FormatBytes(space.available_bytes()),
          parley::cache::FormatBytes(2 * space.reserve_bytes()));
      core.SetLowDiskPlan(Plan::kHandOver);
      core.SetKeepData(true);
      membership.StepOut();
      staying_because.clear();
      continue;
    }
    // Writes are refused with RESOURCE_EXHAUSTED; asked again in a while.
    core.SetLowDiskPlan(Plan::kStay);
    next_check = absl::Now() + absl::Seconds(2);
    if (std::string(can.message()) != staying_because) {
      staying_because = std::string(can.message());
      spdlog::warn(
          "data_dir '{}' is low on space; staying in the tier and refusing "
          "writes: {}",
          space.path(), staying_because);
    }
  }
}

// Leaves the tier and waits (up to `timeout`) until the table no longer
// names this node and the other nodes have pulled what they need from it.
void HandOver(parley::cache::CacheNodeCore& core, TierMembership* membership,
              absl::Duration timeout) {
  core.SetDraining();
  if (membership != nullptr) membership->Stop();
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    auto view = core.table();
    if (view == nullptr || (view->Address(core.node_id()).empty() &&
                            core.CatchUpsQuiet(absl::Seconds(1)))) {
      return;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

}  // namespace

int main(int argc, char** argv) {
  // RocksDB's memtables grow in arena blocks of several MiB and are freed
  // whole after each flush. glibc raises its mmap threshold each time such
  // a block is freed, so later blocks come from the heap, which keeps the
  // freed memory: RSS then climbs with every flush. A fixed threshold keeps
  // every block mmapped and returned to the system when freed.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  parley::InitServerProcess(
      argc, argv, "cache-node",
      "parley-cache-node: a node of Parley's replicated cache tier.\n"
      "Example: parley-cache-node --listen=127.0.0.1:7501 --node_id=cache-1 "
      "--data_dir=/var/lib/parley/cache-1 --coordinator=127.0.0.1:7400");

  parley::cache::PartitionStoreOptions store_options;
  store_options.data_dir = absl::GetFlag(FLAGS_data_dir);
  store_options.block_cache_bytes = absl::GetFlag(FLAGS_block_cache_mb) << 20;
  parley::cache::FreeSpaceOptions space_options;
  space_options.path = store_options.data_dir;
  space_options.min_free_bytes = absl::GetFlag(FLAGS_min_free_disk_mb) << 20;
  auto free_space =
      std::make_shared<parley::cache::FreeSpaceMonitor>(space_options);
  store_options.free_space = free_space;
  absl::StatusOr<std::unique_ptr<parley::cache::PartitionStore>> store =
      parley::cache::PartitionStore::Open(store_options);
  parley::ExitIfError(store.status());
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      parley::MakeChannelCredentials(parley::TlsFilesFromFlags());
  parley::ExitIfError(credentials.status());
  auto channels = std::make_shared<parley::cache::NodeChannels>(*credentials);

  parley::cache::CacheNodeOptions options;
  options.write_quorum = absl::GetFlag(FLAGS_write_quorum);
  options.max_value_bytes = absl::GetFlag(FLAGS_max_value_bytes);
  options.catch_up_bytes_per_second =
      absl::GetFlag(FLAGS_catch_up_mb_per_second) << 20;
  options.keep_left_copies_for =
      absl::Seconds(absl::GetFlag(FLAGS_keep_left_copies_seconds));
  options.node_id = absl::GetFlag(FLAGS_node_id);
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const std::string port = listen.substr(listen.rfind(':') + 1);
  if (options.node_id.empty()) {
    if (port == "0") {
      parley::ExitIfError(absl::InvalidArgumentError(
          "--node_id is required with a --listen port of 0"));
    }
    options.node_id = absl::StrCat("cache-", port);
  }
  parley::cache::CacheNodeCore core(options, store->get(), channels);
  const parley::metrics::CollectorHandle metrics =
      parley::metrics::RegisterCacheNodeMetrics(&core, store->get());
  std::unique_ptr<TierMembership> membership;
  parley::cache::CacheNodeService service(
      &core, channels, [&](bool keep_running) -> absl::StatusOr<uint32_t> {
        const uint32_t primaries = core.Stats().primaries();
        HandOver(core, membership.get(), absl::Seconds(60));
        spdlog::info("drained: handed over {} primary partition(s)", primaries);
        if (!keep_running) kill(getpid(), SIGTERM);
        return primaries;
      });
  absl::StatusOr<std::unique_ptr<parley::GrpcServer>> server =
      parley::GrpcServer::Start(
          parley::ServerOptionsFromFlags("cache-node",
                                         {v1::CacheNode::service_full_name()}),
          {&service});
  parley::ExitIfError(server.status());
  std::string advertise = absl::GetFlag(FLAGS_advertise_address);
  if (advertise.empty()) {
    advertise = absl::StrCat(HostOf(listen), ":", (*server)->port());
  }

  // Follow the coordinator: membership, the partition table, group settings.
  const std::string coordinator_address = absl::GetFlag(FLAGS_coordinator);
  auto coordinator = v1::Coordinator::NewStub(
      parley::CreatePeerChannel(coordinator_address, *credentials));
  parley::coordinator::MemberAgentOptions agent_options;
  agent_options.coordinator_address = coordinator_address;
  agent_options.credentials = *credentials;
  agent_options.member.set_id(options.node_id);
  agent_options.member.set_role(v1::CACHE_NODE);
  agent_options.member.set_address(advertise);
  agent_options.ttl_seconds = absl::GetFlag(FLAGS_lease_ttl_seconds);
  membership = std::make_unique<TierMembership>(agent_options);

  parley::coordinator::StreamFollower<v1::PartitionTable> table_follower(
      "partition table",
      [&, request = v1::WatchPartitionTableRequest()](
          grpc::ClientContext* context,
          grpc::ClientReadReactor<v1::PartitionTable>* reactor) {
        coordinator->async()->WatchPartitionTable(context, &request, reactor);
      },
      [&](const v1::PartitionTable& table) { core.OnTable(table); });
  parley::coordinator::StreamFollower<v1::ConfigEvent> config_follower(
      "group configuration",
      [&, request = parley::coordinator::WatchConfigUnder("groups")](
          grpc::ClientContext* context,
          grpc::ClientReadReactor<v1::ConfigEvent>* reactor) {
        coordinator->async()->WatchConfig(context, &request, reactor);
      },
      [&](const v1::ConfigEvent& event) { core.OnGroupConfig(event); });
  table_follower.Start();
  config_follower.Start();
  membership->Start();
  spdlog::info("cache node '{}' at {}, coordinator {}", options.node_id,
               advertise, coordinator_address);
  absl::Notification stop_watching;
  std::thread disk_watcher([&] {
    WatchDiskSpace(*free_space, core, *membership, *channels,
                   options.write_quorum, stop_watching);
  });

  std::thread readiness([&] {
    while (!(membership->joined() && core.HasTable())) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    (*server)->SetServing(true);
  });
  readiness.detach();

  int signal = parley::WaitForShutdownSignal();
  spdlog::info("signal {} received: handing partitions over, then stopping",
               signal);
  stop_watching.Notify();
  disk_watcher.join();
  (*server)->SetServing(false);
  HandOver(core, membership.get(),
           absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  membership->Stop();
  service.CloseStreams();
  (*server)->Shutdown();
  table_follower.Stop();
  config_follower.Stop();
  core.Stop();
  if (absl::Status s = (*store)->Flush(); !s.ok()) {
    spdlog::error("flushing: {}", s.ToString());
  }
  spdlog::info("stopped cleanly");
  parley::FlushLogs();
  return 0;
}
