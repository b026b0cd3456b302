// parley-runtime: a runtime server of a server group, serving the real-time
// interaction API (parley.v1.InteractRuntime) plus profile loading and
// history export, from its group's deployed channels.

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_node/cache_client.h"
#include "grpcpp/grpcpp.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "proto/parley/v1/history.grpc.pb.h"
#include "proto/parley/v1/profiles.grpc.pb.h"
#include "proto/parley/v1/runtime.grpc.pb.h"
#include "services/common/channels.h"
#include "services/common/flags.h"
#include "services/common/logging.h"
#include "services/common/metrics/runtime_metrics.h"
#include "services/common/server_bootstrap.h"
#include "services/common/tls.h"
#include "services/coordinator/member_agent.h"
#include "services/coordinator/stream_follower.h"
#include "services/coordinator/watch_requests.h"
#include "services/runtime/distributed/distributed_session_store.h"
#include "services/runtime/distributed/invalidation_follower.h"
#include "services/runtime/distributed/invalidation_publisher.h"
#include "services/runtime/distributed/near_cache.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/history/history_service.h"
#include "services/runtime/history/history_store.h"
#include "services/runtime/profiles/profile_store.h"
#include "services/runtime/profiles/profiles_service.h"
#include "services/runtime/server/authorized_services.h"
#include "services/runtime/server/deployment_applier.h"
#include "services/runtime/server/group_watch.h"
#include "services/runtime/server/runtime_service.h"
#include "services/runtime/server/worker_pool.h"
#include "services/runtime/session/local_session_store.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:7400",
          "host:port of the group coordinator");
ABSL_FLAG(std::string, group, "default", "the server group this server serves");
ABSL_FLAG(std::string, member_id, "",
          "this server's unique id in the cluster (default: runtime-<port>)");
ABSL_FLAG(std::string, advertise_address, "",
          "host:port clients reach this server at (default: the --listen "
          "address)");
ABSL_FLAG(int, worker_threads, 64,
          "threads running interaction calls (they wait on the cache tier)");
ABSL_FLAG(int, invalidation_linger_ms, 2,
          "DISTRIBUTED sessions: how long a session write's invalidation "
          "waits for others to share one broadcast (0: sent at once); other "
          "servers may read the older copy that much longer");
ABSL_FLAG(bool, compress_sessions, true,
          "DISTRIBUTED sessions: store sessions of 512 bytes or more "
          "LZ4-compressed in the cache tier; turn off while servers of a "
          "release without this flag still serve the group (they cannot "
          "read compressed sessions)");
ABSL_FLAG(int, local_max_sessions, 100000,
          "sessions kept in memory by a LOCAL-cache group's server");
ABSL_FLAG(uint32_t, lease_ttl_seconds, 5,
          "membership lease: the coordinator drops this server after it");

namespace {

namespace v1 = parley::v1;

std::string HostOf(const std::string& address) {
  return address.substr(0, address.rfind(':'));
}

// Where the group's sessions live, and what keeps them coherent.
struct Sessions {
  std::unique_ptr<parley::session::LocalSessionStore> local;
  std::unique_ptr<parley::distributed::NearCache> near_cache;
  std::unique_ptr<parley::distributed::InvalidationPublisher> publisher;
  std::unique_ptr<parley::distributed::DistributedSessionStore> distributed;
  std::unique_ptr<parley::distributed::InvalidationFollower> follower;

