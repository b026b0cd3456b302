// parley-cache-node: one node of Parley's partitioned, replicated cache tier.
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cache_node/cache_node_core.h"
#include "cache_node/cache_node_service.h"
#include "cache_node/node_channels.h"
#include "cache_node/partition_store.h"
#include "grpcpp/create_channel.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/common/channels.h"
#include "services/common/flags.h"
#include "services/common/logging.h"
#include "services/common/metrics/cache_node_metrics.h"
#include "services/common/server_bootstrap.h"
#include "services/common/tls.h"
#include "services/coordinator/member_agent.h"
#include "services/coordinator/stream_follower.h"
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

namespace {

namespace v1 = parley::v1;

std::string HostOf(const std::string& address) {
  return address.substr(0, address.rfind(':'));
}

// Leaves the tier and waits (up to `timeout`) until the table no longer
// names this node and the other nodes have pulled what they need from it.
void HandOver(parley::cache::CacheNodeCore& core,
              parley::coordinator::MemberAgent* agent, absl::Duration timeout) {
  core.SetDraining();
  if (agent != nullptr) agent->Stop();
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
  parley::InitServerProcess(
      argc, argv, "cache-node",
      "parley-cache-node: a node of Parley's replicated cache tier.\n"
      "Example: parley-cache-node --listen=127.0.0.1:7501 --node_id=cache-1 "
      "--data_dir=/var/lib/parley/cache-1 --coordinator=127.0.0.1:7400");

  parley::cache::PartitionStoreOptions store_options;
  store_options.data_dir = absl::GetFlag(FLAGS_data_dir);
  store_options.block_cache_bytes = absl::GetFlag(FLAGS_block_cache_mb) << 20;
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
  std::unique_ptr<parley::coordinator::MemberAgent> agent;
  parley::cache::CacheNodeService service(
      &core, channels, [&](bool keep_running) -> absl::StatusOr<uint32_t> {
        const uint32_t primaries = core.Stats().primaries();
        HandOver(core, agent.get(), absl::Seconds(60));
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
  agent = std::make_unique<parley::coordinator::MemberAgent>(agent_options);

  parley::coordinator::StreamFollower<v1::PartitionTable> table_follower(
      "partition table",
      [&](grpc::ClientContext* context) {
        return coordinator->WatchPartitionTable(
            context, v1::WatchPartitionTableRequest());
      },
      [&](const v1::PartitionTable& table) { core.OnTable(table); });
  parley::coordinator::StreamFollower<v1::ConfigEvent> config_follower(
      "group configuration",
      [&](grpc::ClientContext* context) {
        v1::WatchConfigRequest request;
        request.set_prefix("groups");
        return coordinator->WatchConfig(context, request);
      },
      [&](const v1::ConfigEvent& event) { core.OnGroupConfig(event); });
  table_follower.Start();
  config_follower.Start();
  agent->Start();
  spdlog::info("cache node '{}' at {}, coordinator {}", options.node_id,
               advertise, coordinator_address);

  std::thread readiness([&] {
    while (!(agent->joined() && core.HasTable())) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    (*server)->SetServing(true);
  });
  readiness.detach();

  int signal = parley::WaitForShutdownSignal();
  spdlog::info("signal {} received: handing partitions over, then stopping",
               signal);
  (*server)->SetServing(false);
  HandOver(core, agent.get(),
           absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  agent->Stop();
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
