// The DISTRIBUTED cache type's session store with real processes on
// 127.0.0.1: a coordinator and three cache nodes, and two "runtime servers"
// A and B in this process, each with its own cache client, near cache,
// invalidation follower and publisher. distributed_sessions_tls_test runs
// the same over mutual TLS (PARLEY_TEST_TLS=1).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/time/clock.h"
#include "cache_node/cache_client.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/common/tls.h"
#include "services/runtime/distributed/distributed_session_store.h"
#include "services/runtime/distributed/invalidation_follower.h"
#include "services/runtime/distributed/invalidation_publisher.h"
#include "services/runtime/distributed/near_cache.h"
#include "tests/support/child_process.h"
#include "tests/support/local_cluster.h"
#include "tests/support/test_certificates.h"

namespace parley {
namespace {

using ::parley::distributed::CachedSession;
using ::parley::distributed::DistributedSessionStore;
using ::parley::distributed::DistributedSessionStoreOptions;
using ::parley::distributed::InvalidationFollower;
using ::parley::distributed::InvalidationFollowerOptions;
using ::parley::distributed::InvalidationPublisher;
using ::parley::distributed::InvalidationPublisherOptions;
using ::parley::distributed::NearCache;
using ::parley::distributed::NearCacheOptions;
using ::parley::distributed::SessionNamespace;
using ::parley::v1::SessionState;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr char kCoordinator[] = "services/coordinator/parley-coordinator";

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return condition();
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  return context;
}

// The credentials of every channel and cache client of the test: insecure,
// or a client certificate of the cluster under test (mutual TLS in
// distributed_sessions_tls_test).
std::shared_ptr<grpc::ChannelCredentials>& Credentials() {
  static auto* credentials = new std::shared_ptr<grpc::ChannelCredentials>(
      grpc::InsecureChannelCredentials());
  return *credentials;
}

// A channel that reconnects within a fraction of a second (the default
// backoff grows to minutes), for the restarted coordinator.
std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 300);
  return grpc::CreateCustomChannel(address, Credentials(), args);
}

absl::Status CreateGroup(const std::string& coordinator,
                         const std::string& group) {
  auto stub = v1::Coordinator::NewStub(Channel(coordinator));
  v1::CreateGroupRequest request;
  request.set_name(group);
  request.mutable_settings()->set_cache_type(v1::DISTRIBUTED);
  v1::ServerGroup created;
  grpc::Status status = stub->CreateGroup(Context().get(), request, &created);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return absl::OkStatus();
}

// One runtime server's DISTRIBUTED session stack.
struct Server {
  std::unique_ptr<cache::CacheClient> client;
  std::unique_ptr<NearCache> cache;
  std::unique_ptr<InvalidationFollower> follower;
  // Null for a server that does not broadcast its writes.
  std::unique_ptr<InvalidationPublisher> publisher;
  std::unique_ptr<DistributedSessionStore> store;
};

struct ServerOptions {
  std::string member;
  absl::Duration timeout = absl::Seconds(300);
  bool broadcast = true;
};

std::unique_ptr<Server> StartRuntimeServer(const std::string& coordinator,
                                           const std::string& group,
                                           const ServerOptions& options) {
  auto server = std::make_unique<Server>();
  cache::CacheClientOptions client_options;
  client_options.coordinator_address = coordinator;
  client_options.credentials = Credentials();
  absl::StatusOr<std::unique_ptr<cache::CacheClient>> client =
      cache::CacheClient::Connect(client_options);
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) return nullptr;
  server->client = std::move(*client);
  server->cache = std::make_unique<NearCache>(NearCacheOptions{1000, 8});
  InvalidationFollowerOptions follower_options;
  follower_options.group = group;
  follower_options.ns = SessionNamespace(group);
  follower_options.reconnect = {absl::Milliseconds(50), absl::Milliseconds(200),
                                2.0, 0};
  server->follower = std::make_unique<InvalidationFollower>(
      Channel(coordinator), follower_options, server->cache.get());
  server->follower->Start();
  if (options.broadcast) {
    InvalidationPublisherOptions publisher_options;
    publisher_options.group = group;
    publisher_options.origin = options.member;
    server->publisher = std::make_unique<InvalidationPublisher>(
        publisher_options,
        distributed::CoordinatorPublishCall(Channel(coordinator)));
  }
  server->store = std::make_unique<DistributedSessionStore>(
      server->client.get(),
      DistributedSessionStoreOptions{group, options.timeout},
      server->cache.get(), server->publisher.get());
  EXPECT_TRUE(
      WaitUntil([&] { return server->follower->live(); }, absl::Seconds(10)))
      << options.member << " never subscribed";
  return server;
}

