#include "tests/support/local_cluster.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "tests/support/test_certificates.h"

namespace parley::testing {
namespace {

constexpr char kCoordinator[] = "services/coordinator/parley-coordinator";
constexpr char kCacheNode[] = "cache_node/parley-cache-node";
constexpr char kRuntime[] = "services/runtime/server/parley-runtime";

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  return context;
}

std::string Tail(const std::string& log) {
  return log.size() > 3000 ? log.substr(log.size() - 3000) : log;
}

constexpr char kNodeCertificate[] = "parley-node";
constexpr char kClientCertificate[] = "parley-client";

}  // namespace

bool TlsFromEnvironment() {
  const char* value = std::getenv("PARLEY_TEST_TLS");
  return value != nullptr && std::string(value) == "1";
}

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Start(
    const std::string& dir, LocalClusterOptions options) {
  std::unique_ptr<LocalCluster> cluster(new LocalCluster(dir, options));
  if (absl::Status s = cluster->SetUpTls(); !s.ok()) return s;
  std::vector<std::string> args = {
      absl::StrCat("--data_dir=", dir, "/coordinator"),
      absl::StrCat("--partitions=", options.partitions)};
  for (std::string& flag : cluster->TlsFlags()) args.push_back(std::move(flag));
  absl::StatusOr<StartedServer> coordinator =
      StartServer(RunfilePath(kCoordinator), args, dir, "coordinator");
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

absl::Status LocalCluster::SetUpTls() {
  if (!options_.tls) {
    client_credentials_ = grpc::InsecureChannelCredentials();
    return absl::OkStatus();
  }
  absl::StatusOr<std::map<std::string, TlsFiles>> files = MakeTestCertificates(
      absl::StrCat(dir_, "/tls"), {kNodeCertificate, kClientCertificate});
  if (!files.ok()) return files.status();
  node_tls_ = (*files)[kNodeCertificate];
  client_tls_ = (*files)[kClientCertificate];
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(client_tls_);
  if (!credentials.ok()) return credentials.status();
  client_credentials_ = *std::move(credentials);
  return absl::OkStatus();
}

std::vector<std::string> LocalCluster::TlsFlags() const {
  if (!options_.tls) return {};
  return {absl::StrCat("--tls_cert_file=", node_tls_.cert_file),
          absl::StrCat("--tls_key_file=", node_tls_.key_file),
          absl::StrCat("--tls_ca_file=", node_tls_.ca_file)};
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
  for (std::string& flag : TlsFlags()) args.push_back(std::move(flag));
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
  auto coordinator = v1::Coordinator::NewStub(
      grpc::CreateChannel(coordinator_.address(), client_credentials_));
  std::map<int, std::unique_ptr<v1::CacheNode::Stub>> stubs;
  for (const auto& [i, node] : nodes_) {
    if (node.process == nullptr) continue;
    stubs[i] = v1::CacheNode::NewStub(
        grpc::CreateChannel(node.address(), client_credentials_));
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

absl::Status LocalCluster::LaunchRuntimeServer(
    const RuntimeServerOptions& options) {
  auto it = runtime_servers_.find(options.member_id);
  if (it != runtime_servers_.end() && it->second.process != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "runtime server ", options.member_id, " is already running"));
  }
  RuntimeServer server;
  server.port_file = absl::StrCat(dir_, "/", options.member_id, ".port");
  std::filesystem::remove(server.port_file);
  std::vector<std::string> args = {
      absl::StrCat("--coordinator=", coordinator_.address()),
      absl::StrCat("--group=", options.group),
      absl::StrCat("--member_id=", options.member_id),
      absl::StrCat("--lease_ttl_seconds=", options.lease_ttl_seconds),
      "--shutdown_grace_seconds=2",
      "--listen=127.0.0.1:0",
      absl::StrCat("--port_file=", server.port_file)};
  for (std::string& flag : TlsFlags()) args.push_back(std::move(flag));
  args.insert(args.end(), options.flags.begin(), options.flags.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Spawn(RunfilePath(kRuntime), args,
                          absl::StrCat(dir_, "/", options.member_id, ".log"));
  if (!process.ok()) return process.status();
  server.process = std::move(*process);
  runtime_servers_[options.member_id] = std::move(server);
  return absl::OkStatus();
}

absl::StatusOr<std::string> LocalCluster::WaitForRuntimeServerPort(
    const std::string& member_id, absl::Duration timeout) {
  auto it = runtime_servers_.find(member_id);
  if (it == runtime_servers_.end() || it->second.process == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no runtime server ", member_id, " was launched"));
  }
  RuntimeServer& server = it->second;
  const absl::Time deadline = absl::Now() + timeout;
  while (server.port == 0) {
    absl::StatusOr<int> port =
        WaitForPortFile(server.port_file, absl::Milliseconds(50));
    if (port.ok()) {
      server.port = *port;
      break;
    }
    absl::StatusOr<int> exited = server.process->Wait(absl::ZeroDuration());
    if (exited.ok()) {
      const std::string log = server.process->Log();
      server.process.reset();
      return absl::UnavailableError(
          absl::StrCat("runtime server ", member_id, " exited with ", *exited,
                       " before listening\n", Tail(log)));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "runtime server ", member_id, " did not listen within ",
          absl::FormatDuration(timeout), "\n", Tail(server.process->Log())));
    }
  }
  return absl::StrCat("127.0.0.1:", server.port);
}