  parley::session::SessionStore* store() const {
    if (distributed != nullptr) return distributed.get();
    return local.get();
  }
};

Sessions MakeSessions(const v1::ServerGroup& group, const std::string& member,
                      parley::cache::CacheClient* cache,
                      std::shared_ptr<grpc::Channel> coordinator) {
  Sessions sessions;
  const absl::Duration timeout =
      absl::Seconds(group.settings().session_timeout_seconds().value());
  if (group.settings().cache_type() == v1::LOCAL) {
    parley::session::LocalSessionStoreOptions options;
    options.max_entries = std::max(1, absl::GetFlag(FLAGS_local_max_sessions));
    options.timeout = timeout;
    sessions.local =
        std::make_unique<parley::session::LocalSessionStore>(options);
    return sessions;
  }
  parley::distributed::NearCacheOptions near_options;
  near_options.max_entries = group.settings().near_cache_max_entries().value();
  sessions.near_cache =
      std::make_unique<parley::distributed::NearCache>(near_options);
  parley::distributed::InvalidationPublisherOptions publisher_options;
  publisher_options.group = group.name();
  publisher_options.origin = member;
  publisher_options.linger = absl::Milliseconds(
      std::max(0, absl::GetFlag(FLAGS_invalidation_linger_ms)));
  sessions.publisher =
      std::make_unique<parley::distributed::InvalidationPublisher>(
          publisher_options,
          parley::distributed::CoordinatorPublishCall(coordinator));
  parley::distributed::DistributedSessionStoreOptions store_options;
  store_options.group = group.name();
  store_options.timeout = timeout;
  store_options.compress = absl::GetFlag(FLAGS_compress_sessions);
  sessions.distributed =
      std::make_unique<parley::distributed::DistributedSessionStore>(
          cache, store_options, sessions.near_cache.get(),
          sessions.publisher.get());
  parley::distributed::InvalidationFollowerOptions follower_options;
  follower_options.group = group.name();
  follower_options.ns = parley::distributed::SessionNamespace(group.name());
  sessions.follower =
      std::make_unique<parley::distributed::InvalidationFollower>(
          coordinator, follower_options, sessions.near_cache.get());
  return sessions;
}

// Applies a change of the group's settings made while the server runs.
void FollowSettings(const v1::ConfigEvent& event, const std::string& group,
                    const v1::ServerGroup& started_with,
                    const Sessions& sessions) {
  if (event.kind() == v1::ConfigEvent::DELETE) return;
  const std::string prefix = absl::StrCat("groups/", group, "/");
  for (const v1::ConfigEntry& entry : event.entries()) {
    if (!absl::StartsWith(entry.path(), prefix)) continue;
    const std::string suffix = entry.path().substr(prefix.size());
    if (suffix == "session/timeout_seconds") {
      uint32_t seconds = 0;
      if (!absl::SimpleAtoi(entry.value(), &seconds) || seconds == 0) continue;
      const absl::Duration timeout = absl::Seconds(seconds);
      if (sessions.local != nullptr) sessions.local->SetTimeout(timeout);
      if (sessions.distributed != nullptr) {
        sessions.distributed->SetTimeout(timeout);
      }
      if (event.kind() == v1::ConfigEvent::PUT) {
        spdlog::info("session timeout of group '{}' is now {} s", group,
                     seconds);
      }
    } else if (suffix == "cache/type" &&
               entry.value() !=
                   v1::CacheType_Name(started_with.settings().cache_type())) {
      spdlog::warn(
          "the cache type of group '{}' changed to {}; this server keeps "
          "serving {} sessions until it restarts",
          group, entry.value(),
          v1::CacheType_Name(started_with.settings().cache_type()));
    }
  }
}

// Connects to the cache tier, retrying until it answers or the server is
// asked to stop (then exits).
std::unique_ptr<parley::cache::CacheClient> ConnectCache(
    const std::string& coordinator,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  parley::cache::CacheClientOptions options;
  options.coordinator_address = coordinator;
  options.credentials = std::move(credentials);
  while (true) {
    absl::StatusOr<std::unique_ptr<parley::cache::CacheClient>> client =
        parley::cache::CacheClient::Connect(options, absl::Seconds(5));
    if (client.ok()) return *std::move(client);
    spdlog::warn("waiting for the cache tier: {}", client.status().ToString());
    if (parley::ShutdownSignalPending()) {
      spdlog::info("stopped before the cache tier answered");
      parley::FlushLogs();
      std::exit(0);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  parley::InitServerProcess(
      argc, argv, "runtime",
      "parley-runtime: a runtime server serving parley.v1.InteractRuntime "
      "for one server group.\n"
      "Example: parley-runtime --listen=127.0.0.1:7601 --group=default "
      "--member_id=runtime-1 --coordinator=127.0.0.1:7400");

  const std::string listen = absl::GetFlag(FLAGS_listen);
  const std::string port = listen.substr(listen.rfind(':') + 1);
  std::string member_id = absl::GetFlag(FLAGS_member_id);
  if (member_id.empty()) {
    if (port == "0") {
      parley::ExitIfError(absl::InvalidArgumentError(
          "--member_id is required with a --listen port of 0"));
    }
    member_id = absl::StrCat("runtime-", port);
  }
  const std::string group_name = absl::GetFlag(FLAGS_group);
  const std::string coordinator_address = absl::GetFlag(FLAGS_coordinator);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      parley::MakeChannelCredentials(parley::TlsFilesFromFlags());
  parley::ExitIfError(credentials.status());
  std::shared_ptr<grpc::Channel> coordinator_channel =
      parley::CreatePeerChannel(coordinator_address, *credentials);
  auto coordinator = v1::Coordinator::NewStub(coordinator_channel);
  auto deployments = v1::Deployments::NewStub(coordinator_channel);

  // The group's settings decide where sessions live.
  absl::StatusOr<v1::ServerGroup> group = parley::runtime::AwaitGroup(
      coordinator.get(), group_name,
      [] { return parley::ShutdownSignalPending(); });
  if (absl::IsCancelled(group.status())) {
    spdlog::info("{}", std::string(group.status().message()));
    parley::FlushLogs();
    return 0;
  }
  parley::ExitIfError(group.status());
  std::unique_ptr<parley::cache::CacheClient> cache =
      ConnectCache(coordinator_address, *credentials);
  Sessions sessions =
      MakeSessions(*group, member_id, cache.get(), coordinator_channel);
  parley::profiles::ProfileStore profiles(cache.get());
  absl::StatusOr<std::unique_ptr<parley::history::HistoryStore>> history =
      parley::history::HistoryStore::Create(cache.get(), group_name);
  parley::ExitIfError(history.status());

  parley::engine::SessionEngine engine(
      sessions.store(), [] { return absl::ToUnixMillis(absl::Now()); },
      [&profiles](absl::string_view level,
                  const google::protobuf::RepeatedPtrField<v1::NameValue>& id) {
        return profiles.Lookup(level, id);
      },
      [&history](const v1::HistoryRecord& record) {
        (*history)->Append(record);
      });
  parley::runtime::DeploymentApplier applier(&engine);
  auto workers = std::make_unique<parley::runtime::WorkerPool>(
      absl::GetFlag(FLAGS_worker_threads));
  parley::runtime::AdvisoryCounter advisories;
  parley::metrics::RuntimeMetricsSources metric_sources;
  metric_sources.group = group_name;
  metric_sources.local_sessions = sessions.local.get();
  metric_sources.near_cache = sessions.near_cache.get();
  metric_sources.follower = sessions.follower.get();
  metric_sources.publisher = sessions.publisher.get();
  metric_sources.history = history->get();
  metric_sources.queued_calls = [&workers] {
    return workers == nullptr ? 0 : workers->queued();
  };
  metric_sources.advisories = &advisories;
  const parley::metrics::CollectorHandle metrics =
      parley::metrics::RegisterRuntimeMetrics(std::move(metric_sources));
  parley::runtime::RuntimeService runtime_service(&engine, workers.get(),
                                                  group_name, &advisories);
  parley::profiles::ProfilesService profiles_service(
      &profiles,
      [&applier](absl::string_view name) { return applier.Find(name); });
  parley::history::HistoryService history_service(history->get());
  parley::runtime::AuthorizedProfiles authorized_profiles(&profiles_service,
                                                          group_name);
  parley::runtime::AuthorizedHistory authorized_history(&history_service);

  absl::StatusOr<std::unique_ptr<parley::GrpcServer>> server =
      parley::GrpcServer::Start(
          parley::ServerOptionsFromFlags(
              "runtime", {v1::InteractRuntime::service_full_name(),
                          v1::Profiles::service_full_name(),
                          v1::History::service_full_name()}),
          {&runtime_service, &authorized_profiles, &authorized_history});
  parley::ExitIfError(server.status());
  std::string advertise = absl::GetFlag(FLAGS_advertise_address);
  if (advertise.empty()) {
    advertise = absl::StrCat(HostOf(listen), ":", (*server)->port());
  }

  parley::coordinator::StreamFollower<v1::DeploymentEvent> deployment_follower(
      "deployments",
      [&, request = parley::coordinator::WatchDeploymentsOf(group_name)](
          grpc::ClientContext* context,
          grpc::ClientReadReactor<v1::DeploymentEvent>* reactor) {
        deployments->async()->WatchDeployments(context, &request, reactor);
      },
      [&](const v1::DeploymentEvent& event) { applier.Apply(event); });
  // The session timeout applies from the next write on; a change of cache
  // type needs a restart of the group's servers.
  parley::coordinator::StreamFollower<v1::ConfigEvent> settings_follower(
      "group settings",
      [&, request = parley::coordinator::WatchConfigUnder(
              absl::StrCat("groups/", group_name))](
          grpc::ClientContext* context,
          grpc::ClientReadReactor<v1::ConfigEvent>* reactor) {
        coordinator->async()->WatchConfig(context, &request, reactor);
      },
      [&](const v1::ConfigEvent& event) {
        FollowSettings(event, group_name, *group, sessions);
      });
  parley::coordinator::MemberAgentOptions agent_options;
  agent_options.coordinator_address = coordinator_address;
  agent_options.credentials = *credentials;
  agent_options.member.set_id(member_id);
  agent_options.member.set_role(v1::RUNTIME_SERVER);
  agent_options.member.set_group(group_name);
  agent_options.member.set_address(advertise);
  agent_options.ttl_seconds = absl::GetFlag(FLAGS_lease_ttl_seconds);
  parley::coordinator::MemberAgent agent(agent_options);

  deployment_follower.Start();
  settings_follower.Start();
  if (sessions.follower != nullptr) sessions.follower->Start();
  spdlog::info(
      "runtime server '{}' of group '{}' ({} sessions) at {}, coordinator {}",
      member_id, group_name,
      group->settings().cache_type() == v1::LOCAL ? "LOCAL" : "DISTRIBUTED",
      advertise, coordinator_address);

  // Joins the group once the deployments are loaded and, for a DISTRIBUTED
  // group, the invalidation stream is live, so clients that follow the
  // membership never see a server that cannot serve yet. Healthy while all
  // three hold.
  std::atomic<bool> stopping{false};
  std::thread housekeeping([&] {
    bool serving = false;
    bool agent_started = false;
    absl::Time next_sweep = absl::Now();
    while (!stopping.load()) {
      const bool loaded_and_live =
          applier.loaded() &&
          (sessions.follower == nullptr || sessions.follower->live());
      if (loaded_and_live && !agent_started) {
        agent.Start();
        agent_started = true;
      }
      const bool ready = agent.joined() && loaded_and_live;
      if (ready != serving) {
        serving = ready;
        (*server)->SetServing(ready);
        if (ready) {
          spdlog::info("serving");
        } else {
          spdlog::warn(
              "not serving: joined={} deployments loaded={} invalidations "
              "live={}",
              agent.joined(), applier.loaded(),
              sessions.follower == nullptr || sessions.follower->live());
        }
      }
      if (sessions.local != nullptr && absl::Now() >= next_sweep) {
        sessions.local->ExpireIdle(absl::Now());
        next_sweep = absl::Now() + absl::Seconds(1);
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  });

  const int signal = parley::WaitForShutdownSignal();
  spdlog::info("signal {} received: leaving the group, then stopping", signal);
  stopping = true;
  housekeeping.join();
  (*server)->SetServing(false);
  agent.Stop();
  (*server)->Shutdown();
  // Every call has been answered; the workers go before anything their
  // calls use (engine, stores, cache client).
  workers.reset();
  deployment_follower.Stop();
  settings_follower.Stop();
  if (sessions.follower != nullptr) sessions.follower->Stop();
  if (absl::Status s = (*history)->Flush(absl::Seconds(5)); !s.ok()) {
    spdlog::error("history records not stored: {}", s.ToString());
  }
  if (sessions.publisher != nullptr &&
      !sessions.publisher->Flush(absl::Seconds(2))) {
    spdlog::warn("some invalidations were not published before stopping");
  }
  spdlog::info("stopped cleanly");
  parley::FlushLogs();
  return 0;
}
