#include "tests/fault/fault_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "httplib.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "proto/parley/v1/profiles.grpc.pb.h"
#include "services/common/metrics/text_parser.h"

namespace parley::fault {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

constexpr char kCoordinator[] = "services/coordinator/parley-coordinator";
constexpr char kCacheNode[] = "cache_node/parley-cache-node";
constexpr char kRuntime[] = "services/runtime/server/parley-runtime";
constexpr char kDemoChannel[] = "deploy/demo/demo_channel.json";

std::unique_ptr<grpc::ClientContext> Context(
    absl::Duration timeout = absl::Seconds(5)) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

std::string Tail(const std::string& log) {
  return log.size() > 3000 ? log.substr(log.size() - 3000) : log;
}

// A port free right now on `host`, an IPv4 address (the kernel's pick for
// port 0).
absl::StatusOr<int> FreePort(const std::string& host) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an IPv4 address: ", host));
  }
  address.sin_port = 0;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("bind() to ", host, ":0 failed"));
  }
  close(fd);
  return ntohs(address.sin_port);
}

absl::Status FromGrpc(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

}  // namespace

bool Serving(const std::string& address) {
  auto health = Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  HealthCheckRequest request;
  HealthCheckResponse response;
  return health->Check(Context(absl::Seconds(1)).get(), request, &response)
             .ok() &&
         response.status() == HealthCheckResponse::SERVING;
}

bool WaitServing(const std::string& address, absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    if (Serving(address)) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

absl::StatusOr<std::unique_ptr<FaultCluster>> FaultCluster::Start(
    const std::string& dir, Options options) {
  std::unique_ptr<FaultCluster> cluster(new FaultCluster(dir, options));
  absl::StatusOr<int> port = FreePort(options.listen_host);
  if (!port.ok()) return port.status();
  cluster->coordinator_port_ = *port;
  if (absl::Status s = cluster->SpawnCoordinator(); !s.ok()) return s;
  std::vector<int> ids;
  for (int i = 1; i <= options.cache_nodes; ++i) {
    if (absl::Status s = cluster->StartCacheNode(i); !s.ok()) return s;
    ids.push_back(i);
  }
  if (absl::Status s = cluster->WaitForStableTable(ids, absl::Seconds(60));
      !s.ok()) {
    return s;
  }
  return cluster;
}

FaultCluster::~FaultCluster() {
  // Runtime servers first, then cache nodes, then the coordinator; a frozen
  // process must be continued to die cleanly.
  runtimes_.clear();
  for (auto& [i, node] : nodes_) {
    if (node.process != nullptr) node.process->Signal(SIGCONT);
  }
  nodes_.clear();
  coordinator_.reset();
}

absl::Status FaultCluster::SpawnCoordinator() {
  const std::string port_file = absl::StrCat(dir_, "/coordinator.port");
  std::filesystem::remove(port_file);
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> process =
      testing::ChildProcess::Spawn(
          testing::RunfilePath(kCoordinator),
          {absl::StrCat("--data_dir=", dir_, "/coordinator"),
           absl::StrCat("--partitions=", options_.partitions),
           absl::StrCat("--listen=", options_.listen_host, ":",
                        coordinator_port_),
           absl::StrCat("--port_file=", port_file)},
          absl::StrCat(dir_, "/coordinator.log"));
  if (!process.ok()) return process.status();
  coordinator_ = std::move(*process);
  absl::StatusOr<int> port =
      testing::WaitForPortFile(port_file, absl::Seconds(20));
  if (!port.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the coordinator did not start: ", port.status().message(),
                     "\n", Tail(coordinator_->Log())));
  }
  if (*port != coordinator_port_) {
    return absl::InternalError(absl::StrCat(
        "the coordinator listens on ", *port, ", not ", coordinator_port_));
  }
  return absl::OkStatus();
}

std::string FaultCluster::coordinator_address() const {
  return absl::StrCat(options_.listen_host, ":", coordinator_port_);
}