// Waits until every write `from` acknowledged so far was broadcast and
// `to` applied the broadcast.
bool BroadcastArrived(Server& from, Server& to) {
  if (!from.publisher->Flush(absl::Seconds(10))) return false;
  const v1::StreamPosition published = from.publisher->last_published();
  if (published.epoch() == 0) return true;  // Nothing written yet.
  return to.follower->WaitForPosition(published, absl::Seconds(10));
}

// The version the near cache of `server` holds for `id` (0: none).
uint64_t NearVersion(Server& server, const std::string& id) {
  std::optional<CachedSession> hit =
      server.cache->Lookup(id, absl::ToUnixMillis(absl::Now()));
  return hit.has_value() ? hit->version() : 0;
}

SessionState NewSession(const std::string& id) {
  SessionState state;
  state.set_session_id(id);
  state.set_interactive_channel("web-site");
  state.set_audience_level("Customer");
  state.add_segments("new-visitors");
  return state;
}

class DistributedSessionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::LocalCluster>> cluster =
        testing::LocalCluster::Start(
            testing::FreshTempDir("distributed_sessions"));
    if (cluster.ok()) {
      cluster_ = std::move(*cluster).release();
      Credentials() = cluster_->client_credentials();
    } else {
      start_error_ = new std::string(cluster.status().ToString());
    }
  }

  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    Credentials() = grpc::InsecureChannelCredentials();
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << *start_error_;
    // A group per test, so broadcasts of one test never reach another.
    std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    group_ = absl::StrCat("g-", name.substr(0, 50));
    ASSERT_TRUE(CreateGroup(coordinator(), group_).ok());
  }

  static std::string coordinator() { return cluster_->coordinator_address(); }

  std::unique_ptr<Server> Start(ServerOptions options) {
    return StartRuntimeServer(coordinator(), group_, options);
  }

  static testing::LocalCluster* cluster_;
  static std::string* start_error_;
  std::string group_;
};

testing::LocalCluster* DistributedSessionsTest::cluster_ = nullptr;
std::string* DistributedSessionsTest::start_error_ = nullptr;

TEST_F(DistributedSessionsTest, CreatedOnAIsReadOnB) {
  std::unique_ptr<Server> a = Start({"server-a"});
  std::unique_ptr<Server> b = Start({"server-b"});
  ASSERT_TRUE(a && b);
  const absl::Time now = absl::Now();
  absl::StatusOr<uint64_t> version =
      a->store->Create(NewSession("visitor-1"), false, now);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_GT(*version, 0u);

  absl::StatusOr<SessionState> read = b->store->Get("visitor-1", absl::Now());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->version(), *version);
  EXPECT_EQ(read->interactive_channel(), "web-site");
  EXPECT_THAT(read->segments(), ElementsAre("new-visitors"));
  EXPECT_EQ(read->last_access_time().seconds(), absl::ToUnixSeconds(now));
  // B keeps it near; A has its own write near.
  EXPECT_EQ(NearVersion(*b, "visitor-1"), *version);
  EXPECT_EQ(NearVersion(*a, "visitor-1"), *version);

  // Not again, unless replacing: then every server drops its old copy.
  EXPECT_EQ(b->store->Create(NewSession("visitor-1"), false, absl::Now())
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  SessionState replacement = NewSession("visitor-1");
  replacement.set_audience_level("Household");
  absl::StatusOr<uint64_t> replaced =
      b->store->Create(replacement, true, absl::Now());
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_GT(*replaced, *version);
  ASSERT_TRUE(BroadcastArrived(*b, *a));
  read = a->store->Get("visitor-1", absl::Now());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->version(), *replaced);
  EXPECT_EQ(read->audience_level(), "Household");

  EXPECT_EQ(a->store->Get("nobody", absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      a->store->Create(NewSession(""), false, absl::Now()).status().code(),
      absl::StatusCode::kInvalidArgument);
}

