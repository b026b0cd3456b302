// Authorization end to end with real processes on 127.0.0.1 (plaintext, a
// tokens file in the test's directory): control-plane calls need an admin
// token, a runtime server's token reaches only its group's namespaces in
// the cache tier and only its group's membership and broadcast, a runtime
// server answers only its group's clients (also through
// parley::RuntimeClient and its auth_token), and a DISTRIBUTED runtime
// server still works with authorization on everywhere. See
// docs/security.md.
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "proto/parley/v1/history.grpc.pb.h"
#include "proto/parley/v1/profiles.grpc.pb.h"
#include "proto/parley/v1/runtime.grpc.pb.h"
#include "services/client/runtime_client.h"
#include "services/common/tls.h"
#include "tests/support/child_process.h"
#include "tests/support/test_certificates.h"

namespace parley {
namespace {

namespace v1 = ::parley::v1;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

constexpr char kCoordinator[] = "services/coordinator/parley-coordinator";
constexpr char kCacheNode[] = "cache_node/parley-cache-node";
constexpr char kRuntime[] = "services/runtime/server/parley-runtime";

constexpr char kAdmin[] = "adm1n-token";
constexpr char kNode[] = "node-token";
constexpr char kAlpha[] = "alpha-token";
constexpr char kBeta[] = "beta-token";
constexpr char kReader[] = "reader-token";
constexpr char kAlphaClient[] = "alpha-client-token";
constexpr char kBetaClient[] = "beta-client-token";
constexpr int kCacheNodes = 3;

// A call context with a deadline and, unless `token` is empty, the token.
std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (!token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  return context;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return condition();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::FreshTempDir("auth_test"));
    const std::string tokens = *dir_ + "/tokens";
    WriteFile(tokens, absl::StrCat("# token principal roles\n", kAdmin,
                                   " ops admin\n", kNode, " nodes node\n",
                                   kAlpha, " runtime-alpha runtime:alpha\n",
                                   kBeta, " runtime-beta runtime:beta\n",
                                   kReader, " viewer reader\n", kAlphaClient,
                                   " alpha-site client:alpha\n", kBetaClient,
                                   " beta-site client:beta\n"));
    WriteFile(*dir_ + "/node.token", absl::StrCat(kNode, "\n"));
    WriteFile(*dir_ + "/alpha.token", absl::StrCat(kAlpha, "\n"));
    const std::string auth_flag = "--auth_tokens_file=" + tokens;

    absl::StatusOr<testing::StartedServer> coordinator = testing::StartServer(
        testing::RunfilePath(kCoordinator),
        {"--data_dir=" + *dir_ + "/coordinator", "--partitions=16", auth_flag},
        *dir_, "coordinator");
    ASSERT_TRUE(coordinator.ok()) << coordinator.status();
    coordinator_ = new testing::StartedServer(std::move(*coordinator));
    for (int i = 1; i <= kCacheNodes; ++i) {
      absl::StatusOr<testing::StartedServer> node = testing::StartServer(
          testing::RunfilePath(kCacheNode),
          {absl::StrCat("--node_id=cache-", i),
           absl::StrCat("--data_dir=", *dir_, "/cache-", i),
           "--coordinator=" + coordinator_->address(), "--lease_ttl_seconds=2",
           "--shutdown_grace_seconds=2", auth_flag,
           "--auth_token_file=" + *dir_ + "/node.token"},
          *dir_, absl::StrCat("cache-", i));
      ASSERT_TRUE(node.ok()) << node.status();
      nodes_.push_back(new testing::StartedServer(std::move(*node)));
    }
    // Settled once an admin write lands through every node.
    for (testing::StartedServer* node : nodes_) {
      auto stub = v1::CacheNode::NewStub(Channel(node->address()));
      ASSERT_TRUE(WaitUntil(
          [&] {
            v1::PutRequest put;
            put.set_namespace_("probe");
            put.set_key("k");
            put.set_value("v");
            v1::PutResponse response;
            return stub->Put(Context(kAdmin).get(), put, &response).ok();
          },
          absl::Seconds(30)))
          << "the cache tier did not settle\n"
          << Logs();
    }
  }