std::string FaultCluster::Server::address() const {
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<FaultCluster::Server> FaultCluster::StartServer(
    const std::vector<std::string>& command_prefix, const std::string& binary,
    std::vector<std::string> args, const std::string& host,
    const std::string& name) {
  const std::string port_file = absl::StrCat(dir_, "/", name, ".port");
  std::filesystem::remove(port_file);
  args.push_back(absl::StrCat("--listen=", host, ":0"));
  args.push_back(absl::StrCat("--port_file=", port_file));
  std::string program = binary;
  if (!command_prefix.empty()) {
    program = command_prefix.front();
    std::vector<std::string> full(command_prefix.begin() + 1,
                                  command_prefix.end());
    full.push_back(binary);
    full.insert(full.end(), args.begin(), args.end());
    args = std::move(full);
  }
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> process =
      testing::ChildProcess::Spawn(program, args,
                                   absl::StrCat(dir_, "/", name, ".log"));
  if (!process.ok()) return process.status();
  absl::StatusOr<int> port =
      testing::WaitForPortFile(port_file, absl::Seconds(20));
  if (!port.ok()) {
    return absl::UnavailableError(
        absl::StrCat(name, " did not start: ", port.status().message(), "\n",
                     (*process)->Log()));
  }
  Server server;
  server.process = std::move(*process);
  server.host = host;
  server.port = *port;
  return server;
}

void FaultCluster::KillCoordinator() {
  if (coordinator_ == nullptr) return;
  coordinator_->Signal(SIGKILL);
  coordinator_->Wait(absl::Seconds(5)).IgnoreError();
}

void FaultCluster::SignalCoordinator(int signal) {
  if (coordinator_ != nullptr) coordinator_->Signal(signal);
}

absl::Status FaultCluster::RestartCoordinator() {
  // The port may linger a moment after the kill: retry for a few seconds.
  absl::Status status;
  for (int attempt = 0; attempt < 10; ++attempt) {
    status = SpawnCoordinator();
    if (status.ok()) return status;
    coordinator_->Signal(SIGKILL);
    coordinator_->Wait(absl::Seconds(5)).IgnoreError();
    absl::SleepFor(absl::Milliseconds(500));
  }
  return status;
}

std::string FaultCluster::cache_node_address(int i) const {
  auto it = nodes_.find(i);
  return it == nodes_.end() ? "" : it->second.address();
}

absl::Status FaultCluster::StartCacheNode(int i) {
  NodePlacement placement;
  if (auto it = options_.placements.find(i); it != options_.placements.end()) {
    placement = it->second;
  }
  if (placement.listen_host.empty()) {
    placement.listen_host = options_.listen_host;
  }
  absl::StatusOr<Server> node = StartServer(
      placement.command_prefix, testing::RunfilePath(kCacheNode),
      {absl::StrCat("--node_id=cache-", i),
       absl::StrCat("--data_dir=", dir_, "/cache-", i),
       absl::StrCat("--coordinator=", coordinator_address()),
       absl::StrCat("--lease_ttl_seconds=", options_.lease_ttl_seconds),
       "--shutdown_grace_seconds=3"},
      placement.listen_host, absl::StrCat("cache-", i));
  if (!node.ok()) return node.status();
  nodes_[i] = std::move(*node);
  return absl::OkStatus();
}

void FaultCluster::KillCacheNode(int i) {
  auto it = nodes_.find(i);
  if (it == nodes_.end() || it->second.process == nullptr) return;
  it->second.process->Signal(SIGKILL);
  it->second.process->Wait(absl::Seconds(5)).IgnoreError();
  it->second.process.reset();
}

bool FaultCluster::CacheNodeRunning(int i) {
  auto it = nodes_.find(i);
  if (it == nodes_.end() || it->second.process == nullptr) return false;
  return !it->second.process->Wait(absl::ZeroDuration()).ok();
}

std::string FaultCluster::CacheNodeLog(int i) const {
  std::ifstream in(absl::StrCat(dir_, "/cache-", i, ".log"));
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void FaultCluster::SignalCacheNode(int i, int signal) {
  auto it = nodes_.find(i);
  if (it == nodes_.end() || it->second.process == nullptr) return;
  it->second.process->Signal(signal);
}

absl::StatusOr<v1::PartitionTable> FaultCluster::PartitionTable() const {
  auto coordinator = v1::Coordinator::NewStub(grpc::CreateChannel(
      coordinator_address(), grpc::InsecureChannelCredentials()));
  v1::PartitionTable table;
  grpc::Status status = coordinator->GetPartitionTable(
      Context().get(), v1::GetPartitionTableRequest(), &table);
  if (!status.ok()) return FromGrpc(status, "GetPartitionTable");
  return table;
}

absl::Status FaultCluster::WaitForStableTable(const std::vector<int>& ids,
                                              absl::Duration timeout) {
  std::map<int, std::unique_ptr<v1::CacheNode::Stub>> stubs;
  std::set<std::string> names;
  for (int i : ids) {
    stubs[i] = v1::CacheNode::NewStub(grpc::CreateChannel(
        cache_node_address(i), grpc::InsecureChannelCredentials()));
    names.insert(absl::StrCat("cache-", i));
  }
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "no table";
  while (absl::Now() < deadline) {
    absl::StatusOr<v1::PartitionTable> table = PartitionTable();
    bool stable = table.ok();
    if (table.ok()) {
      std::set<std::string> in_table;
      for (const v1::CacheNodeAddress& node : table->nodes()) {
        in_table.insert(node.id());
      }
      if (in_table != names) {
        stable = false;
        last = absl::StrCat("table epoch ", table->epoch(), " names ",
                            in_table.size(), " nodes");
      }
    }
    uint32_t primaries = 0;
    for (auto& [i, stub] : stubs) {
      if (!stable) break;
      v1::StatsResponse stats;
      if (!stub->Stats(Context(absl::Seconds(2)).get(), v1::StatsRequest(),
                       &stats)
               .ok() ||
          stats.table_epoch() != table->epoch()) {
        stable = false;
        last = absl::StrCat("cache-", i, " is not at epoch ", table->epoch());
        break;
      }
      for (const v1::PartitionStats& p : stats.partitions()) {
        if (p.role() != "primary" && p.role() != "backup") {
          stable = false;
          last =
              absl::StrCat("cache-", i, " has a partition in role ", p.role());
        }
      }
      primaries += stats.primaries();
    }
    if (stable && primaries == table->partition_count()) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "the partition table did not settle on ", ids.size(), " nodes within ",
      absl::FormatDuration(timeout), " (", last, ")\n", Logs()));
}

absl::Status FaultCluster::CreateDemoGroup(const std::string& group) {
  auto channel = grpc::CreateChannel(coordinator_address(),
                                     grpc::InsecureChannelCredentials());
  auto coordinator = v1::Coordinator::NewStub(channel);
  auto deployments = v1::Deployments::NewStub(channel);
  v1::CreateGroupRequest create;
  create.set_name(group);
  create.mutable_settings()->set_cache_type(v1::DISTRIBUTED);
  v1::ServerGroup created;
  if (absl::Status s =
          FromGrpc(coordinator->CreateGroup(Context().get(), create, &created),
                   "CreateGroup");
      !s.ok()) {
    return s;
  }
  std::ifstream file(testing::RunfilePath(kDemoChannel));
  if (!file.good()) return absl::NotFoundError(kDemoChannel);
  std::stringstream json;
  json << file.rdbuf();
  v1::DeployRequest deploy;
  deploy.set_group(group);
  if (!google::protobuf::util::JsonStringToMessage(json.str(),
                                                   deploy.mutable_channel())
           .ok()) {
    return absl::InternalError("the demo channel does not parse");
  }
  v1::Deployment deployment;
  return FromGrpc(deployments->Deploy(Context().get(), deploy, &deployment),
                  "Deploy");
}

absl::StatusOr<std::string> FaultCluster::StartRuntime(
    const std::string& group, const std::string& member_id) {
  const std::string metrics_port_file =
      absl::StrCat(dir_, "/", member_id, ".metrics_port");
  std::filesystem::remove(metrics_port_file);
  absl::StatusOr<Server> server = StartServer(
      {}, testing::RunfilePath(kRuntime),
      {absl::StrCat("--coordinator=", coordinator_address()),
       absl::StrCat("--group=", group), absl::StrCat("--member_id=", member_id),
       absl::StrCat("--lease_ttl_seconds=", options_.lease_ttl_seconds),
       "--worker_threads=8", "--shutdown_grace_seconds=2", "--metrics_port=0",
       absl::StrCat("--metrics_port_file=", metrics_port_file)},
      options_.listen_host, member_id);
  if (!server.ok()) return server.status();
  absl::StatusOr<int> metrics_port =
      testing::WaitForPortFile(metrics_port_file, absl::Seconds(10));
  if (!metrics_port.ok()) return metrics_port.status();
  const std::string address = server->address();
  Runtime& runtime = runtimes_[member_id];
  runtime.server = std::move(*server);
  runtime.metrics_port = *metrics_port;
  return address;
}

void FaultCluster::KillRuntime(const std::string& member_id) {
  auto it = runtimes_.find(member_id);
  if (it == runtimes_.end() || it->second.server.process == nullptr) return;
  it->second.server.process->Signal(SIGKILL);
  it->second.server.process->Wait(absl::Seconds(5)).IgnoreError();
  it->second.server.process.reset();
}

std::string FaultCluster::runtime_address(const std::string& member_id) const {
  auto it = runtimes_.find(member_id);
  return it == runtimes_.end() ? "" : it->second.server.address();
}

absl::StatusOr<double> FaultCluster::RuntimeMetric(
    const std::string& member_id, const std::string& family) const {
  auto it = runtimes_.find(member_id);
  if (it == runtimes_.end()) return absl::NotFoundError(member_id);
  httplib::Client client(it->second.server.host, it->second.metrics_port);
  client.set_connection_timeout(2);
  client.set_read_timeout(2);
  httplib::Result result = client.Get("/metrics");
  if (!result || result->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("cannot scrape ", member_id, "'s metrics"));
  }
  absl::StatusOr<metrics::ParsedScrape> parsed =
      metrics::ParseTextFormat(result->body);
  if (!parsed.ok()) return parsed.status();
  std::optional<double> sum = metrics::SumOfSamples(*parsed, family);
  if (!sum.has_value()) {
    return absl::NotFoundError(
        absl::StrCat(family, " is not among ", member_id, "'s metrics"));
  }
  return *sum;
}

