// parley::RuntimeClient over real processes: a coordinator, three cache
// nodes and parley-runtime servers on 127.0.0.1. Affinity: every call of a
// session reaches the server holding it (a LOCAL group, where only that
// server can answer), and a joining server takes about 1/N of the sessions.
// Failover: the server of a DISTRIBUTED session is killed with SIGKILL
// mid-session, and the session goes on, with its state, on another member.
#include "services/client/runtime_client.h"

#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "proto/parley/v1/profiles.grpc.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/client/parameters.h"
#include "tests/support/child_process.h"
#include "tests/support/local_cluster.h"

namespace parley {
namespace {

namespace v1 = ::parley::v1;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using testing::LocalCluster;
using testing::StartedServer;

constexpr char kRuntime[] = "services/runtime/server/parley-runtime";
constexpr char kDemoChannel[] = "deploy/demo/demo_channel.json";
// Profiles loaded: CustomerID 1..kCustomers.
constexpr int kCustomers = 300;

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return context;
}

v1::StartSessionRequest Start(const std::string& session, int customer) {
  v1::StartSessionRequest request;
  request.set_session_id(session);
  request.set_interactive_channel("demo");
  request.set_audience_level("Customer");
  *request.add_audience_id() = NumberParameter("CustomerID", customer);
  return request;
}

v1::GetOffersRequest Offers(const std::string& session) {
  v1::GetOffersRequest request;
  request.set_session_id(session);
  request.set_interaction_point("HomePageHero");
  request.set_number_requested(3);
  return request;
}

v1::PostEventRequest Event(const std::string& session, const std::string& name,
                           const std::string& tracking_code = "") {
  v1::PostEventRequest request;
  request.set_session_id(session);
  request.set_event_name(name);
  if (!tracking_code.empty()) {
    *request.add_parameters() =
        TextParameter("UACIOfferTrackingCode", tracking_code);
  }
  return request;
}

v1::GetProfileRequest Profile(const std::string& session) {
  v1::GetProfileRequest request;
  request.set_session_id(session);
  return request;
}

bool HasAdvisory(
    const google::protobuf::RepeatedPtrField<v1::AdvisoryMessage>& advisories,
    v1::AdvisoryCode code) {
  for (const v1::AdvisoryMessage& advisory : advisories) {
    if (advisory.code() == code) return true;
  }
  return false;
}

// The demo profiles of scripts/demo_setup.py: Tier Gold for CustomerID
// divisible by 5.
std::string DemoProfilesCsv() {
  const char* tiers[] = {"Gold", "Silver", "Bronze", "Silver", "Bronze"};
  std::string csv = "CustomerID,Age,Tier,LastPurchase\n";
  for (int id = 1; id <= kCustomers; ++id) {
    absl::StrAppend(&csv, id, ",", 18 + (id * 37) % 60, ",", tiers[id % 5],
                    absl::StrFormat(",2026-01-%02dT12:00:00Z\n", 1 + id % 28));
  }
  return csv;
}

class RuntimeClientIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::FreshTempDir("runtime_client"));
    absl::StatusOr<std::unique_ptr<LocalCluster>> cluster =
        LocalCluster::Start(*dir_);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
  }

  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    delete dir_;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    auto channel = grpc::CreateChannel(cluster_->coordinator_address(),
                                       grpc::InsecureChannelCredentials());
    coordinator_ = v1::Coordinator::NewStub(channel);
    deployments_ = v1::Deployments::NewStub(channel);
  }

  void TearDown() override {
    if (HasFailure()) {
      std::string logs = cluster_->Logs();
      for (const auto& [id, server] : runtimes_) {
        if (server.process != nullptr) {
          absl::StrAppend(&logs, "--- ", id, "\n", server.process->Log());
        }
      }
      ADD_FAILURE() << logs;
    }
  }

  // Creates group `name` with `cache_type` and deploys the demo channel to
  // it.
  void CreateGroup(const std::string& name, v1::CacheType cache_type) {
    v1::CreateGroupRequest create;
    create.set_name(name);
    create.mutable_settings()->set_cache_type(cache_type);
    v1::ServerGroup group;
    grpc::Status status =
        coordinator_->CreateGroup(Context().get(), create, &group);
    ASSERT_TRUE(status.ok()) << status.error_message();

    std::ifstream file(testing::RunfilePath(kDemoChannel));
    ASSERT_TRUE(file.good()) << kDemoChannel;
    std::stringstream json;
    json << file.rdbuf();
    v1::DeployRequest deploy;
    deploy.set_group(name);
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                    json.str(), deploy.mutable_channel())
                    .ok());
    v1::Deployment deployment;
    status = deployments_->Deploy(Context().get(), deploy, &deployment);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Starts runtime server `member_id` of `group`; its address.
  std::string StartRuntime(const std::string& group,
                           const std::string& member_id) {
    absl::StatusOr<StartedServer> server = testing::StartServer(
        testing::RunfilePath(kRuntime),
        {absl::StrCat("--coordinator=", cluster_->coordinator_address()),
         absl::StrCat("--group=", group),
         absl::StrCat("--member_id=", member_id), "--lease_ttl_seconds=2",
         "--worker_threads=8"},
        *dir_, member_id);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return "";
    const std::string address = server->address();
    runtimes_[member_id] = std::move(*server);
    return address;
  }

  // Waits until the server at `address` reports SERVING.
  static bool WaitServing(const std::string& address) {
    auto health = Health::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (absl::Now() < give_up) {
      HealthCheckRequest request;
      HealthCheckResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      if (health->Check(&context, request, &response).ok() &&
          response.status() == HealthCheckResponse::SERVING) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // Loads the demo profiles through the runtime server at `address`.
  static void LoadProfiles(const std::string& address) {
    auto profiles = v1::Profiles::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    auto context = Context();
    auto stream = profiles->LoadProfiles(context.get());
    v1::LoadProfilesRequest request;
    request.set_interactive_channel("demo");
    request.set_audience_level("Customer");
    request.set_csv_chunk(DemoProfilesCsv());
    ASSERT_TRUE(stream->Write(request));
    ASSERT_TRUE(stream->WritesDone());
    v1::LoadProfilesProgress progress, last;
    while (stream->Read(&progress)) last = progress;
    grpc::Status status = stream->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(last.rows_stored(), kCustomers);
  }

  // Starts `count` runtime servers <group>-1.. of a new group and a client
  // of it.
  std::unique_ptr<RuntimeClient> StartGroup(const std::string& group,
                                            v1::CacheType cache_type,
                                            int count) {
    CreateGroup(group, cache_type);
    std::vector<std::string> addresses;
    for (int i = 1; i <= count; ++i) {
      addresses.push_back(StartRuntime(group, absl::StrCat(group, "-", i)));
    }
    for (const std::string& address : addresses) {
      EXPECT_TRUE(WaitServing(address)) << address;
    }
    if (::testing::Test::HasFailure()) return nullptr;
    LoadProfiles(addresses[0]);
    RuntimeClientOptions options;
    options.coordinator_address = cluster_->coordinator_address();
    options.group = group;
    absl::StatusOr<std::unique_ptr<RuntimeClient>> client =
        RuntimeClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    EXPECT_TRUE(WaitForServers(**client, count));
    return *std::move(client);
  }

  // Waits until `client` knows `count` runtime servers.
  static bool WaitForServers(const RuntimeClient& client, size_t count) {
    const absl::Time give_up = absl::Now() + absl::Seconds(15);
    while (client.Servers().size() != count && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    return client.Servers().size() == count;
  }

  static std::string* dir_;
  static LocalCluster* cluster_;
  std::unique_ptr<v1::Coordinator::Stub> coordinator_;
  std::unique_ptr<v1::Deployments::Stub> deployments_;
  std::map<std::string, StartedServer> runtimes_;
};

std::string* RuntimeClientIntegrationTest::dir_ = nullptr;
LocalCluster* RuntimeClientIntegrationTest::cluster_ = nullptr;

// A LOCAL group keeps each session in one server's memory: a call that
// reached any other server would answer INVALID_SESSION_ID. So the servers
// themselves confirm where the calls went.
TEST_F(RuntimeClientIntegrationTest, SessionsStayOnTheirServer) {
  std::unique_ptr<RuntimeClient> client =
      StartGroup("sticky", v1::LOCAL, /*count=*/3);
  ASSERT_NE(client, nullptr);
  const std::vector<std::string> servers = client->Servers();

  // One session, 1,000 calls: every one on the same server.
  const std::string visit = "affinity-visit";
  const std::string home = client->ServerFor(visit).value();
  CallInfo info;
  absl::StatusOr<v1::StartSessionResponse> started =
      client->StartSession(Start(visit, 7), {}, &info);
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_EQ(started->status(), v1::SUCCESS) << started->DebugString();
  EXPECT_EQ(info.server, home);
  std::map<std::string, int> answered_by;
  for (int call = 0; call < 1000; ++call) {
    v1::ResponseStatus status = v1::ERROR;
    bool unknown_session = true;
    if (call % 3 == 0) {
      absl::StatusOr<v1::GetOffersResponse> offers =
          client->GetOffers(Offers(visit), {}, &info);
      ASSERT_TRUE(offers.ok()) << call << ": " << offers.status();
      status = offers->status();
      unknown_session =
          HasAdvisory(offers->advisory_messages(), v1::INVALID_SESSION_ID);
    } else if (call % 3 == 1) {
      absl::StatusOr<v1::PostEventResponse> posted =
          client->PostEvent(Event(visit, "OfferShown"), {}, &info);
      ASSERT_TRUE(posted.ok()) << call << ": " << posted.status();
      status = posted->status();
      unknown_session =
          HasAdvisory(posted->advisory_messages(), v1::INVALID_SESSION_ID);
    } else {
      absl::StatusOr<v1::GetProfileResponse> profile =
          client->GetProfile(Profile(visit), {}, &info);
      ASSERT_TRUE(profile.ok()) << call << ": " << profile.status();
      status = profile->status();
      unknown_session =
          HasAdvisory(profile->advisory_messages(), v1::INVALID_SESSION_ID);
    }
    ASSERT_FALSE(unknown_session) << "call " << call << " missed the session";
    ASSERT_NE(status, v1::ERROR) << "call " << call;
    ++answered_by[info.server];
    ASSERT_EQ(info.attempts, 1) << "call " << call;
  }
  EXPECT_EQ(answered_by, (std::map<std::string, int>{{home, 1000}}));
  EXPECT_EQ(client->ServerFor(visit).value(), home);
  EXPECT_EQ(client->Servers(), servers);

  // Many sessions: each on the server ServerFor names, all servers used.
  std::map<std::string, std::string> owner;
  std::map<std::string, int> per_server;
  for (int i = 1; i <= kCustomers; ++i) {
    const std::string session = absl::StrCat("visit-", i);
    started = client->StartSession(Start(session, i), {}, &info);
    ASSERT_TRUE(started.ok()) << started.status();
    ASSERT_EQ(started->status(), v1::SUCCESS) << started->DebugString();
    ASSERT_EQ(info.server, client->ServerFor(session).value());
    owner[session] = info.server;
    ++per_server[info.server];
  }
  ASSERT_EQ(per_server.size(), 3u);
  for (const auto& [server, sessions] : per_server) {
    EXPECT_GT(sessions, kCustomers / 6) << server;
  }

  // A fourth server joins: only the sessions it now wins move, to it.
  const std::string joined = StartRuntime("sticky", "sticky-4");
  ASSERT_TRUE(WaitServing(joined));
  ASSERT_TRUE(WaitForServers(*client, 4));
  int moved = 0;
  for (const auto& [session, server] : owner) {
    const std::string now = client->ServerFor(session).value();
    absl::StatusOr<v1::GetProfileResponse> profile =
        client->GetProfile(Profile(session), {}, &info);
    ASSERT_TRUE(profile.ok()) << profile.status();
    EXPECT_EQ(info.server, now);
    if (now == server) {
      // Still with the server that holds it.
      EXPECT_EQ(profile->status(), v1::SUCCESS) << session;
      continue;
    }
    ++moved;
    EXPECT_EQ(now, joined) << session << " moved elsewhere";
    // A LOCAL session does not follow: the new server does not know it.
    EXPECT_TRUE(
        HasAdvisory(profile->advisory_messages(), v1::INVALID_SESSION_ID))
        << session;
  }
  const double fraction = static_cast<double>(moved) / owner.size();
  EXPECT_GT(fraction, 0.15);
  EXPECT_LE(fraction, 0.35);
  // Over more session ids, without calls: the new server wins (and so
  // took over) about a quarter of them.
  int moved_ids = 0;
  for (int i = 0; i < 10000; ++i) {
    if (client->ServerFor(absl::StrCat("id-", i)).value() == joined) {
      ++moved_ids;
    }
  }
  EXPECT_NEAR(moved_ids / 10000.0, 0.25, 0.03);
  std::printf(
      "a 4th server took %d of %zu sessions (%.1f%%), and %.1f%% of "
      "10,000 ids\n",
      moved, owner.size(), 100 * fraction, moved_ids / 100.0);
}

// A DISTRIBUTED group keeps sessions in the cache tier: when the session's
// server dies, the next server in the session's order carries on with it.
TEST_F(RuntimeClientIntegrationTest, SessionSurvivesItsServerBeingKilled) {
  std::unique_ptr<RuntimeClient> client =
      StartGroup("shared", v1::DISTRIBUTED, /*count=*/3);
  ASSERT_NE(client, nullptr);
  std::map<std::string, std::string> member_at;
  for (const auto& [id, server] : runtimes_) member_at[server.address()] = id;

  const std::string visit = "failover-visit";
  const std::string home = client->ServerFor(visit).value();
  std::map<std::string, std::string> before;
  for (int i = 0; i < 300; ++i) {
    const std::string session = absl::StrCat("other-", i);
    before[session] = client->ServerFor(session).value();
  }

  // CustomerID 5 is Gold: the GoldCard leads at the hero.
  CallInfo info;
  v1::StartSessionRequest start = Start(visit, 5);
  *start.add_parameters() = NumberParameter("CartValue", 20);
  *start.add_parameters() = TextParameter("Device", "mobile");
  absl::StatusOr<v1::StartSessionResponse> started =
      client->StartSession(start, {}, &info);
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_EQ(started->status(), v1::SUCCESS) << started->DebugString();
  EXPECT_EQ(info.server, home);
  absl::StatusOr<v1::GetOffersResponse> offers =
      client->GetOffers(Offers(visit), {}, &info);
  ASSERT_TRUE(offers.ok()) << offers.status();
  ASSERT_GT(offers->offer_list().offers_size(), 0) << offers->DebugString();
  const v1::Offer& gold = offers->offer_list().offers(0);
  ASSERT_EQ(gold.name(), "GoldCard") << offers->DebugString();
  absl::StatusOr<v1::PostEventResponse> accepted = client->PostEvent(
      Event(visit, "OfferAccepted", gold.treatment_code()), {}, &info);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  ASSERT_EQ(accepted->status(), v1::SUCCESS) << accepted->DebugString();
  EXPECT_EQ(info.server, home);

  // Mid-session, the session's server dies.
  StartedServer& victim = runtimes_.at(member_at.at(home));
  victim.process->Signal(SIGKILL);
  ASSERT_TRUE(victim.process->Wait(absl::Seconds(5)).ok());
  const absl::Time killed = absl::Now();

  // The next call lands on another member, and the session goes on: the
  // accepted offer stays suppressed.
  offers = client->GetOffers(Offers(visit), {}, &info);
  ASSERT_TRUE(offers.ok()) << offers.status();
  const absl::Duration failover = absl::Now() - killed;
  EXPECT_EQ(offers->status(), v1::SUCCESS) << offers->DebugString();
  const std::string successor = info.server;
  EXPECT_NE(successor, home);
  EXPECT_EQ(info.attempts, 2);
  for (const v1::Offer& offer : offers->offer_list().offers()) {
    EXPECT_NE(offer.name(), "GoldCard") << "the accepted offer came back";
  }
  EXPECT_LT(failover, absl::Seconds(3));

  // Its profile and parameters are there.
  absl::StatusOr<v1::GetProfileResponse> profile =
      client->GetProfile(Profile(visit), {}, &info);
  ASSERT_TRUE(profile.ok()) << profile.status();
  ASSERT_EQ(profile->status(), v1::SUCCESS) << profile->DebugString();
  EXPECT_EQ(info.server, successor);
  EXPECT_EQ(info.attempts, 1);
  std::map<std::string, v1::NameValue> fields;
  for (const v1::NameValue& field : profile->profile()) {
    fields[field.name()] = field;
  }
  EXPECT_EQ(fields["Tier"].string_value(), "Gold");
  EXPECT_EQ(fields["CartValue"].number_value(), 20);
  EXPECT_EQ(fields["Device"].string_value(), "mobile");

  // The dead member's lease lapses: the view, and so the session's order,
  // agree with where the session went. Only the dead member's sessions
  // moved.
  ASSERT_TRUE(WaitForServers(*client, 2));
  EXPECT_EQ(client->ServerFor(visit).value(), successor);
  int moved = 0;
  for (const auto& [session, server] : before) {
    const std::string now = client->ServerFor(session).value();
    if (server == home) {
      ++moved;
      EXPECT_NE(now, home) << session;
    } else {
      EXPECT_EQ(now, server) << session;
    }
  }
  EXPECT_GT(moved, 0);

  absl::StatusOr<v1::PostEventResponse> shown =
      client->PostEvent(Event(visit, "OfferShown"), {}, &info);
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(info.server, successor);
  v1::EndSessionRequest end;
  end.set_session_id(visit);
  absl::StatusOr<v1::EndSessionResponse> ended =
      client->EndSession(end, {}, &info);
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(ended->status(), v1::SUCCESS) << ended->DebugString();
  EXPECT_EQ(info.server, successor);
  std::printf("failover took %s; the session moved from %s to %s\n",
              absl::FormatDuration(failover).c_str(), home.c_str(),
              successor.c_str());
}

}  // namespace
}  // namespace parley