  static void TearDownTestSuite() {
    runtime_.reset();
    for (testing::StartedServer* node : nodes_) delete node;
    nodes_.clear();
    delete coordinator_;
    coordinator_ = nullptr;
  }

  static std::string Logs() {
    std::string logs = coordinator_->process->Log();
    for (testing::StartedServer* node : nodes_) logs += node->process->Log();
    if (runtime_ != nullptr) logs += runtime_->Log();
    return logs;
  }

  static grpc::Status CreateGroup(const std::string& name,
                                  const std::string& token) {
    auto stub = v1::Coordinator::NewStub(Channel(coordinator_->address()));
    v1::CreateGroupRequest request;
    request.set_name(name);
    request.mutable_settings()->set_cache_type(v1::DISTRIBUTED);
    v1::ServerGroup group;
    return stub->CreateGroup(Context(token).get(), request, &group);
  }

  static grpc::Status Put(int node, const std::string& ns,
                          const std::string& token) {
    auto stub = v1::CacheNode::NewStub(Channel(nodes_[node]->address()));
    v1::PutRequest request;
    request.set_namespace_(ns);
    request.set_key("visitor-1");
    request.set_value("state");
    v1::PutResponse response;
    return stub->Put(Context(token).get(), request, &response);
  }

  static grpc::Status Get(int node, const std::string& ns,
                          const std::string& token) {
    auto stub = v1::CacheNode::NewStub(Channel(nodes_[node]->address()));
    v1::GetRequest request;
    request.set_namespace_(ns);
    request.set_key("visitor-1");
    v1::GetResponse response;
    return stub->Get(Context(token).get(), request, &response);
  }

  // Group alpha with the demo channel and one runtime server of it
  // (runtime_, at runtime_address_) holding alpha's runtime token; once per
  // suite, by whichever test needs it first.
  static void StartAlphaRuntimeServer() {
    if (runtime_ != nullptr) return;
    const grpc::StatusCode created = CreateGroup("alpha", kAdmin).error_code();
    ASSERT_TRUE(created == grpc::StatusCode::OK ||
                created == grpc::StatusCode::ALREADY_EXISTS)
        << created;
    std::ifstream file(testing::RunfilePath("deploy/demo/demo_channel.json"));
    std::stringstream text;
    text << file.rdbuf();
    v1::DeployRequest deploy;
    deploy.set_group("alpha");
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                    text.str(), deploy.mutable_channel())
                    .ok());
    auto deployments =
        v1::Deployments::NewStub(Channel(coordinator_->address()));
    v1::Deployment deployment;
    const grpc::Status deployed =
        deployments->Deploy(Context(kAdmin).get(), deploy, &deployment);
    ASSERT_TRUE(deployed.ok()) << deployed.error_message();

    const std::string port_file = *dir_ + "/runtime-alpha.port";
    absl::StatusOr<std::unique_ptr<testing::ChildProcess>> runtime =
        testing::ChildProcess::Spawn(
            testing::RunfilePath(kRuntime),
            {"--coordinator=" + coordinator_->address(), "--group=alpha",
             "--member_id=runtime-alpha", "--lease_ttl_seconds=2",
             "--shutdown_grace_seconds=2", "--listen=127.0.0.1:0",
             "--port_file=" + port_file,
             "--auth_tokens_file=" + *dir_ + "/tokens",
             "--auth_token_file=" + *dir_ + "/alpha.token"},
            *dir_ + "/runtime-alpha.log");
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    runtime_ = std::move(*runtime);
    absl::StatusOr<int> port =
        testing::WaitForPortFile(port_file, absl::Seconds(30));
    ASSERT_TRUE(port.ok()) << port.status() << "\n" << Logs();
    runtime_address_ = absl::StrCat("127.0.0.1:", *port);
    auto health = Health::NewStub(Channel(runtime_address_));
    ASSERT_TRUE(WaitUntil(
        [&] {
          HealthCheckResponse response;
          return health
                     ->Check(Context("").get(), HealthCheckRequest(), &response)
                     .ok() &&
                 response.status() == HealthCheckResponse::SERVING;
        },
        absl::Seconds(30)))
        << "the runtime server never reported SERVING\n"
        << Logs();
  }

  static std::string* dir_;
  static testing::StartedServer* coordinator_;
  static std::vector<testing::StartedServer*> nodes_;
  static std::unique_ptr<testing::ChildProcess> runtime_;
  static std::string runtime_address_;
};