// A long session (many earlier presentations) is stored compressed in the
// tier and reads back whole on another server; a value an earlier release
// stored (the plain serialization) still reads and updates.
TEST_F(DistributedSessionsTest, LongSessionsAreStoredCompressed) {
  std::unique_ptr<Server> a = Start({"server-a"});
  std::unique_ptr<Server> b = Start({"server-b"});
  ASSERT_TRUE(a && b);
  SessionState state = NewSession("visitor-long");
  for (int i = 0; i < 100; ++i) {
    v1::Presentation* presentation = state.add_earlier_presentations();
    presentation->set_treatment_code(absl::StrCat("CODE", 1000 + i));
    presentation->set_offer("GoldCardUpgrade");
    presentation->set_interaction_point("HomePageHero");
  }
  absl::StatusOr<uint64_t> version =
      a->store->Create(state, false, absl::Now());
  ASSERT_TRUE(version.ok()) << version.status();
  absl::StatusOr<v1::GetResponse> stored =
      a->client->Get(a->store->ns(), "visitor-long");
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_TRUE(stored->found());
  EXPECT_EQ(stored->entry().value().substr(0, 2), std::string("\0L", 2));
  EXPECT_LT(stored->entry().value().size(), state.ByteSizeLong() / 2);
  absl::StatusOr<SessionState> read =
      b->store->Get("visitor-long", absl::Now());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->version(), *version);
  ASSERT_EQ(read->earlier_presentations_size(), 100);
  EXPECT_EQ(read->earlier_presentations(99).treatment_code(), "CODE1099");

  // As an earlier release stored it.
  absl::StatusOr<uint64_t> plain = a->client->Put(
      a->store->ns(), "visitor-plain", state.SerializeAsString(), 60000);
  ASSERT_TRUE(plain.ok()) << plain.status();
  absl::StatusOr<SessionState> old =
      b->store->Get("visitor-plain", absl::Now());
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->version(), *plain);
  EXPECT_EQ(old->earlier_presentations_size(), 100);
  old->add_segments("updated");
  EXPECT_TRUE(b->store->Update(*old, absl::Now()).ok());
}

TEST_F(DistributedSessionsTest, BSeesEveryUpdateOfAOnceItsBroadcastArrived) {
  std::unique_ptr<Server> a = Start({"server-a"});
  std::unique_ptr<Server> b = Start({"server-b"});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(
      a->store->Create(NewSession("visitor-2"), false, absl::Now()).ok());
  ASSERT_TRUE(b->store->Get("visitor-2", absl::Now()).ok());  // B caches it.

  // A bounded poll: B's copy is replaced once the broadcast gets there.
  absl::StatusOr<SessionState> state = a->store->Get("visitor-2", absl::Now());
  ASSERT_TRUE(state.ok());
  state->set_sequence(1);
  absl::StatusOr<uint64_t> written = a->store->Update(*state, absl::Now());
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(WaitUntil(
      [&] {
        absl::StatusOr<SessionState> seen =
            b->store->Get("visitor-2", absl::Now());
        return seen.ok() && seen->version() == *written &&
               seen->sequence() == 1;
      },
      absl::Seconds(5)));

  // A loop writing on A and reading on B: once a write's broadcast arrived,
  // B never returns anything older (B reads between the writes, so its
  // near cache holds the previous version each time).
  for (uint64_t i = 2; i <= 40; ++i) {
    state = a->store->Get("visitor-2", absl::Now());
    ASSERT_TRUE(state.ok()) << state.status();
    state->set_sequence(i);
    written = a->store->Update(*state, absl::Now());
    ASSERT_TRUE(written.ok()) << written.status();
    ASSERT_TRUE(BroadcastArrived(*a, *b)) << "write " << i;
    absl::StatusOr<SessionState> seen = b->store->Get("visitor-2", absl::Now());
    ASSERT_TRUE(seen.ok()) << seen.status();
    EXPECT_EQ(seen->version(), *written) << "write " << i;
    EXPECT_EQ(seen->sequence(), i);
  }
  EXPECT_GT(b->follower->position().sequence(), 0u);
}

