#ifndef PARLEY_SERVICES_COMMON_SERVER_BOOTSTRAP_H_
#define PARLEY_SERVICES_COMMON_SERVER_BOOTSTRAP_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "services/common/metrics/metrics_server.h"
#include "services/common/tls.h"

namespace parley {

// Parses the command line (absl flags; --help and --version are built in),
// sets up logging and blocks SIGTERM/SIGINT so WaitForShutdownSignal can
// take them. Call first in every server's main. Exits with a message on bad
// flags.
void InitServerProcess(int argc, char** argv, absl::string_view role,
                       absl::string_view usage);

// Logs `status` as the reason the server cannot start and exits with 1,
// unless it is OK.
void ExitIfError(const absl::Status& status);

// Blocks until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForShutdownSignal();

// True when SIGTERM or SIGINT arrived and WaitForShutdownSignal has not
// taken it yet; lets a server stop while still starting up.
bool ShutdownSignalPending();

// How a server listens.
struct ServerOptions {
  std::string role;
  std::string listen_address = "127.0.0.1:0";
  TlsFiles tls;
  std::string port_file;
  // Prometheus metrics over HTTP on the host of listen_address: -1 none,
  // 0 a free port. When on, every call is counted (see
  // services/common/metrics/grpc_server_metrics.h).
  int metrics_port = -1;
  std::string metrics_port_file;
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Full names of the served services (e.g. "parley.v1.Coordinator"), each
  // reported by grpc.health.v1 next to the server as a whole ("").
  std::vector<std::string> health_service_names;
};

// Reads ServerOptions from the shared flags (services/common/flags.h).
ServerOptions ServerOptionsFromFlags(
    absl::string_view role, std::vector<std::string> health_service_names);

// A running gRPC server with health checking (grpc.health.v1) and server
// reflection, serving the given services, and its metrics endpoint when
// options.metrics_port is not -1.
class GrpcServer {
 public:
  // Starts serving `services` (not owned; they must outlive the server).
  // Health reports NOT_SERVING until SetServing(true).
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const ServerOptions& options,
      const std::vector<grpc::Service*>& services);

  ~GrpcServer();

  // The port actually bound (useful with port 0).
  int port() const { return port_; }

  // The metrics port bound, or -1 when metrics are off.
  int metrics_port() const {
    return metrics_ != nullptr ? metrics_->port() : -1;
  }

  // Sets the health status of the server and of each of its services
  // (grpc.health.v1).
  void SetServing(bool serving);

  // Stops accepting calls and waits up to the shutdown grace for in-flight
  // calls to finish, cancelling the rest; then stops serving metrics.
  // Idempotent.
  void Shutdown();

 private:
  GrpcServer(ServerOptions options, std::unique_ptr<grpc::Server> server,
             int port, std::unique_ptr<metrics::MetricsServer> metrics);

  ServerOptions options_;
  std::unique_ptr<metrics::MetricsServer> metrics_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
  bool shut_down_ = false;
};

}  // namespace parley

#endif  // PARLEY_SERVICES_COMMON_SERVER_BOOTSTRAP_H_
