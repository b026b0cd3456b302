#include "services/client/runtime_client.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/runtime.grpc.pb.h"
#include "services/client/rendezvous.h"

namespace parley {
namespace {

// A runtime server that answers every session call SUCCESS and records
// which sessions reached it; it can be made slow or failing.
// The "authorization" metadata a call carried, or "".
std::string AuthorizationOf(const grpc::ServerContext& context) {
  auto it = context.client_metadata().find("authorization");
  if (it == context.client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

class FakeRuntime final : public v1::InteractRuntime::Service {
 public:
  explicit FakeRuntime(std::string name) : name_(std::move(name)) {}

  // Starts serving on a free port of 127.0.0.1.
  void Start() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  // Stops serving: calls to it fail UNAVAILABLE.
  void Stop() {
    if (server_ == nullptr) return;
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    server_.reset();
  }

  ~FakeRuntime() override { Stop(); }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Sessions in the order their calls arrived.
  std::vector<std::string> sessions() const {
    absl::MutexLock lock(&mu_);
    return sessions_;
  }
  int calls() const { return static_cast<int>(sessions().size()); }
  // The authorization metadata of each call, in the same order ("" when a
  // call had none).
  std::vector<std::string> authorizations() const {
    absl::MutexLock lock(&mu_);
    return authorizations_;
  }

  void set_delay(absl::Duration delay) {
    absl::MutexLock lock(&mu_);
    delay_ = delay;
  }
  void set_failure(grpc::StatusCode code) {
    absl::MutexLock lock(&mu_);
    failure_ = code;
  }

  grpc::Status StartSession(grpc::ServerContext* context,
                            const v1::StartSessionRequest* request,
                            v1::StartSessionResponse* response) override {
    response->set_session_id(request->session_id());
    return Answer(*context, request->session_id());
  }
  grpc::Status GetOffers(grpc::ServerContext* context,
                         const v1::GetOffersRequest* request,
                         v1::GetOffersResponse* response) override {
    response->set_session_id(request->session_id());
    return Answer(*context, request->session_id());
  }
  grpc::Status PostEvent(grpc::ServerContext* context,
                         const v1::PostEventRequest* request,
                         v1::PostEventResponse* response) override {
    response->set_session_id(request->session_id());
    return Answer(*context, request->session_id());
  }
  grpc::Status GetProfile(grpc::ServerContext* context,
                          const v1::GetProfileRequest* request,
                          v1::GetProfileResponse* response) override {
    response->set_session_id(request->session_id());
    v1::NameValue* server = response->add_profile();
    server->set_name("server");
    server->set_string_value(name_);
    return Answer(*context, request->session_id());
  }
  grpc::Status GetVersion(grpc::ServerContext* context,
                          const v1::GetVersionRequest*,
                          v1::GetVersionResponse* response) override {
    response->set_server_version(name_);
    return Answer(*context, "");
  }
  grpc::Status ExecuteBatch(grpc::ServerContext* context,
                            const v1::ExecuteBatchRequest* request,
                            v1::ExecuteBatchResponse* response) override {
    response->set_session_id(request->session_id());
    return Answer(*context, request->session_id());
  }

 private:
  grpc::Status Answer(const grpc::ServerContext& context,
                      const std::string& session) {
    absl::Duration delay;
    grpc::StatusCode failure;
    {
      absl::MutexLock lock(&mu_);
      sessions_.push_back(session);
      authorizations_.push_back(AuthorizationOf(context));
      delay = delay_;
      failure = failure_;
    }
    absl::SleepFor(delay);
    if (failure != grpc::StatusCode::OK) {
      return grpc::Status(failure, "made to fail");
    }
    return grpc::Status::OK;
  }

  const std::string name_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  mutable absl::Mutex mu_;
  std::vector<std::string> sessions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> authorizations_ ABSL_GUARDED_BY(mu_);
  absl::Duration delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  grpc::StatusCode failure_ ABSL_GUARDED_BY(mu_) = grpc::StatusCode::OK;
};

// A coordinator serving one group's membership: ListMembers and
// WatchMembership, with events pushed by the test.
class FakeCoordinator final : public v1::Coordinator::Service {
 public:
  FakeCoordinator() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeCoordinator() override {
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  void Join(const std::string& id, const std::string& address) {
    v1::MembershipEvent event;
    event.set_kind(v1::MembershipEvent::JOINED);
    event.mutable_member()->set_id(id);
    event.mutable_member()->set_role(v1::RUNTIME_SERVER);
    event.mutable_member()->set_group("g");
    event.mutable_member()->set_address(address);
    absl::MutexLock lock(&mu_);
    members_[id] = event.member();
    events_.push_back(event);
  }

  void Leave(const std::string& id) {
    v1::MembershipEvent event;
    event.set_kind(v1::MembershipEvent::LEFT);
    absl::MutexLock lock(&mu_);
    *event.mutable_member() = members_[id];
    members_.erase(id);
    events_.push_back(event);
  }

  grpc::Status ListMembers(grpc::ServerContext* context,
                           const v1::ListMembersRequest* request,
                           v1::MembershipView* view) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(*request);
    authorizations_.push_back(AuthorizationOf(*context));
    for (const auto& [id, member] : members_) *view->add_members() = member;
    return grpc::Status::OK;
  }

  grpc::Status WatchMembership(
      grpc::ServerContext* context, const v1::WatchMembershipRequest* request,
      grpc::ServerWriter<v1::MembershipEvent>* writer) override {
    v1::MembershipEvent full_view;
    full_view.set_kind(v1::MembershipEvent::FULL_VIEW);
    size_t next = 0;
    {
      absl::MutexLock lock(&mu_);
      watch_requests_.push_back(*request);
      authorizations_.push_back(AuthorizationOf(*context));
      for (const auto& [id, member] : members_) {
        *full_view.mutable_view()->add_members() = member;
      }
      next = events_.size();
    }
    writer->Write(full_view);
    while (!context->IsCancelled()) {
      std::vector<v1::MembershipEvent> pending;
      {
        absl::MutexLock lock(&mu_);
        pending.assign(events_.begin() + next, events_.end());
        next = events_.size();
      }
      for (const v1::MembershipEvent& event : pending) {
        if (!writer->Write(event)) return grpc::Status::OK;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return grpc::Status::OK;
  }

  std::vector<v1::WatchMembershipRequest> watch_requests() const {
    absl::MutexLock lock(&mu_);
    return watch_requests_;
  }

  // The authorization metadata of each ListMembers and WatchMembership
  // call, in order ("" when a call had none).
  std::vector<std::string> authorizations() const {
    absl::MutexLock lock(&mu_);
    return authorizations_;
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  mutable absl::Mutex mu_;
  std::map<std::string, v1::Member> members_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::MembershipEvent> events_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::ListMembersRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::WatchMembershipRequest> watch_requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> authorizations_ ABSL_GUARDED_BY(mu_);
};

v1::GetProfileRequest Profile(const std::string& session) {
  v1::GetProfileRequest request;
  request.set_session_id(session);
  return request;
}

v1::PostEventRequest Event(const std::string& session) {
  v1::PostEventRequest request;
  request.set_session_id(session);
  request.set_event_name("OfferShown");
  return request;
}

// The fixed-list client over three fake servers.
class RuntimeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuntimeClientOptions options;
    for (int i = 0; i < 3; ++i) {
      servers_.push_back(
          std::make_unique<FakeRuntime>(absl::StrCat("fake-", i)));
      servers_.back()->Start();
      options.static_addresses.push_back(servers_.back()->address());
    }
    options.default_deadline = absl::Milliseconds(500);
    options.retry.initial_backoff = absl::Milliseconds(5);
    absl::StatusOr<std::unique_ptr<RuntimeClient>> client =
        RuntimeClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  FakeRuntime* ServerAt(const std::string& address) {
    for (auto& server : servers_) {
      if (server->address() == address) return server.get();
    }
    return nullptr;
  }

  // The servers in the order session `id` tries them.
  std::vector<FakeRuntime*> OrderFor(const std::string& id) {
    std::vector<std::string> addresses;
    for (auto& server : servers_) addresses.push_back(server->address());
    std::vector<FakeRuntime*> order;
    for (size_t i : client::RendezvousOrder(addresses, id)) {
      order.push_back(ServerAt(addresses[i]));
    }
    return order;
  }

  std::vector<std::unique_ptr<FakeRuntime>> servers_;
  std::unique_ptr<RuntimeClient> client_;
};

TEST(RuntimeClientOptionsTest, BadOptionsAreRefused) {
  RuntimeClientOptions none;
  EXPECT_TRUE(absl::IsInvalidArgument(RuntimeClient::Connect(none).status()));
  RuntimeClientOptions both;
  both.coordinator_address = "127.0.0.1:7400";
  both.group = "g";
  both.static_addresses = {"127.0.0.1:7601"};
  EXPECT_TRUE(absl::IsInvalidArgument(RuntimeClient::Connect(both).status()));
  RuntimeClientOptions no_group;
  no_group.coordinator_address = "127.0.0.1:7400";
  EXPECT_TRUE(
      absl::IsInvalidArgument(RuntimeClient::Connect(no_group).status()));
  RuntimeClientOptions unbounded;
  unbounded.static_addresses = {"127.0.0.1:7601"};
  unbounded.retry.max_attempts = 0;
  EXPECT_TRUE(
      absl::IsInvalidArgument(RuntimeClient::Connect(unbounded).status()));
  RuntimeClientOptions no_deadline;
  no_deadline.static_addresses = {"127.0.0.1:7601"};
  no_deadline.default_deadline = absl::ZeroDuration();
  EXPECT_TRUE(
      absl::IsInvalidArgument(RuntimeClient::Connect(no_deadline).status()));
  for (const char* token : {"two words", "line\nbreak", "tab\t", "nul\x01"}) {
    RuntimeClientOptions bad_token;
    bad_token.static_addresses = {"127.0.0.1:7601"};
    bad_token.auth_token = token;
    const absl::Status status = RuntimeClient::Connect(bad_token).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    // The message does not echo the secret.
    EXPECT_EQ(std::string(status.message()).find(token), std::string::npos)
        << status;
  }
}

TEST(RuntimeClientConnectTest, UnreachableCoordinatorIsUnavailable) {
  RuntimeClientOptions options;
  // Nothing listens on port 1 of the loopback address.
  options.coordinator_address = "127.0.0.1:1";
  options.group = "g";
  options.connect_timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<RuntimeClient>> client =
      RuntimeClient::Connect(options);
  EXPECT_TRUE(absl::IsUnavailable(client.status())) << client.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(RuntimeClientTest, EverySessionCallGoesToItsRendezvousServer) {
  for (int i = 0; i < 60; ++i) {
    const std::string id = absl::StrCat("session-", i);
    FakeRuntime* expected = OrderFor(id)[0];
    EXPECT_EQ(client_->ServerFor(id).value(), expected->address());
    for (int call = 0; call < 5; ++call) {
      CallInfo info;
      absl::StatusOr<v1::GetProfileResponse> profile =
          client_->GetProfile(Profile(id), {}, &info);
      ASSERT_TRUE(profile.ok()) << profile.status();
      EXPECT_EQ(info.server, expected->address());
      EXPECT_EQ(info.attempts, 1);
    }
  }
  // Each server saw only its own sessions, and every one saw some.
  for (auto& server : servers_) {
    EXPECT_GT(server->calls(), 0);
    for (const std::string& id : server->sessions()) {
      EXPECT_EQ(OrderFor(id)[0], server.get()) << id;
    }
  }
}

TEST_F(RuntimeClientTest, EmptySessionIdIsRefusedWithoutACall) {
  EXPECT_TRUE(
      absl::IsInvalidArgument(client_->GetProfile(Profile("")).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(client_->ServerFor("").status()));
  for (auto& server : servers_) EXPECT_EQ(server->calls(), 0);
}

TEST_F(RuntimeClientTest, UnavailableServerFailsOverToTheNextInOrder) {
  const std::string id = "moving-session";
  std::vector<FakeRuntime*> order = OrderFor(id);
  order[0]->Stop();
  CallInfo info;
  // Not repeatable after a deadline, but UNAVAILABLE is retried.
  absl::StatusOr<v1::PostEventResponse> posted =
      client_->PostEvent(Event(id), {}, &info);
  ASSERT_TRUE(posted.ok()) << posted.status();
  EXPECT_EQ(info.server, order[1]->address());
  EXPECT_EQ(info.attempts, 2);
  // The failed server is tried last now: the next call goes straight on.
  EXPECT_EQ(client_->ServerFor(id).value(), order[1]->address());
  ASSERT_TRUE(client_->PostEvent(Event(id), {}, &info).ok());
  EXPECT_EQ(info.attempts, 1);
  EXPECT_EQ(info.server, order[1]->address());
  EXPECT_EQ(order[1]->calls(), 2);
  EXPECT_EQ(order[2]->calls(), 0);
}

TEST_F(RuntimeClientTest, DeadlinesAreRetriedOnlyForRepeatableCalls) {
  const std::string id = "slow-session";
  std::vector<FakeRuntime*> order = OrderFor(id);
  order[0]->set_delay(absl::Milliseconds(400));
  CallOptions quick;
  quick.deadline = absl::Milliseconds(100);

  CallInfo info;
  absl::StatusOr<v1::PostEventResponse> posted =
      client_->PostEvent(Event(id), quick, &info);
  EXPECT_TRUE(absl::IsDeadlineExceeded(posted.status())) << posted.status();
  EXPECT_EQ(info.attempts, 1);
  EXPECT_EQ(info.server, order[0]->address());
  // Not demoted: a write that missed its deadline says little of the
  // server.
  EXPECT_EQ(client_->ServerFor(id).value(), order[0]->address());

  absl::StatusOr<v1::GetProfileResponse> profile =
      client_->GetProfile(Profile(id), quick, &info);
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(info.attempts, 2);
  EXPECT_EQ(info.server, order[1]->address());
  EXPECT_EQ(client_->ServerFor(id).value(), order[1]->address());
  EXPECT_EQ(order[2]->calls(), 0);
}

TEST_F(RuntimeClientTest, AttemptsAreBounded) {
  for (auto& server : servers_) server->Stop();
  CallInfo info;
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::GetProfileResponse> profile =
      client_->GetProfile(Profile("s"), {}, &info);
  EXPECT_TRUE(absl::IsUnavailable(profile.status())) << profile.status();
  EXPECT_EQ(info.attempts, 3);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  CallOptions once;
  once.max_attempts = 1;
  profile = client_->GetProfile(Profile("s"), once, &info);
  EXPECT_TRUE(absl::IsUnavailable(profile.status()));
  EXPECT_EQ(info.attempts, 1);
}

TEST_F(RuntimeClientTest, OtherErrorsAreReturnedAtOnce) {
  const std::string id = "refused";
  std::vector<FakeRuntime*> order = OrderFor(id);
  order[0]->set_failure(grpc::StatusCode::INVALID_ARGUMENT);
  CallInfo info;
  absl::StatusOr<v1::GetProfileResponse> profile =
      client_->GetProfile(Profile(id), {}, &info);
  EXPECT_TRUE(absl::IsInvalidArgument(profile.status())) << profile.status();
  EXPECT_EQ(info.attempts, 1);
  EXPECT_EQ(order[1]->calls() + order[2]->calls(), 0);
}

TEST_F(RuntimeClientTest, CallsNamingNoSessionTakeTurns) {
  std::map<std::string, int> answered;
  for (int i = 0; i < 30; ++i) {
    absl::StatusOr<v1::GetVersionResponse> version = client_->GetVersion();
    ASSERT_TRUE(version.ok()) << version.status();
    ++answered[version->server_version()];
  }
  EXPECT_EQ(answered.size(), 3u);
  for (const auto& [name, count] : answered) EXPECT_EQ(count, 10) << name;
}

TEST_F(RuntimeClientTest, BatchGoesToItsSessionsServer) {
  v1::ExecuteBatchRequest batch;
  batch.set_session_id("batch-session");
  batch.add_commands()->mutable_get_profile();
  CallInfo info;
  ASSERT_TRUE(client_->ExecuteBatch(batch, {}, &info).ok());
  EXPECT_EQ(info.server, OrderFor("batch-session")[0]->address());
}

TEST_F(RuntimeClientTest, ManyThreadsShareOneClient) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string id = absl::StrCat("t", t, "-", i % 5);
        CallInfo info;
        if (!client_->PostEvent(Event(id), {}, &info).ok() ||
            info.server != OrderFor(id)[0]->address()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(RuntimeClientMembershipTest, FollowsTheGroupsMembership) {
  FakeCoordinator coordinator;
  std::vector<std::unique_ptr<FakeRuntime>> runtimes;
  for (int i = 0; i < 3; ++i) {
    runtimes.push_back(std::make_unique<FakeRuntime>(absl::StrCat("r", i)));
    runtimes.back()->Start();
  }
  coordinator.Join("r0", runtimes[0]->address());
  coordinator.Join("r1", runtimes[1]->address());

  RuntimeClientOptions options;
  options.coordinator_address = coordinator.address();
  options.group = "g";
  absl::StatusOr<std::unique_ptr<RuntimeClient>> connected =
      RuntimeClient::Connect(options);
  ASSERT_TRUE(connected.ok()) << connected.status();
  RuntimeClient& client = **connected;
  // Read at once, before the watch.
  EXPECT_EQ(client.Servers(),
            (std::vector<std::string>{runtimes[0]->address(),
                                      runtimes[1]->address()}));

  auto wait_for = [&](size_t count) {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (client.Servers().size() != count && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    return client.Servers().size() == count;
  };
  // Sessions keyed by member id, not address.
  std::vector<std::string> three = {"r0", "r1", "r2"};
  coordinator.Join("r2", runtimes[2]->address());
  ASSERT_TRUE(wait_for(3));
  ASSERT_FALSE(coordinator.watch_requests().empty());
  EXPECT_EQ(coordinator.watch_requests()[0].group(), "g");
  EXPECT_EQ(coordinator.watch_requests()[0].role(), v1::RUNTIME_SERVER);
  for (int i = 0; i < 50; ++i) {
    const std::string id = absl::StrCat("s", i);
    const std::string owner = three[client::RendezvousOrder(three, id)[0]];
    const int index = owner[1] - '0';
    EXPECT_EQ(client.ServerFor(id).value(), runtimes[index]->address());
    CallInfo info;
    ASSERT_TRUE(client.GetProfile(Profile(id), {}, &info).ok());
    EXPECT_EQ(info.server, runtimes[index]->address());
  }
  coordinator.Leave("r0");
  ASSERT_TRUE(wait_for(2));
  for (int i = 0; i < 50; ++i) {
    const std::string id = absl::StrCat("s", i);
    EXPECT_NE(client.ServerFor(id).value(), runtimes[0]->address());
  }
  coordinator.Leave("r1");
  coordinator.Leave("r2");
  ASSERT_TRUE(wait_for(0));
  CallOptions once;
  once.max_attempts = 1;
  EXPECT_TRUE(
      absl::IsUnavailable(client.GetProfile(Profile("s"), once).status()));
  EXPECT_TRUE(absl::IsUnavailable(client.ServerFor("s").status()));
}

// The token goes on every call: ListMembers and WatchMembership to the
// coordinator, and each call (and each retry) to the runtime servers.
TEST(RuntimeClientAuthTest, TheTokenGoesOnEveryCall) {
  FakeCoordinator coordinator;
  std::vector<std::unique_ptr<FakeRuntime>> runtimes;
  for (int i = 0; i < 2; ++i) {
    runtimes.push_back(std::make_unique<FakeRuntime>(absl::StrCat("r", i)));
    runtimes.back()->Start();
    coordinator.Join(absl::StrCat("r", i), runtimes.back()->address());
  }
  RuntimeClientOptions options;
  options.coordinator_address = coordinator.address();
  options.group = "g";
  options.auth_token = "s3cr3t-t0ken";
  options.retry.initial_backoff = absl::Milliseconds(5);
  absl::StatusOr<std::unique_ptr<RuntimeClient>> connected =
      RuntimeClient::Connect(options);
  ASSERT_TRUE(connected.ok()) << connected.status();
  RuntimeClient& client = **connected;
  // The session's first server fails, so the call is also sent again.
  const std::string first = client.ServerFor("visit").value();
  for (auto& runtime : runtimes) {
    if (runtime->address() == first) {
      runtime->set_failure(grpc::StatusCode::UNAVAILABLE);
    }
  }
  CallInfo info;
  ASSERT_TRUE(client.GetProfile(Profile("visit"), {}, &info).ok());
  EXPECT_EQ(info.attempts, 2);
  ASSERT_TRUE(client.GetVersion({}, {}, &info).ok());
  ASSERT_TRUE(client.PostEvent(Event("visit")).ok());
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (coordinator.watch_requests().empty() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  std::vector<std::string> seen = coordinator.authorizations();
  ASSERT_EQ(seen.size(), 2u);  // ListMembers, then WatchMembership.
  int runtime_calls = 0;
  for (auto& runtime : runtimes) {
    for (const std::string& authorization : runtime->authorizations()) {
      seen.push_back(authorization);
      ++runtime_calls;
    }
  }
  EXPECT_GE(runtime_calls, 4);
  for (const std::string& authorization : seen) {
    EXPECT_EQ(authorization, "Bearer s3cr3t-t0ken");
  }
}

TEST(RuntimeClientAuthTest, NoTokenNoMetadata) {
  FakeRuntime runtime("r");
  runtime.Start();
  RuntimeClientOptions options;
  options.static_addresses = {runtime.address()};
  absl::StatusOr<std::unique_ptr<RuntimeClient>> client =
      RuntimeClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->GetProfile(Profile("visit")).ok());
  EXPECT_EQ(runtime.authorizations(), std::vector<std::string>{""});
}

}  // namespace
}  // namespace parley