absl::StatusOr<std::string> LocalCluster::StartRuntimeServer(
    const RuntimeServerOptions& options) {
  if (absl::Status s = LaunchRuntimeServer(options); !s.ok()) return s;
  return WaitForRuntimeServerPort(options.member_id, absl::Seconds(20));
}

bool LocalCluster::RuntimeServerListening(const std::string& member_id) const {
  return !runtime_server_address(member_id).empty();
}

std::string LocalCluster::runtime_server_address(
    const std::string& member_id) const {
  auto it = runtime_servers_.find(member_id);
  if (it == runtime_servers_.end() || it->second.process == nullptr) return "";
  int port = it->second.port;
  if (port == 0) {
    // Launched without waiting: it may have started listening since.
    std::ifstream in(it->second.port_file);
    std::string text;
    if (!in || !std::getline(in, text) ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port) ||
        port <= 0) {
      return "";
    }
  }
  return absl::StrCat("127.0.0.1:", port);
}

absl::StatusOr<int> LocalCluster::StopRuntimeServer(
    const std::string& member_id, absl::Duration timeout) {
  auto it = runtime_servers_.find(member_id);
  if (it == runtime_servers_.end() || it->second.process == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("runtime server ", member_id, " is not running"));
  }
  std::unique_ptr<ChildProcess>& process = it->second.process;
  process->Signal(SIGTERM);
  absl::StatusOr<int> code = process->Wait(timeout);
  if (!code.ok()) {
    process->Signal(SIGKILL);
    code = process->Wait(absl::Seconds(5));
  }
  // Keep the log readable: the entry stays, without a process.
  it->second.port = 0;
  process.reset();
  return code;
}

std::string LocalCluster::RuntimeServerLog(const std::string& member_id) const {
  const std::string path = absl::StrCat(dir_, "/", member_id, ".log");
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::string LocalCluster::Logs() const {
  std::string logs =
      absl::StrCat("--- coordinator\n", Tail(coordinator_.process->Log()));
  for (const auto& [i, node] : nodes_) {
    if (node.process == nullptr) continue;
    absl::StrAppend(&logs, "--- cache-", i, "\n", Tail(node.process->Log()));
  }
  for (const auto& [member_id, server] : runtime_servers_) {
    absl::StrAppend(&logs, "--- ", member_id, "\n",
                    Tail(RuntimeServerLog(member_id)));
  }
  return logs;
}

}  // namespace parley::testing
