#ifndef PARLEY_SERVICES_COMMON_METRICS_METRICS_SERVER_H_
#define PARLEY_SERVICES_COMMON_METRICS_METRICS_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "services/common/metrics/registry.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace parley::metrics {

// An HTTP endpoint (cpp-httplib) serving GET /metrics: the registry in the
// Prometheus text format. Plain HTTP, on its own two threads.
class MetricsServer {
 public:
  // Listens on host:port (port 0: a free one) and serves `registry` (not
  // owned; it must outlive the server).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& host, int port, const Registry* registry);

  // Stops serving.
  ~MetricsServer();

  // The port actually bound.
  int port() const { return port_; }

 private:
  MetricsServer(std::unique_ptr<httplib::Server> server, int port);

  std::unique_ptr<httplib::Server> server_;
  int port_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// The host part of a gRPC listen address ("host:port", "[v6]:port"),
// without brackets.
std::string HostOfListenAddress(const std::string& address);

}  // namespace parley::metrics

#endif  // PARLEY_SERVICES_COMMON_METRICS_METRICS_SERVER_H_