TEST_F(DistributedSessionsTest, OfTwoConcurrentUpdatesExactlyOneWins) {
  std::unique_ptr<Server> a = Start({"server-a"});
  std::unique_ptr<Server> b = Start({"server-b"});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(
      a->store->Create(NewSession("visitor-3"), false, absl::Now()).ok());
  for (int round = 0; round < 10; ++round) {
    ASSERT_TRUE(BroadcastArrived(*a, *b));
    ASSERT_TRUE(BroadcastArrived(*b, *a));
    absl::StatusOr<SessionState> on_a = a->store->Get("visitor-3", absl::Now());
    absl::StatusOr<SessionState> on_b = b->store->Get("visitor-3", absl::Now());
    ASSERT_TRUE(on_a.ok() && on_b.ok());
    ASSERT_EQ(on_a->version(), on_b->version());
    on_a->add_segments(absl::StrCat("a-", round));
    on_b->add_segments(absl::StrCat("b-", round));

    absl::Barrier* start = new absl::Barrier(2);
    absl::StatusOr<uint64_t> result_a, result_b;
    std::thread thread_a([&] {
      if (start->Block()) delete start;
      result_a = a->store->Update(*on_a, absl::Now());
    });
    std::thread thread_b([&] {
      if (start->Block()) delete start;
      result_b = b->store->Update(*on_b, absl::Now());
    });
    thread_a.join();
    thread_b.join();
    ASSERT_NE(result_a.ok(), result_b.ok())
        << result_a.status() << " / " << result_b.status();
    const absl::StatusOr<uint64_t>& lost = result_a.ok() ? result_b : result_a;
    EXPECT_EQ(lost.status().code(), absl::StatusCode::kAborted);
    const uint64_t won = result_a.ok() ? *result_a : *result_b;

    // The loser re-reads the winner's write.
    Server& loser = result_a.ok() ? *b : *a;
    absl::StatusOr<SessionState> reread =
        loser.store->Get("visitor-3", absl::Now());
    ASSERT_TRUE(reread.ok());
    EXPECT_EQ(reread->version(), won);
    EXPECT_EQ(reread->segments(reread->segments_size() - 1),
              absl::StrCat(result_a.ok() ? "a-" : "b-", round));
  }
}

// A change written back takes the near copy over instead of copying it,
// and the write leaves the new version near; a tier read for a change is
// not cached (the write caches what it stores).
TEST_F(DistributedSessionsTest,
       AChangeTakesTheNearCopyAndTheWriteLeavesItsOwn) {
  std::unique_ptr<Server> a = Start({"server-a"});
  std::unique_ptr<Server> b = Start({"server-b"});
  ASSERT_TRUE(a && b);
  absl::StatusOr<uint64_t> v1 =
      a->store->Create(NewSession("visitor-6"), false, absl::Now());
  ASSERT_TRUE(v1.ok()) << v1.status();
  ASSERT_EQ(NearVersion(*a, "visitor-6"), *v1);

  absl::StatusOr<SessionState> taken =
      a->store->GetForUpdate("visitor-6", absl::Now(), /*latest=*/false);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->version(), *v1);
  EXPECT_THAT(taken->segments(), ElementsAre("new-visitors"));
  EXPECT_EQ(NearVersion(*a, "visitor-6"), 0u);
  taken->add_segments("from-a");
  absl::StatusOr<uint64_t> v2 = a->store->Update(*taken, absl::Now());
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(NearVersion(*a, "visitor-6"), *v2);

  // B holds no copy: it reads the tier and does not keep what it read.
  ASSERT_TRUE(BroadcastArrived(*a, *b));
  absl::StatusOr<SessionState> on_b =
      b->store->GetForUpdate("visitor-6", absl::Now(), /*latest=*/false);
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  EXPECT_EQ(on_b->version(), *v2);
  EXPECT_THAT(on_b->segments(), ElementsAre("new-visitors", "from-a"));
  EXPECT_EQ(NearVersion(*b, "visitor-6"), 0u);
  // A change not written back leaves the session in the tier, unchanged.
  absl::StatusOr<SessionState> again = a->store->Get("visitor-6", absl::Now());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version(), *v2);
  EXPECT_EQ(
      a->store->GetForUpdate("visitor-7", absl::Now(), false).status().code(),
      absl::StatusCode::kNotFound);
}

