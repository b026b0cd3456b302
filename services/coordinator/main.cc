// parley-coordinator: server groups, membership, the invalidation broadcast,
// the configuration store, the cache tier's partition table and channel
// deployments.
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "services/common/logging.h"
#include "services/common/metrics/coordinator_metrics.h"
#include "services/common/server_bootstrap.h"
#include "services/coordinator/coordinator_core.h"
#include "services/coordinator/coordinator_service.h"
#include "services/coordinator/deployments_service.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, data_dir, ".parley/data/coordinator",
          "directory for the coordinator's RocksDB state");
ABSL_FLAG(uint32_t, partitions, 256,
          "partitions of the cache tier (fixed once the tier exists)");
ABSL_FLAG(uint32_t, replication_factor, 3,
          "copies of each partition in the cache tier");
ABSL_FLAG(uint32_t, broadcast_history, 100000,
          "invalidation entries kept per group for subscribers that resume");
ABSL_FLAG(uint32_t, subscriber_max_lag, 10000,
          "a subscriber further behind than this many entries gets a RESET");
ABSL_FLAG(uint32_t, orphaned_partition_wait_seconds, 300,
          "how long a partition none of whose cache nodes is live waits "
          "(unavailable) for one of them to come back with its data before "
          "it starts empty on the live nodes");

int main(int argc, char** argv) {
  parley::InitServerProcess(
      argc, argv, "coordinator",
      "parley-coordinator: Parley's group coordinator.\n"
      "Example: parley-coordinator --listen=127.0.0.1:7400 "
      "--data_dir=/var/lib/parley/coordinator");

  parley::coordinator::CoordinatorOptions options;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.partitions = absl::GetFlag(FLAGS_partitions);
  options.replication_factor = absl::GetFlag(FLAGS_replication_factor);
  options.broadcast.history = absl::GetFlag(FLAGS_broadcast_history);
  options.broadcast.max_subscriber_lag =
      absl::GetFlag(FLAGS_subscriber_max_lag);
  options.orphaned_partition_wait =
      absl::Seconds(absl::GetFlag(FLAGS_orphaned_partition_wait_seconds));
  absl::StatusOr<std::unique_ptr<parley::coordinator::CoordinatorCore>> core =
      parley::coordinator::CoordinatorCore::Open(options);
  parley::ExitIfError(core.status());
  const parley::metrics::CollectorHandle metrics =
      parley::metrics::RegisterCoordinatorMetrics(core->get());

  parley::coordinator::CoordinatorService service(core->get());
  parley::coordinator::DeploymentsService deployments(core->get());
  absl::StatusOr<std::unique_ptr<parley::GrpcServer>> server =
      parley::GrpcServer::Start(
          parley::ServerOptionsFromFlags(
              "coordinator", {parley::v1::Coordinator::service_full_name(),
                              parley::v1::Deployments::service_full_name()}),
          {&service, &deployments});
  parley::ExitIfError(server.status());
  (*server)->SetServing(true);

  int signal = parley::WaitForShutdownSignal();
  spdlog::info("signal {} received: draining", signal);
  (*server)->SetServing(false);
  service.CloseStreams();
  deployments.CloseStreams();
  (*server)->Shutdown();
  (*core)->Stop();
  spdlog::info("stopped cleanly");
  parley::FlushLogs();
  return 0;
}
