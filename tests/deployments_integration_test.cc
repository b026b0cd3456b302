// parley.v1.Deployments against a real parley-coordinator process on
// 127.0.0.1: deploy, list, get, watch, restart, validation errors.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "tests/support/child_process.h"

namespace parley {
namespace {

using ::parley::testing::StartedServer;
using ::testing::HasSubstr;
namespace v1 = ::parley::v1;

constexpr char kCoordinator[] = "services/coordinator/parley-coordinator";

// A small channel that compiles; `offer` varies the content.
v1::InteractiveChannel SmallChannel(const std::string& name,
                                    const std::string& offer = "GoldCard") {
  v1::InteractiveChannel channel;
  channel.set_name(name);
  v1::AudienceLevel* level = channel.add_audience_levels();
  level->set_name("Customer");
  v1::FieldDefinition* id = level->add_audience_id_fields();
  id->set_name("CustomerID");
  id->set_type(v1::NUMBER);
  channel.add_zones()->set_name("Hero");
  v1::InteractionPoint* point = channel.add_interaction_points();
  point->set_name("HomePageHero");
  point->set_zone("Hero");
  v1::OfferDefinition* o = channel.add_offers();
  o->set_name(offer);
  o->add_code("C1");
  channel.add_segments()->set_name("Gold");
  v1::TreatmentRule* rule = channel.add_treatment_rules();
  rule->set_name("Gold offer");
  rule->set_segment("Gold");
  rule->set_offer(offer);
  return channel;
}

class DeploymentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTempDir(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    Start();
  }

  // Starts the coordinator on dir_/data.
  void Start() {
    absl::StatusOr<StartedServer> server = testing::StartServer(
        testing::RunfilePath(kCoordinator),
        {absl::StrCat("--data_dir=", dir_, "/data"), "--partitions=64"}, dir_,
        "coordinator");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel = grpc::CreateChannel(server_.address(),
                                       grpc::InsecureChannelCredentials());
    coordinator_ = v1::Coordinator::NewStub(channel);
    deployments_ = v1::Deployments::NewStub(channel);
  }

  // SIGTERM, expecting a clean exit.
  void StopGracefully() {
    server_.process->Signal(SIGTERM);
    absl::StatusOr<int> code = server_.process->Wait(absl::Seconds(15));
    ASSERT_TRUE(code.ok()) << "coordinator did not stop on SIGTERM";
    EXPECT_EQ(*code, 0) << server_.process->Log();
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      absl::Duration timeout = absl::Seconds(5)) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return context;
  }