TEST_F(DistributedSessionsTest, AStaleNearCopyNeverLosesAnUpdate) {
  std::unique_ptr<Server> a = Start({"server-a"});
  std::unique_ptr<Server> b = Start({"server-b"});
  // Writes like A but does not broadcast: B's copy stays stale, as if the
  // broadcast had not arrived yet.
  std::unique_ptr<Server> quiet = Start({"server-q", absl::Seconds(300),
                                         /*broadcast=*/false});
  ASSERT_TRUE(a && b && quiet);
  absl::StatusOr<uint64_t> v1 =
      a->store->Create(NewSession("visitor-4"), false, absl::Now());
  ASSERT_TRUE(v1.ok());
  absl::StatusOr<SessionState> on_b = b->store->Get("visitor-4", absl::Now());
  ASSERT_TRUE(on_b.ok());
  ASSERT_EQ(on_b->version(), *v1);
  ASSERT_EQ(NearVersion(*b, "visitor-4"), *v1);

  absl::StatusOr<SessionState> on_quiet =
      quiet->store->Get("visitor-4", absl::Now());
  ASSERT_TRUE(on_quiet.ok());
  on_quiet->add_segments("from-quiet");
  absl::StatusOr<uint64_t> v2 = quiet->store->Update(*on_quiet, absl::Now());
  ASSERT_TRUE(v2.ok()) << v2.status();

  // B still serves the old copy...
  absl::StatusOr<SessionState> stale = b->store->Get("visitor-4", absl::Now());
  ASSERT_TRUE(stale.ok());
  ASSERT_EQ(stale->version(), *v1);
  // ...but cannot write over the newer one with it.
  stale->add_segments("from-b");
  EXPECT_EQ(b->store->Update(*stale, absl::Now()).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(NearVersion(*b, "visitor-4"), *v2);  // Re-read while aborting.
  // The re-read gets the current session; re-applying the change works.
  absl::StatusOr<SessionState> fresh = b->store->Get("visitor-4", absl::Now());
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->version(), *v2);
  fresh->add_segments("from-b");
  absl::StatusOr<uint64_t> v3 = b->store->Update(*fresh, absl::Now());
  ASSERT_TRUE(v3.ok()) << v3.status();

  ASSERT_TRUE(BroadcastArrived(*b, *a));
  ASSERT_TRUE(BroadcastArrived(*b, *quiet));
  absl::StatusOr<SessionState> final_state =
      a->store->Get("visitor-4", absl::Now());
  ASSERT_TRUE(final_state.ok());
  EXPECT_EQ(final_state->version(), *v3);
  EXPECT_THAT(final_state->segments(),
              ElementsAre("new-visitors", "from-quiet", "from-b"));

  // Remove through a stale copy returns the current session, not the copy.
  on_quiet = quiet->store->Get("visitor-4", absl::Now());
  ASSERT_TRUE(on_quiet.ok());
  on_quiet->add_segments("last-from-quiet");
  ASSERT_TRUE(quiet->store->Update(*on_quiet, absl::Now()).ok());
  ASSERT_EQ(NearVersion(*a, "visitor-4"), *v3);  // Stale on A now.
  absl::StatusOr<SessionState> removed =
      a->store->Remove("visitor-4", absl::Now());
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->segments(removed->segments_size() - 1), "last-from-quiet");
}

