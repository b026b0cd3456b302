#ifndef PARLEY_TESTS_SUPPORT_LOCAL_CLUSTER_H_
#define PARLEY_TESTS_SUPPORT_LOCAL_CLUSTER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/child_process.h"

namespace parley::testing {

struct LocalClusterOptions {
  int cache_nodes = 3;
  int partitions = 32;
  // Extra flags for every cache node.
  std::vector<std::string> cache_node_flags;
};

// A coordinator and cache nodes as real processes on 127.0.0.1, each with
// its data under `dir`; what tests of the runtime tier stand on. Tests
// using it list the coordinator and cache node binaries in their `data`.
class LocalCluster {
 public:
  // Starts the coordinator and the cache nodes and waits until every
  // partition has a serving primary.
  static absl::StatusOr<std::unique_ptr<LocalCluster>> Start(
      const std::string& dir, LocalClusterOptions options = {});

  // host:port of the coordinator.
  std::string coordinator_address() const { return coordinator_.address(); }
  // host:port of cache node `i` (1-based).
  std::string cache_node_address(int i) const;

  // Waits until `count` live nodes agree on the coordinator's partition
  // table and every partition has a primary with its backups serving.
  absl::Status WaitForStableTable(int count,
                                  absl::Duration timeout = absl::Seconds(30));

  // Starts (or restarts on its data_dir) cache node `i`.
  absl::Status StartCacheNode(int i);
  // Kills cache node `i` with SIGKILL.
  void KillCacheNode(int i);

  // The coordinator's and cache nodes' logs, for failure messages.
  std::string Logs() const;

 private:
  LocalCluster(std::string dir, LocalClusterOptions options)
      : dir_(std::move(dir)), options_(std::move(options)) {}

  std::string dir_;
  LocalClusterOptions options_;
  StartedServer coordinator_;
  std::map<int, StartedServer> nodes_;
};

}  // namespace parley::testing

#endif  // PARLEY_TESTS_SUPPORT_LOCAL_CLUSTER_H_