absl::Status FaultCluster::LoadProfiles(const std::string& address,
                                        int customers) {
  const char* tiers[] = {"Gold", "Silver", "Bronze", "Silver", "Bronze"};
  std::string csv = "CustomerID,Age,Tier,LastPurchase\n";
  for (int id = 1; id <= customers; ++id) {
    absl::StrAppend(&csv, id, ",", 18 + (id * 37) % 60, ",", tiers[id % 5],
                    absl::StrFormat(",2026-01-%02dT12:00:00Z\n", 1 + id % 28));
  }
  auto profiles = v1::Profiles::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  auto context = Context(absl::Seconds(30));
  auto stream = profiles->LoadProfiles(context.get());
  v1::LoadProfilesRequest request;
  request.set_interactive_channel("demo");
  request.set_audience_level("Customer");
  request.set_csv_chunk(csv);
  stream->Write(request);
  stream->WritesDone();
  v1::LoadProfilesProgress progress, last;
  while (stream->Read(&progress)) last = progress;
  if (absl::Status s = FromGrpc(stream->Finish(), "LoadProfiles"); !s.ok()) {
    return s;
  }
  if (static_cast<int>(last.rows_stored()) != customers) {
    return absl::InternalError(absl::StrCat("stored ", last.rows_stored(),
                                            " of ", customers, " profiles"));
  }
  return absl::OkStatus();
}

std::string FaultCluster::Logs() const {
  std::string logs;
  if (coordinator_ != nullptr) {
    absl::StrAppend(&logs, "--- coordinator\n", Tail(coordinator_->Log()));
  }
  for (const auto& [i, node] : nodes_) {
    if (node.process == nullptr) continue;
    absl::StrAppend(&logs, "--- cache-", i, "\n", Tail(node.process->Log()));
  }
  for (const auto& [id, runtime] : runtimes_) {
    if (runtime.server.process == nullptr) continue;
    absl::StrAppend(&logs, "--- ", id, "\n",
                    Tail(runtime.server.process->Log()));
  }
  return logs;
}

// Waits until the coordinator's table no longer names `node`.
bool WaitUntilTableLacks(const FaultCluster& cluster, const std::string& node,
                         absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    absl::StatusOr<v1::PartitionTable> table = cluster.PartitionTable();
    bool named = !table.ok();
    if (table.ok()) {
      for (const v1::CacheNodeAddress& n : table->nodes()) {
        if (n.id() == node) named = true;
      }
    }
    if (!named) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

}  // namespace parley::fault
