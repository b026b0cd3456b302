#ifndef PARLEY_TESTS_SUPPORT_LOCAL_CLUSTER_H_
#define PARLEY_TESTS_SUPPORT_LOCAL_CLUSTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "services/common/tls.h"
#include "tests/support/child_process.h"

namespace parley::testing {

// True when the environment variable PARLEY_TEST_TLS is "1": how a test
// target runs its clusters over mutual TLS (the *_tls_test targets in
// tests/BUILD.bazel) without a line of its own.
bool TlsFromEnvironment();

struct LocalClusterOptions {
  int cache_nodes = 3;
  int partitions = 32;
  // Extra flags for every cache node.
  std::vector<std::string> cache_node_flags;
  // Mutual TLS everywhere: a throwaway CA and certificates under
  // `dir`/tls; every process serves and calls with the certificate
  // "parley-node", and clients of the test use client_credentials().
  bool tls = TlsFromEnvironment();
};

// A parley-runtime process of a LocalCluster.
struct RuntimeServerOptions {
  // The server group it serves (--group).
  std::string group;
  // Its member id (--member_id), unique in the cluster; also names its log
  // and port files.
  std::string member_id;
  // --lease_ttl_seconds: short, so that a stopped server leaves the view
  // quickly.
  uint32_t lease_ttl_seconds = 2;
  // Extra flags.
  std::vector<std::string> flags;
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

  // Whether the cluster runs over mutual TLS.
  bool tls() const { return options_.tls; }
  // Credentials for the test's own channels to any process of the cluster:
  // insecure, or TLS with the client certificate ("parley-client").
  std::shared_ptr<grpc::ChannelCredentials> client_credentials() const {
    return client_credentials_;
  }
  // The client certificate's files; empty without TLS.
  const TlsFiles& client_tls() const { return client_tls_; }
  // The --tls_* flags of the cluster's processes; empty without TLS. For
  // servers a test starts itself next to the cluster.
  std::vector<std::string> TlsFlags() const;

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

  // Runtime servers (parley-runtime); tests starting them also list
  // //services/runtime/server:parley-runtime in their `data`. A runtime
  // server listens only once its group exists, and reports SERVING on
  // grpc.health.v1 once it joined the group, loaded the group's deployments
  // and (DISTRIBUTED groups) follows the invalidation stream; waiting for
  // that is the caller's (see e.g. tests/runtime_integration_test.cc).

  // Starts a runtime server and returns without waiting for it to listen.
  // FAILED_PRECONDITION if a runtime server with that member id runs.
  absl::Status LaunchRuntimeServer(const RuntimeServerOptions& options);
  // Waits until the launched runtime server `member_id` listens; its
  // host:port. UNAVAILABLE (with its log) if it exited, DEADLINE_EXCEEDED
  // if it did not listen within `timeout`.
  absl::StatusOr<std::string> WaitForRuntimeServerPort(
      const std::string& member_id, absl::Duration timeout);
  // LaunchRuntimeServer, then WaitForRuntimeServerPort (20 s); the
  // server's host:port.
  absl::StatusOr<std::string> StartRuntimeServer(
      const RuntimeServerOptions& options);
  // Whether runtime server `member_id` listens (wrote its port file).
  bool RuntimeServerListening(const std::string& member_id) const;
  // host:port of runtime server `member_id`; empty until it listens.
  std::string runtime_server_address(const std::string& member_id) const;
  // Stops runtime server `member_id`: SIGTERM (it leaves its group), then
  // SIGKILL if it has not exited within `timeout`. Its exit code.
  absl::StatusOr<int> StopRuntimeServer(
      const std::string& member_id, absl::Duration timeout = absl::Seconds(10));
  // The log of runtime server `member_id` so far.
  std::string RuntimeServerLog(const std::string& member_id) const;

  // The coordinator's, cache nodes' and runtime servers' logs, for failure
  // messages.
  std::string Logs() const;

 private:
  struct RuntimeServer {
    std::unique_ptr<ChildProcess> process;
    std::string port_file;
    // 0 until it listens.
    int port = 0;
  };

  LocalCluster(std::string dir, LocalClusterOptions options)
      : dir_(std::move(dir)), options_(std::move(options)) {}

  // Makes the certificates and the client credentials.
  absl::Status SetUpTls();

  std::string dir_;
  LocalClusterOptions options_;
  TlsFiles node_tls_;
  TlsFiles client_tls_;
  std::shared_ptr<grpc::ChannelCredentials> client_credentials_;
  StartedServer coordinator_;
  std::map<int, StartedServer> nodes_;
  // By member id. Declared last, so destroyed (killed) first.
  std::map<std::string, RuntimeServer> runtime_servers_;
};

}  // namespace parley::testing

#endif  // PARLEY_TESTS_SUPPORT_LOCAL_CLUSTER_H_
