#ifndef PARLEY_TESTS_FAULT_FAULT_CLUSTER_H_
#define PARLEY_TESTS_FAULT_FAULT_CLUSTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "tests/support/child_process.h"

namespace parley::fault {

// A coordinator, cache nodes and runtime servers as real processes on
// 127.0.0.1 (or Options::listen_host) that a fault test can kill, freeze and
// restart one by one. The coordinator listens on a fixed port (picked free
// at start) so that it can come back on the same address and data_dir after
// a kill -9.
class FaultCluster {
 public:
  // How one cache node is started, when not like the others.
  struct NodePlacement {
    // Run before the binary, e.g. {"/usr/sbin/ip", "netns", "exec", "ns"}.
    std::vector<std::string> command_prefix;
    // The host it listens on (and is reached at); empty: listen_host.
    std::string listen_host;
  };
  struct Options {
    int cache_nodes = 3;
    int partitions = 32;
    // --lease_ttl_seconds of cache nodes and runtime servers.
    int lease_ttl_seconds = 2;
    // The host every process listens on and is reached at.
    std::string listen_host = "127.0.0.1";
    // Cache nodes (1-based) started differently.
    std::map<int, NodePlacement> placements;
  };

  // Starts the coordinator and the cache nodes; waits for a stable table.
  static absl::StatusOr<std::unique_ptr<FaultCluster>> Start(
      const std::string& dir, Options options);
  ~FaultCluster();

  std::string coordinator_address() const;
  void KillCoordinator();
  // SIGSTOP / SIGCONT of the coordinator.
  void SignalCoordinator(int signal);
  // Starts the coordinator again on the same port and data_dir.
  absl::Status RestartCoordinator();

  // Cache node `i` (1-based): "cache-<i>"; its host:port.
  std::string cache_node_address(int i) const;
  absl::Status StartCacheNode(int i);
  void KillCacheNode(int i);
  // Whether cache node `i` runs (started and not exited).
  bool CacheNodeRunning(int i);
  // The log of cache node `i` so far.
  std::string CacheNodeLog(int i) const;
  // SIGSTOP / SIGCONT.
  void SignalCacheNode(int i, int signal);

  // Waits until the table names exactly the `ids` cache nodes, each of
  // them reports the table's epoch and every partition has a primary and
  // its backups serving.
  absl::Status WaitForStableTable(const std::vector<int>& ids,
                                  absl::Duration timeout);
  absl::StatusOr<v1::PartitionTable> PartitionTable() const;

  // Creates a DISTRIBUTED group with the demo channel deployed.
  absl::Status CreateDemoGroup(const std::string& group);
  // Starts a runtime server (with a metrics endpoint); its address.
  absl::StatusOr<std::string> StartRuntime(const std::string& group,
                                           const std::string& member_id);
  void KillRuntime(const std::string& member_id);
  std::string runtime_address(const std::string& member_id) const;
  // The sum of the samples of `family` on the runtime server's metrics
  // endpoint; an error when it cannot be scraped or the family is absent.
  absl::StatusOr<double> RuntimeMetric(const std::string& member_id,
                                       const std::string& family) const;
  // Loads `customers` demo profiles (CustomerID 1..customers) through the
  // runtime server at `address`.
  absl::Status LoadProfiles(const std::string& address, int customers);

  // Tails of every process's log, for failure messages.
  std::string Logs() const;

 private:
  // A server process and where it listens.
  struct Server {
    std::unique_ptr<testing::ChildProcess> process;
    std::string host;
    int port = 0;
    std::string address() const;
  };
  struct Runtime {
    Server server;
    int metrics_port = 0;
  };

  FaultCluster(std::string dir, Options options)
      : dir_(std::move(dir)), options_(options) {}
  absl::Status SpawnCoordinator();
  // Starts `binary` (after `command_prefix`) with `args` plus --listen on
  // `host` and a port file; waits until it has bound its port.
  absl::StatusOr<Server> StartServer(
      const std::vector<std::string>& command_prefix, const std::string& binary,
      std::vector<std::string> args, const std::string& host,
      const std::string& name);

  std::string dir_;
  Options options_;
  int coordinator_port_ = 0;
  std::unique_ptr<testing::ChildProcess> coordinator_;
  std::map<int, Server> nodes_;
  std::map<std::string, Runtime> runtimes_;
};

// Waits until grpc.health.v1 at `address` reports SERVING.
bool WaitServing(const std::string& address, absl::Duration timeout);
// Whether grpc.health.v1 at `address` reports SERVING now.
bool Serving(const std::string& address);
// Waits until the coordinator's table no longer names cache node `node`.
bool WaitUntilTableLacks(const FaultCluster& cluster, const std::string& node,
                         absl::Duration timeout);

}  // namespace parley::fault

#endif  // PARLEY_TESTS_FAULT_FAULT_CLUSTER_H_