std::string* AuthTest::dir_ = nullptr;
testing::StartedServer* AuthTest::coordinator_ = nullptr;
std::vector<testing::StartedServer*> AuthTest::nodes_;
std::unique_ptr<testing::ChildProcess> AuthTest::runtime_;
std::string AuthTest::runtime_address_;

TEST_F(AuthTest, ControlPlaneNeedsAnAdminToken) {
  EXPECT_EQ(CreateGroup("denied", "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CreateGroup("denied", "not-a-token").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CreateGroup("denied", kAlpha).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CreateGroup("denied", kReader).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const grpc::Status created = CreateGroup("admitted", kAdmin);
  EXPECT_TRUE(created.ok()) << created.error_message();

  auto coordinator = v1::Coordinator::NewStub(Channel(coordinator_->address()));
  v1::ListGroupsResponse groups;
  EXPECT_EQ(
      coordinator
          ->ListGroups(Context("").get(), v1::ListGroupsRequest(), &groups)
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(
      coordinator
          ->ListGroups(Context(kReader).get(), v1::ListGroupsRequest(), &groups)
          .ok());
  v1::SetConfigRequest set;
  set.set_path("groups/admitted/session_timeout_seconds");
  set.set_value("60");
  v1::ConfigEntry entry;
  EXPECT_EQ(
      coordinator->SetConfig(Context(kAlpha).get(), set, &entry).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  v1::JoinRequest join;
  v1::JoinResponse joined;
  EXPECT_EQ(
      coordinator->Join(Context(kReader).get(), join, &joined).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  auto deployments = v1::Deployments::NewStub(Channel(coordinator_->address()));
  v1::DeployRequest deploy;
  deploy.set_group("admitted");
  v1::Deployment deployment;
  EXPECT_EQ(deployments->Deploy(Context(kAlpha).get(), deploy, &deployment)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  auto node = v1::CacheNode::NewStub(Channel(nodes_[0]->address()));
  v1::DrainResponse drained;
  EXPECT_EQ(node->Drain(Context(kAlpha).get(), v1::DrainRequest(), &drained)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  EXPECT_NE(coordinator_->process->Log().find("denied"), std::string::npos);
}

// The group-isolation test: group alpha's token reaches sessions/alpha,
// history.alpha and profiles.* through any node (forwarded or not), never
// group beta's namespaces.
TEST_F(AuthTest, GroupTokenReachesOnlyItsGroupsNamespaces) {
  for (int node = 0; node < kCacheNodes; ++node) {
    SCOPED_TRACE(absl::StrCat("through cache-", node + 1));
    grpc::Status s = Put(node, "sessions/alpha", kAlpha);
    EXPECT_TRUE(s.ok()) << s.error_message();
    s = Get(node, "sessions/alpha", kAlpha);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(Put(node, "history.alpha", kAlpha).ok());
    EXPECT_TRUE(Put(node, "profiles.customer", kAlpha).ok());
    EXPECT_TRUE(Put(node, "sessions/beta", kBeta).ok());

    EXPECT_EQ(Get(node, "sessions/beta", kAlpha).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Put(node, "sessions/beta", kAlpha).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Get(node, "history.beta", kAlpha).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Get(node, "sessions/alpha", kBeta).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Get(node, "sessions/alpha", kReader).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Get(node, "sessions/alpha", "").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }

  auto node = v1::CacheNode::NewStub(Channel(nodes_[0]->address()));
  v1::ScanRequest scan;
  scan.set_namespace_("sessions/beta");
  v1::ScanResponse scanned;
  EXPECT_EQ(node->Scan(Context(kAlpha).get(), scan, &scanned).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::MultiGetRequest multi;
  multi.set_namespace_("sessions/beta");
  multi.add_keys("visitor-1");
  v1::MultiGetResponse multi_response;
  EXPECT_EQ(node->MultiGet(Context(kAlpha).get(), multi, &multi_response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Pipeline: each operation is judged on its own.
  std::unique_ptr<grpc::ClientContext> context = Context(kAlpha);
  auto stream = node->Pipeline(context.get());
  v1::PipelineRequests requests;
  const std::map<uint64_t, std::string> namespaces = {
      {1, "sessions/alpha"}, {2, "sessions/beta"}, {3, "history.beta"}};
  for (const auto& [id, ns] : namespaces) {
    v1::PipelineRequest* op = requests.add_requests();
    op->set_id(id);
    op->mutable_get()->set_namespace_(ns);
    op->mutable_get()->set_key("visitor-1");
  }
  v1::PipelineRequest* put = requests.add_requests();
  put->set_id(4);
  put->mutable_put()->set_namespace_("sessions/beta");
  put->mutable_put()->set_key("visitor-1");
  put->mutable_put()->set_value("stolen");
  ASSERT_TRUE(stream->Write(requests));
  std::map<uint64_t, int> codes;
  v1::PipelineResponses responses;
  while (codes.size() < 4 && stream->Read(&responses)) {
    for (const v1::PipelineResponse& r : responses.responses()) {
      codes[r.id()] = r.code();
    }
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(codes[1], grpc::StatusCode::OK);
  EXPECT_EQ(codes[2], grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(codes[3], grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(codes[4], grpc::StatusCode::PERMISSION_DENIED);

  // Without credentials the whole stream is refused.
  std::unique_ptr<grpc::ClientContext> anonymous = Context("");
  auto refused = node->Pipeline(anonymous.get());
  refused->WritesDone();
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // Beta's session is untouched.
  auto check = v1::CacheNode::NewStub(Channel(nodes_[1]->address()));
  v1::GetRequest get;
  get.set_namespace_("sessions/beta");
  get.set_key("visitor-1");
  v1::GetResponse got;
  ASSERT_TRUE(check->Get(Context(kBeta).get(), get, &got).ok());
  EXPECT_EQ(got.entry().value(), "state");
}

// A runtime server of group alpha with alpha's token: joins, follows its
// deployments and broadcast, and keeps sessions in sessions/alpha. It
// answers alpha's clients (client:alpha); ExportHistory and LoadProfiles
// are the admin's.
TEST_F(AuthTest, DistributedRuntimeServerWorksWithAuthorizationOn) {
  StartAlphaRuntimeServer();
  if (HasFatalFailure()) return;
  auto channel = Channel(runtime_address_);

  auto interact = v1::InteractRuntime::NewStub(channel);
  v1::StartSessionRequest start;
  start.set_session_id("visit-1");
  start.set_interactive_channel("demo");
  start.set_audience_level("Customer");
  start.add_audience_id()->set_name("CustomerID");
  start.mutable_audience_id(0)->set_number_value(42);
  v1::StartSessionResponse started;
  EXPECT_EQ(
      interact->StartSession(Context("").get(), start, &started).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  for (const char* token : {kBetaClient, kAlpha, kReader, kNode}) {
    SCOPED_TRACE(token);
    EXPECT_EQ(interact->StartSession(Context(token).get(), start, &started)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  grpc::Status s =
      interact->StartSession(Context(kAlphaClient).get(), start, &started);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(started.status(), v1::ERROR) << started.DebugString() << Logs();
  v1::GetOffersRequest offers;
  offers.set_session_id("visit-1");
  offers.set_interaction_point("HomePageHero");
  offers.set_number_requested(2);
  v1::GetOffersResponse got;
  s = interact->GetOffers(Context(kAlphaClient).get(), offers, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(got.status(), v1::ERROR) << got.DebugString();
  EXPECT_EQ(interact->GetOffers(Context(kBetaClient).get(), offers, &got)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetVersionResponse version;
  EXPECT_TRUE(
      interact
          ->GetVersion(Context(kAdmin).get(), v1::GetVersionRequest(), &version)
          .ok());
  EXPECT_NE(runtime_->Log().find(
                "denied parley.v1.InteractRuntime/StartSession to beta-site"),
            std::string::npos)
      << runtime_->Log();

  // Exporting history is the admin's (also, below, loading profiles).
  auto history = v1::History::NewStub(channel);
  auto export_code = [&](const std::string& token) {
    std::unique_ptr<grpc::ClientContext> context = Context(token);
    auto reader =
        history->ExportHistory(context.get(), v1::ExportHistoryRequest());
    v1::ExportHistoryChunk chunk;
    while (reader->Read(&chunk)) {
    }
    return reader->Finish().error_code();
  };
  EXPECT_EQ(export_code(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(export_code(kAlphaClient), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(export_code(kAlpha), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(export_code(kAdmin), grpc::StatusCode::OK);
  EXPECT_NE(runtime_->Log().find(
                "denied parley.v1.History/ExportHistory to alpha-site"),
            std::string::npos);

  // The session lives in sessions/alpha, which beta's token cannot read.
  auto node = v1::CacheNode::NewStub(Channel(nodes_[0]->address()));
  v1::ScanRequest scan;
  scan.set_namespace_("sessions/alpha");
  scan.set_limit(10);
  v1::ScanResponse scanned;
  s = node->Scan(Context(kAlpha).get(), scan, &scanned);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(scanned.entries().empty());
  EXPECT_EQ(node->Scan(Context(kBeta).get(), scan, &scanned).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Looking a profile up is a client's of the group.
  auto profiles = v1::Profiles::NewStub(channel);
  v1::LookupProfileRequest lookup;
  lookup.set_interactive_channel("demo");
  lookup.set_audience_level("Customer");
  *lookup.add_audience_id() = start.audience_id(0);
  v1::LookupProfileResponse profile;
  EXPECT_EQ(
      profiles->LookupProfile(Context("").get(), lookup, &profile).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      profiles->LookupProfile(Context(kBetaClient).get(), lookup, &profile)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  s = profiles->LookupProfile(Context(kAlphaClient).get(), lookup, &profile);
  EXPECT_TRUE(s.ok()) << s.error_message();

  // Loading profiles is the admin's.
  for (const char* token : {kAlpha, kAlphaClient}) {
    SCOPED_TRACE(token);
    std::unique_ptr<grpc::ClientContext> context = Context(token);
    auto load = profiles->LoadProfiles(context.get());
    load->WritesDone();
    EXPECT_EQ(load->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
}

// parley::RuntimeClient with authorization on: without a token the
// coordinator will not tell it the group's servers and the runtime server
// will not answer it (UNAUTHENTICATED); with another group's client token
// it finds the server but is refused (PERMISSION_DENIED); with a
// client:alpha token it reads the membership and runs a session.
TEST_F(AuthTest, RuntimeClientSendsItsToken) {
  StartAlphaRuntimeServer();
  if (HasFatalFailure()) return;
  auto options_for = [&](const std::string& token) {
    RuntimeClientOptions options;
    options.coordinator_address = coordinator_->address();
    options.group = "alpha";
    options.auth_token = token;
    options.default_deadline = absl::Seconds(10);
    options.connect_timeout = absl::Seconds(10);
    return options;
  };
  v1::StartSessionRequest start;
  start.set_session_id("client-visit");
  start.set_interactive_channel("demo");
  start.set_audience_level("Customer");
  start.add_audience_id()->set_name("CustomerID");
  start.mutable_audience_id(0)->set_number_value(7);

  absl::StatusOr<std::unique_ptr<RuntimeClient>> anonymous =
      RuntimeClient::Connect(options_for(""));
  EXPECT_TRUE(absl::IsUnauthenticated(anonymous.status()))
      << anonymous.status();
  RuntimeClientOptions direct;
  direct.static_addresses = {runtime_address_};
  absl::StatusOr<std::unique_ptr<RuntimeClient>> unauthenticated =
      RuntimeClient::Connect(direct);
  ASSERT_TRUE(unauthenticated.ok()) << unauthenticated.status();
  CallInfo info;
  absl::Status status =
      (*unauthenticated)->StartSession(start, {}, &info).status();
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
  EXPECT_EQ(info.attempts, 1);  // Not retried.

  absl::StatusOr<std::unique_ptr<RuntimeClient>> beta =
      RuntimeClient::Connect(options_for(kBetaClient));
  ASSERT_TRUE(beta.ok()) << beta.status();
  EXPECT_EQ((*beta)->Servers(), std::vector<std::string>{runtime_address_});
  status = (*beta)->StartSession(start).status();
  EXPECT_TRUE(absl::IsPermissionDenied(status)) << status;

  absl::StatusOr<std::unique_ptr<RuntimeClient>> alpha =
      RuntimeClient::Connect(options_for(kAlphaClient));
  ASSERT_TRUE(alpha.ok()) << alpha.status() << "\n" << Logs();
  EXPECT_EQ((*alpha)->Servers(), std::vector<std::string>{runtime_address_});
  absl::StatusOr<v1::StartSessionResponse> started =
      (*alpha)->StartSession(start);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_NE(started->status(), v1::ERROR) << started->DebugString();
  v1::GetOffersRequest offers;
  offers.set_session_id("client-visit");
  offers.set_interaction_point("HomePageHero");
  offers.set_number_requested(2);
  absl::StatusOr<v1::GetOffersResponse> got = (*alpha)->GetOffers(offers);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_NE(got->status(), v1::ERROR) << got->DebugString();
  v1::EndSessionRequest end;
  end.set_session_id("client-visit");
  EXPECT_TRUE((*alpha)->EndSession(end).ok());
  EXPECT_NE(runtime_->Log().find(
                "denied parley.v1.InteractRuntime/StartSession to beta-site"),
            std::string::npos);
}

// Membership and broadcast are scoped by group: alpha's runtime token can
// neither join, renew nor leave group beta's membership (also not by
// re-joining under a beta member's id, nor as a cache node), nor publish
// to or subscribe to beta's broadcast. A node token acts for any group.
TEST_F(AuthTest, GroupTokenActsOnlyForItsGroupsMembership) {
  for (const char* group : {"alpha", "beta"}) {
    const grpc::StatusCode code = CreateGroup(group, kAdmin).error_code();
    ASSERT_TRUE(code == grpc::StatusCode::OK ||
                code == grpc::StatusCode::ALREADY_EXISTS)
        << code;
  }
  auto coordinator = v1::Coordinator::NewStub(Channel(coordinator_->address()));
  auto join = [&](const std::string& id, v1::MemberRole role,
                  const std::string& group, const std::string& token,
                  uint64_t* lease_id) {
    v1::JoinRequest request;
    request.mutable_member()->set_id(id);
    request.mutable_member()->set_role(role);
    request.mutable_member()->set_group(group);
    request.mutable_member()->set_address("127.0.0.1:1");
    request.set_ttl_seconds(60);
    v1::JoinResponse response;
    grpc::Status status =
        coordinator->Join(Context(token).get(), request, &response);
    if (lease_id != nullptr) *lease_id = response.lease_id();
    return status.error_code();
  };
  uint64_t beta_lease = 0;
  ASSERT_EQ(join("beta-1", v1::RUNTIME_SERVER, "beta", kBeta, &beta_lease),
            grpc::StatusCode::OK);
  uint64_t alpha_lease = 0;
  ASSERT_EQ(join("alpha-1", v1::RUNTIME_SERVER, "alpha", kAlpha, &alpha_lease),
            grpc::StatusCode::OK);

  EXPECT_EQ(join("alpha-2", v1::RUNTIME_SERVER, "beta", kAlpha, nullptr),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(join("beta-1", v1::RUNTIME_SERVER, "alpha", kAlpha, nullptr),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(join("cache-9", v1::CACHE_NODE, "", kAlpha, nullptr),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(join("alpha-3", v1::RUNTIME_SERVER, "alpha", kAlphaClient, nullptr),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(join("beta-2", v1::RUNTIME_SERVER, "beta", "", nullptr),
            grpc::StatusCode::UNAUTHENTICATED);

  v1::HeartbeatRequest heartbeat;
  heartbeat.set_member_id("beta-1");
  heartbeat.set_lease_id(beta_lease);
  v1::HeartbeatResponse renewed;
  EXPECT_EQ(coordinator->Heartbeat(Context(kAlpha).get(), heartbeat, &renewed)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(
      coordinator->Heartbeat(Context(kBeta).get(), heartbeat, &renewed).ok());
  v1::LeaveRequest leave;
  leave.set_member_id("beta-1");
  leave.set_lease_id(beta_lease);
  v1::LeaveResponse left;
  EXPECT_EQ(
      coordinator->Leave(Context(kAlpha).get(), leave, &left).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  // beta-1 is still beta's member.
  v1::ListMembersRequest list;
  list.set_group("beta");
  v1::MembershipView view;
  ASSERT_TRUE(
      coordinator->ListMembers(Context(kReader).get(), list, &view).ok());
  ASSERT_EQ(view.members_size(), 1);
  EXPECT_EQ(view.members(0).id(), "beta-1");

  auto publish = [&](const std::string& group, const std::string& token) {
    v1::PublishRequest request;
    request.set_group(group);
    request.set_origin("alpha-1");
    v1::BroadcastEntry* entry = request.add_entries();
    entry->set_namespace_(absl::StrCat("sessions/", group));
    entry->set_key("visitor-1");
    entry->set_version(7);
    v1::PublishResponse response;
    return coordinator->Publish(Context(token).get(), request, &response)
        .error_code();
  };
  EXPECT_EQ(publish("beta", kAlpha), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(publish("alpha", kAlpha), grpc::StatusCode::OK);
  EXPECT_EQ(publish("beta", kNode), grpc::StatusCode::OK);

  auto subscribe = [&](const std::string& group, const std::string& token) {
    std::unique_ptr<grpc::ClientContext> context = Context(token);
    v1::SubscribeRequest request;
    request.set_group(group);
    auto reader = coordinator->Subscribe(context.get(), request);
    v1::BroadcastEvent event;
    if (reader->Read(&event)) {
      context->TryCancel();
      reader->Finish();
      return grpc::StatusCode::OK;
    }
    return reader->Finish().error_code();
  };
  EXPECT_EQ(subscribe("beta", kAlpha), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(subscribe("beta", kReader), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(subscribe("alpha", kAlpha), grpc::StatusCode::OK);
  EXPECT_EQ(subscribe("beta", kBeta), grpc::StatusCode::OK);

  EXPECT_TRUE(coordinator->Leave(Context(kBeta).get(), leave, &left).ok());
  leave.set_member_id("alpha-1");
  leave.set_lease_id(alpha_lease);
  EXPECT_TRUE(coordinator->Leave(Context(kAlpha).get(), leave, &left).ok());
  EXPECT_NE(coordinator_->process->Log().find(
                "may not call parley.v1.Coordinator/Join for group 'beta'"),
            std::string::npos)
      << coordinator_->process->Log();
}

// Mutual TLS: a client certificate named in --auth_admin_cert_names is
// admin; a bearer token, when sent, decides instead of the certificate.
TEST(AuthTlsTest, AdminCertificateIsAdmin) {
  const std::string dir = testing::FreshTempDir("auth_tls_test");
  absl::StatusOr<std::map<std::string, TlsFiles>> tls =
      testing::MakeTestCertificates(dir + "/tls",
                                    {"parley-node", "ops-admin", "stranger"});
  ASSERT_TRUE(tls.ok()) << tls.status();
  const TlsFiles& node = (*tls)["parley-node"];
  WriteFile(dir + "/tokens", absl::StrCat(kAdmin, " ops admin\n", kAlpha,
                                          " runtime-alpha runtime:alpha\n"));
  absl::StatusOr<testing::StartedServer> coordinator = testing::StartServer(
      testing::RunfilePath(kCoordinator),
      {"--data_dir=" + dir + "/coordinator", "--partitions=16",
       "--tls_cert_file=" + node.cert_file, "--tls_key_file=" + node.key_file,
       "--tls_ca_file=" + node.ca_file, "--auth_tokens_file=" + dir + "/tokens",
       "--auth_admin_cert_names=ops-admin,other-admin"},
      dir, "coordinator");
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();

  auto create = [&](const std::string& who, const std::string& token,
                    const std::string& group) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        MakeChannelCredentials((*tls)[who]);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    auto stub = v1::Coordinator::NewStub(
        grpc::CreateChannel(coordinator->address(), *credentials));
    v1::CreateGroupRequest request;
    request.set_name(group);
    v1::ServerGroup created;
    return stub->CreateGroup(Context(token).get(), request, &created)
        .error_code();
  };
  EXPECT_EQ(create("ops-admin", "", "by-cert"), grpc::StatusCode::OK)
      << coordinator->process->Log();
  EXPECT_EQ(create("stranger", "", "by-stranger"),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(create("stranger", kAdmin, "by-token"), grpc::StatusCode::OK);
  EXPECT_EQ(create("ops-admin", kAlpha, "by-runtime"),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace parley