  void CreateGroup(const std::string& name) {
    v1::CreateGroupRequest request;
    request.set_name(name);
    v1::ServerGroup group;
    grpc::Status status =
        coordinator_->CreateGroup(Context().get(), request, &group);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  grpc::Status Deploy(const std::string& group,
                      const v1::InteractiveChannel& channel,
                      v1::Deployment* deployment) {
    v1::DeployRequest request;
    request.set_group(group);
    *request.mutable_channel() = channel;
    request.set_comment("integration test");
    return deployments_->Deploy(Context().get(), request, deployment);
  }

  std::string dir_;
  StartedServer server_;
  std::unique_ptr<v1::Coordinator::Stub> coordinator_;
  std::unique_ptr<v1::Deployments::Stub> deployments_;
};

TEST_F(DeploymentsTest, DeployListGetWatchAndRestart) {
  CreateGroup("web");

  // A runtime server's view: the snapshot, then each deployment.
  auto watch_context = Context(absl::Seconds(30));
  v1::WatchDeploymentsRequest watch;
  watch.set_group("web");
  std::unique_ptr<grpc::ClientReader<v1::DeploymentEvent>> reader =
      deployments_->WatchDeployments(watch_context.get(), watch);
  v1::DeploymentEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), v1::DeploymentEvent::SNAPSHOT);
  EXPECT_EQ(event.deployments_size(), 0);

  v1::Deployment first, second;
  grpc::Status status = Deploy("web", SmallChannel("demo"), &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(first.version(), 1u);
  status = Deploy("web", SmallChannel("demo", "Other"), &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(second.version(), 2u);
  EXPECT_TRUE(second.active());

  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), v1::DeploymentEvent::DEPLOYED);
  ASSERT_EQ(event.deployments_size(), 1);
  EXPECT_EQ(event.deployments(0).version(), 1u);
  const uint64_t first_revision = event.revision();
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), v1::DeploymentEvent::DEPLOYED);
  EXPECT_EQ(event.deployments(0).version(), 2u);
  EXPECT_EQ(event.deployments(0).channel().offers(0).name(), "Other");
  EXPECT_GT(event.revision(), first_revision);

  v1::ListDeploymentsRequest list_request;
  list_request.set_group("web");
  v1::ListDeploymentsResponse list;
  status = deployments_->ListDeployments(Context().get(), list_request, &list);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(list.deployments_size(), 2);
  EXPECT_FALSE(list.deployments(0).has_channel());
  EXPECT_TRUE(list.deployments(1).active());

  v1::GetDeploymentRequest get_request;
  get_request.set_group("web");
  get_request.set_channel("demo");
  get_request.set_version(1);
  v1::Deployment got;
  status = deployments_->GetDeployment(Context().get(), get_request, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.channel().offers(0).name(), "GoldCard");
  EXPECT_EQ(got.comment(), "integration test");
  EXPECT_FALSE(got.active());

  // Shutdown ends the watch; the state is back after a restart.
  StopGracefully();
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  Start();

  get_request.set_version(0);
  status = deployments_->GetDeployment(Context().get(), get_request, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.version(), 2u);
  EXPECT_TRUE(got.active());
  EXPECT_EQ(got.channel().offers(0).name(), "Other");

  auto again_context = Context(absl::Seconds(10));
  auto again = deployments_->WatchDeployments(again_context.get(), watch);
  ASSERT_TRUE(again->Read(&event));
  EXPECT_EQ(event.kind(), v1::DeploymentEvent::SNAPSHOT);
  ASSERT_EQ(event.deployments_size(), 1);
  EXPECT_EQ(event.deployments(0).version(), 2u);
  EXPECT_EQ(event.deployments(0).channel().name(), "demo");

  v1::RollbackRequest rollback;
  rollback.set_group("web");
  rollback.set_channel("demo");
  rollback.set_version(1);
  v1::Deployment rolled;
  status = deployments_->Rollback(Context().get(), rollback, &rolled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(rolled.version(), 3u);
  EXPECT_EQ(rolled.rolled_back_from(), 1u);
  ASSERT_TRUE(again->Read(&event));
  EXPECT_EQ(event.kind(), v1::DeploymentEvent::DEPLOYED);
  EXPECT_EQ(event.deployments(0).version(), 3u);

  v1::UndeployRequest undeploy;
  undeploy.set_group("web");
  undeploy.set_channel("demo");
  v1::UndeployResponse undeployed;
  status = deployments_->Undeploy(Context().get(), undeploy, &undeployed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(undeployed.version(), 3u);
  ASSERT_TRUE(again->Read(&event));
  EXPECT_EQ(event.kind(), v1::DeploymentEvent::UNDEPLOYED);
  again_context->TryCancel();
  again->Finish();
}

TEST_F(DeploymentsTest, InvalidInputGetsActionableErrors) {
  CreateGroup("web");
  v1::InteractiveChannel bad = SmallChannel("demo");
  bad.mutable_treatment_rules(0)->set_offer("Magazine");
  v1::Deployment deployment;
  grpc::Status status = Deploy("web", bad, &deployment);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("treatment rule 'Gold offer': offer 'Magazine' is not "
                        "defined"));

  status = Deploy("nosuch", SmallChannel("demo"), &deployment);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("'nosuch'"));

  v1::ListDeploymentsRequest list_request;
  list_request.set_group("web");
  v1::ListDeploymentsResponse list;
  ASSERT_TRUE(
      deployments_->ListDeployments(Context().get(), list_request, &list).ok());
  EXPECT_EQ(list.deployments_size(), 0);

  // A group with a deployed channel cannot be deleted.
  ASSERT_TRUE(Deploy("web", SmallChannel("demo"), &deployment).ok());
  v1::DeleteGroupRequest delete_group;
  delete_group.set_name("web");
  v1::DeleteGroupResponse deleted;
  status = coordinator_->DeleteGroup(Context().get(), delete_group, &deleted);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("undeploy"));
}

}  // namespace
}  // namespace parley