TEST_F(DistributedSessionsTest, ASessionExpiresATimeoutAfterItsLastWrite) {
  std::unique_ptr<Server> a = Start({"server-a", absl::Seconds(2)});
  std::unique_ptr<Server> b = Start({"server-b", absl::Seconds(2)});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(
      a->store->Create(NewSession("visitor-5"), false, absl::Now()).ok());
  ASSERT_TRUE(b->store->Get("visitor-5", absl::Now()).ok());
  absl::SleepFor(absl::Milliseconds(1200));
  // A write renews the time to live.
  absl::StatusOr<SessionState> state = a->store->Get("visitor-5", absl::Now());
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_TRUE(a->store->Update(*state, absl::Now()).ok());
  absl::SleepFor(absl::Milliseconds(1200));  // 2.4 s after the create.
  EXPECT_TRUE(b->store->Get("visitor-5", absl::Now()).ok());
  EXPECT_TRUE(a->store->Get("visitor-5", absl::Now()).ok());

  absl::SleepFor(absl::Milliseconds(2200));  // 2.2 s after the update.
  // Gone everywhere, near copies included.
  EXPECT_EQ(b->store->Get("visitor-5", absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(a->store->Get("visitor-5", absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(a->store->Update(*state, absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(b->store->Remove("visitor-5", absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  // An expired id is free again.
  EXPECT_TRUE(
      b->store->Create(NewSession("visitor-5"), false, absl::Now()).ok());
}

TEST_F(DistributedSessionsTest, RemoveTakesTheSessionOutEverywhere) {
  std::unique_ptr<Server> a = Start({"server-a"});
  std::unique_ptr<Server> b = Start({"server-b"});
  ASSERT_TRUE(a && b);
  absl::StatusOr<uint64_t> version =
      a->store->Create(NewSession("visitor-6"), false, absl::Now());
  ASSERT_TRUE(version.ok());
  absl::StatusOr<SessionState> held = b->store->Get("visitor-6", absl::Now());
  ASSERT_TRUE(held.ok());

  absl::StatusOr<SessionState> removed =
      a->store->Remove("visitor-6", absl::Now());
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->version(), *version);
  EXPECT_EQ(removed->interactive_channel(), "web-site");
  ASSERT_TRUE(BroadcastArrived(*a, *b));
  EXPECT_EQ(NearVersion(*b, "visitor-6"), 0u);
  EXPECT_EQ(b->store->Get("visitor-6", absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(b->store->Remove("visitor-6", absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(b->store->Update(*held, absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<uint64_t> again =
      b->store->Create(NewSession("visitor-6"), false, absl::Now());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_GT(*again, *version);  // Versions never go back.
}

TEST_F(DistributedSessionsTest,
       StoppedFollowingTheNearCacheIsFlushedAndUnused) {
  std::unique_ptr<Server> a = Start({"server-a"});
  std::unique_ptr<Server> b = Start({"server-b"});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(
      a->store->Create(NewSession("visitor-7"), false, absl::Now()).ok());
  ASSERT_TRUE(b->store->Get("visitor-7", absl::Now()).ok());
  ASSERT_EQ(b->cache->size(), 1u);

  b->follower->Stop();
  EXPECT_FALSE(b->follower->live());
  EXPECT_EQ(b->cache->size(), 0u);
  // Without invalidations B reads the tier, every time.
  absl::StatusOr<SessionState> state = a->store->Get("visitor-7", absl::Now());
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(a->store->Update(*state, absl::Now()).ok());
  absl::StatusOr<SessionState> seen = b->store->Get("visitor-7", absl::Now());
  ASSERT_TRUE(seen.ok());
  EXPECT_GT(seen->version(), state->version());
  EXPECT_EQ(b->cache->size(), 0u);
}

// Its own coordinator, killed and restarted on the same port: the follower
// flushes and stops using the near cache while the stream is down, and
// comes back (new stream epoch, empty cache); invalidations published
// meanwhile go out once the coordinator is back.
TEST(DistributedSessionsRestartTest, ACoordinatorRestartFlushesTheNearCache) {
  const std::string dir = testing::FreshTempDir("coordinator_restart");
  std::vector<std::string> args = {
      absl::StrCat("--data_dir=", dir, "/coordinator"), "--partitions=8"};
  if (testing::TlsFromEnvironment()) {
    absl::StatusOr<std::map<std::string, TlsFiles>> tls =
        testing::MakeTestCertificates(dir + "/tls",
                                      {"parley-node", "parley-client"});
    ASSERT_TRUE(tls.ok()) << tls.status();
    const TlsFiles& node = (*tls)["parley-node"];
    args.push_back("--tls_cert_file=" + node.cert_file);
    args.push_back("--tls_key_file=" + node.key_file);
    args.push_back("--tls_ca_file=" + node.ca_file);
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        MakeChannelCredentials((*tls)["parley-client"]);
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    Credentials() = *credentials;
  }
  absl::StatusOr<testing::StartedServer> coordinator = testing::StartServer(
      testing::RunfilePath(kCoordinator), args, dir, "coordinator");
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();
  const std::string address = coordinator->address();
  ASSERT_TRUE(CreateGroup(address, "web").ok());

  NearCache cache(NearCacheOptions{100, 4});
  InvalidationFollowerOptions follower_options;
  follower_options.group = "web";
  follower_options.ns = SessionNamespace("web");
  follower_options.reconnect = {absl::Milliseconds(50), absl::Milliseconds(200),
                                2.0, 0};
  InvalidationFollower follower(Channel(address), follower_options, &cache);
  follower.Start();
  InvalidationPublisherOptions publisher_options;
  publisher_options.group = "web";
  publisher_options.origin = "server-a";
  InvalidationPublisher publisher(
      publisher_options, distributed::CoordinatorPublishCall(Channel(address)));

  ASSERT_TRUE(WaitUntil([&] { return follower.live(); }, absl::Seconds(10)));
  const uint64_t first_epoch = follower.position().epoch();
  auto put = [&cache](const std::string& id) {
    auto state = std::make_shared<SessionState>();
    state->set_session_id(id);
    state->set_version(5);
    return cache.Insert(id, CachedSession{state, 0}, cache.Reserve(id));
  };
  ASSERT_TRUE(put("visitor-1"));
  ASSERT_TRUE(put("visitor-2"));
  // A published entry arrives and drops the older copy.
  publisher.Publish(SessionNamespace("web"), "visitor-1", 6);
  ASSERT_TRUE(publisher.Flush(absl::Seconds(10)));
  ASSERT_TRUE(
      follower.WaitForPosition(publisher.last_published(), absl::Seconds(10)));
  EXPECT_EQ(cache.size(), 1u);

  coordinator->process->Signal(SIGKILL);
  ASSERT_TRUE(coordinator->process->Wait(absl::Seconds(5)).ok());
  ASSERT_TRUE(WaitUntil([&] { return !follower.live(); }, absl::Seconds(10)));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(put("visitor-2"));  // Not used while the stream is down.
  publisher.Publish(SessionNamespace("web"), "visitor-3", 9);
  EXPECT_FALSE(publisher.Flush(absl::Milliseconds(300)));

  // Back on the same port and data.
  std::vector<std::string> restart_args = args;
  restart_args.push_back(absl::StrCat("--listen=", address));
  restart_args.push_back(absl::StrCat("--port_file=", dir, "/again.port"));
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> again =
      testing::ChildProcess::Spawn(testing::RunfilePath(kCoordinator),
                                   restart_args, dir + "/again.log");
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(
      testing::WaitForPortFile(dir + "/again.port", absl::Seconds(20)).ok())
      << (*again)->Log();
  ASSERT_TRUE(WaitUntil([&] { return follower.live(); }, absl::Seconds(10)))
      << (*again)->Log();
  EXPECT_NE(follower.position().epoch(), first_epoch);
  EXPECT_TRUE(put("visitor-2"));
  EXPECT_TRUE(publisher.Flush(absl::Seconds(10)));
  EXPECT_EQ(publisher.last_published().epoch(), follower.position().epoch());
  follower.Stop();
  Credentials() = grpc::InsecureChannelCredentials();
}

}  // namespace
}  // namespace parley
