#include "services/common/server_bootstrap.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "services/common/auth/authorizer.h"
#include "services/common/auth/client_token.h"
#include "services/common/flags.h"
#include "services/common/logging.h"
#include "services/common/metrics/grpc_server_metrics.h"
#include "services/common/metrics/process_metrics.h"
#include "services/common/metrics/registry.h"
#include "services/common/version.h"
#include "spdlog/spdlog.h"

namespace parley {
namespace {

sigset_t ShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

absl::Status WritePortFile(const std::string& path, int port,
                           absl::string_view flag) {
  if (path.empty()) return absl::OkStatus();
  std::ofstream out(path, std::ios::trunc);
  out << port << "\n";
  if (!out) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write --", flag, " '", path, "'"));
  }
  return absl::OkStatus();
}

// Serves metrics when asked to and counts the server's calls.
absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> StartMetrics(
    const ServerOptions& options, grpc::ServerBuilder* builder) {
  if (options.metrics_port == -1) return nullptr;
  metrics::Registry& registry = metrics::DefaultRegistry();
  metrics::RegisterProcessMetrics(&registry, options.role);
  std::string host = metrics::HostOfListenAddress(options.listen_address);
  if (host.empty()) host = "0.0.0.0";
  absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> server =
      metrics::MetricsServer::Start(host, options.metrics_port, &registry);
  if (!server.ok()) return server.status();
  if (absl::Status s = WritePortFile(options.metrics_port_file,
                                     (*server)->port(), "metrics_port_file");
      !s.ok()) {
    return s;
  }
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<metrics::ServerMetricsInterceptorFactory>(&registry));
  builder->experimental().SetInterceptorCreators(std::move(interceptors));
  spdlog::info("{} metrics on http://{}:{}/metrics", options.role, host,
               (*server)->port());
  return server;
}

// Authorization from the --auth_* flags (off without --auth_tokens_file):
// the token this process sends, and the checks of the calls it serves.
void InitAuth() {
  ExitIfError(auth::SendTokenFromFile(absl::GetFlag(FLAGS_auth_token_file)));
  auth::AuthOptions options = auth::AuthOptionsFromFlags();
  if (options.tokens_file.empty()) {
    if (!options.admin_cert_names.empty() || !options.node_cert_names.empty()) {
      ExitIfError(absl::InvalidArgumentError(
          "--auth_admin_cert_names and --auth_node_cert_names need "
          "--auth_tokens_file (which turns authorization on)"));
    }
    return;
  }
  absl::StatusOr<std::unique_ptr<auth::Authorizer>> authorizer =
      auth::Authorizer::Create(std::move(options));
  ExitIfError(authorizer.status());
  auth::InstallAuthorizer(*std::move(authorizer));
  spdlog::info("authorization on (tokens from {})",
               absl::GetFlag(FLAGS_auth_tokens_file));
}

std::string VersionString() {
  return absl::StrCat("Parley ", kParleyVersion, " (API ", kParleyApiVersion,
                      ")\n");
}

}  // namespace

void InitServerProcess(int argc, char** argv, absl::string_view role,
                       absl::string_view usage) {
  absl::FlagsUsageConfig config;
  config.version_string = &VersionString;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    std::fprintf(stderr,
                 "%s takes no positional arguments (got '%s'); see --help\n",
                 argv[0], positional[1]);
    std::exit(2);
  }
  if (absl::Status logging = InitLogging(role, absl::GetFlag(FLAGS_log_level));
      !logging.ok()) {
    std::fprintf(stderr, "%s\n", std::string(logging.message()).c_str());
    std::exit(2);
  }
  // Debian's Abseil is built without NDEBUG, which leaves mutex deadlock
  // detection on: a cost on every lock of the hot paths.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Block the shutdown signals in this thread before any other thread
  // exists, so every thread inherits the mask and only sigwait sees them.
  sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  InitAuth();
}

void ExitIfError(const absl::Status& status) {
  if (status.ok()) return;
  spdlog::critical("cannot start: {}", status.ToString());
  FlushLogs();
  std::exit(1);
}

int WaitForShutdownSignal() {
  sigset_t signals = ShutdownSignals();
  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  return received;
}

bool ShutdownSignalPending() {
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0) return false;
  return sigismember(&pending, SIGTERM) == 1 ||
         sigismember(&pending, SIGINT) == 1;
}

ServerOptions ServerOptionsFromFlags(
    absl::string_view role, std::vector<std::string> health_service_names) {
  ServerOptions options;
  options.health_service_names = std::move(health_service_names);
  options.role = std::string(role);
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.tls = TlsFilesFromFlags();
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  options.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  options.shutdown_grace =
      absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds));
  return options;
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const ServerOptions& options, const std::vector<grpc::Service*>& services) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  if (options.metrics_port < -1 || options.metrics_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_port must be -1 (none), 0 (a free port) or "
                     "a port number; got ",
                     options.metrics_port));
  }
  grpc::ServerBuilder builder;
  absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> metrics =
      StartMetrics(options, &builder);
  if (!metrics.ok()) return metrics.status();
  int port = 0;
  builder.AddListeningPort(options.listen_address, *credentials, &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address,
                     ": is the address valid and the port free? (--listen)"));
  }
  if (absl::Status s = WritePortFile(options.port_file, port, "port_file");
      !s.ok()) {
    return s;
  }
  spdlog::info("{} serving on port {} ({})", options.role, port,
               options.tls.enabled() ? "TLS" : "plaintext");
  return std::unique_ptr<GrpcServer>(
      new GrpcServer(options, std::move(server), port, *std::move(metrics)));
}

GrpcServer::GrpcServer(ServerOptions options,
                       std::unique_ptr<grpc::Server> server, int port,
                       std::unique_ptr<metrics::MetricsServer> metrics)
    : options_(std::move(options)),
      metrics_(std::move(metrics)),
      server_(std::move(server)),
      port_(port) {
  SetServing(false);
}

GrpcServer::~GrpcServer() { Shutdown(); }

void GrpcServer::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  for (const std::string& name : options_.health_service_names) {
    health->SetServingStatus(name, serving);
  }
}

void GrpcServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  SetServing(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
  server_->Wait();
  metrics_.reset();
}

}  // namespace parley
