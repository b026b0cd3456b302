#include "services/coordinator/deployment_store.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/deployments.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/coordinator/durable_store.h"

namespace parley::coordinator {
namespace {

using ::parley::testing::MakeTempDir;
using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

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

v1::DeployRequest Request(const std::string& group,
                          const v1::InteractiveChannel& channel,
                          const std::string& comment = "") {
  v1::DeployRequest request;
  request.set_group(group);
  *request.mutable_channel() = channel;
  request.set_comment(comment);
  return request;
}

bool ProtoEquals(const google::protobuf::Message& a,
                 const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

std::vector<uint64_t> Versions(const v1::ListDeploymentsResponse& list) {
  std::vector<uint64_t> versions;
  for (const v1::Deployment& d : list.deployments()) {
    versions.push_back(d.version());
  }
  return versions;
}

class DeploymentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("deployments");
    Open();
  }

  void Open() {
    deployments_.reset();
    store_.reset();
    absl::StatusOr<std::unique_ptr<DurableStore>> store =
        DurableStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    absl::StatusOr<std::unique_ptr<DeploymentStore>> deployments =
        DeploymentStore::Load(store_.get(), [](absl::string_view group) {
          if (group == "web" || group == "mobile") return absl::OkStatus();
          return absl::NotFoundError(
              absl::StrCat("no server group '", group, "'"));
        });
    ASSERT_TRUE(deployments.ok()) << deployments.status();
    deployments_ = std::move(*deployments);
  }

  v1::Deployment MustDeploy(const v1::DeployRequest& request) {
    absl::StatusOr<v1::Deployment> deployment = deployments_->Deploy(request);
    EXPECT_TRUE(deployment.ok()) << deployment.status();
    return deployment.ok() ? *deployment : v1::Deployment();
  }

  v1::ListDeploymentsResponse List(const std::string& group,
                                   const std::string& channel = "",
                                   bool include_channel = false) {
    v1::ListDeploymentsRequest request;
    request.set_group(group);
    request.set_channel(channel);
    request.set_include_channel(include_channel);
    absl::StatusOr<v1::ListDeploymentsResponse> list =
        deployments_->List(request);
    EXPECT_TRUE(list.ok()) << list.status();
    return list.ok() ? *list : v1::ListDeploymentsResponse();
  }

  absl::StatusOr<v1::Deployment> Get(const std::string& group,
                                     const std::string& channel,
                                     uint64_t version) {
    v1::GetDeploymentRequest request;
    request.set_group(group);
    request.set_channel(channel);
    request.set_version(version);
    return deployments_->Get(request);
  }

  std::string dir_;
  std::unique_ptr<DurableStore> store_;
  std::unique_ptr<DeploymentStore> deployments_;
};

TEST_F(DeploymentStoreTest, VersionsCountPerGroupAndChannel) {
  v1::Deployment first = MustDeploy(Request("web", SmallChannel("demo"), "v1"));
  EXPECT_EQ(first.version(), 1u);
  EXPECT_TRUE(first.active());
  EXPECT_EQ(first.comment(), "v1");
  EXPECT_EQ(first.channel_name(), "demo");
  EXPECT_GT(first.deploy_time().seconds(), 0);
  EXPECT_EQ(MustDeploy(Request("web", SmallChannel("demo"))).version(), 2u);
  EXPECT_EQ(MustDeploy(Request("web", SmallChannel("demo", "Other"))).version(),
            3u);
  EXPECT_EQ(MustDeploy(Request("web", SmallChannel("other"))).version(), 1u);
  EXPECT_EQ(MustDeploy(Request("mobile", SmallChannel("demo"))).version(), 1u);

  v1::ListDeploymentsResponse all = List("web");
  EXPECT_THAT(Versions(all), ElementsAre(1, 2, 3, 1));
  EXPECT_FALSE(all.deployments(0).has_channel());
  EXPECT_FALSE(all.deployments(0).active());
  EXPECT_TRUE(all.deployments(2).active());
  EXPECT_TRUE(all.deployments(3).active());
  EXPECT_THAT(Versions(List("web", "demo")), ElementsAre(1, 2, 3));
  EXPECT_THAT(Versions(List("web", "nothing")), IsEmpty());
  v1::ListDeploymentsResponse with_content = List("web", "demo", true);
  ASSERT_EQ(with_content.deployments_size(), 3);
  EXPECT_EQ(with_content.deployments(0).channel().name(), "demo");
  EXPECT_EQ(with_content.deployments(2).channel().offers(0).name(), "Other");

  absl::StatusOr<v1::Deployment> active = Get("web", "demo", 0);
  ASSERT_TRUE(active.ok()) << active.status();
  EXPECT_EQ(active->version(), 3u);
  EXPECT_TRUE(active->active());
  EXPECT_EQ(active->channel().offers(0).name(), "Other");
  absl::StatusOr<v1::Deployment> old = Get("web", "demo", 1);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_FALSE(old->active());
  EXPECT_TRUE(ProtoEquals(old->channel(), SmallChannel("demo")));

  EXPECT_THAT(
      Get("web", "demo", 9),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("versions are 1 to 3")));
  EXPECT_THAT(Get("web", "nothing", 0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'nothing'")));
}

TEST_F(DeploymentStoreTest, RollbackDeploysOldContentAsNewVersion) {
  MustDeploy(Request("web", SmallChannel("demo")));
  MustDeploy(Request("web", SmallChannel("demo", "Other")));
  v1::RollbackRequest rollback;
  rollback.set_group("web");
  rollback.set_channel("demo");
  rollback.set_version(1);
  absl::StatusOr<v1::Deployment> rolled = deployments_->Rollback(rollback);
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  EXPECT_EQ(rolled->version(), 3u);
  EXPECT_EQ(rolled->rolled_back_from(), 1u);
  EXPECT_TRUE(rolled->active());
  EXPECT_THAT(rolled->comment(), HasSubstr("rollback to version 1"));
  EXPECT_TRUE(ProtoEquals(rolled->channel(), SmallChannel("demo")));
  EXPECT_EQ(Get("web", "demo", 0)->version(), 3u);

  rollback.set_version(7);
  EXPECT_THAT(deployments_->Rollback(rollback),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("version 7")));
  EXPECT_THAT(Versions(List("web")), ElementsAre(1, 2, 3));
}

TEST_F(DeploymentStoreTest, UndeployKeepsHistory) {
  MustDeploy(Request("web", SmallChannel("demo")));
  v1::UndeployRequest undeploy;
  undeploy.set_group("web");
  undeploy.set_channel("demo");
  EXPECT_TRUE(deployments_->HasActive("web"));
  absl::StatusOr<v1::UndeployResponse> undeployed =
      deployments_->Undeploy(undeploy);
  ASSERT_TRUE(undeployed.ok()) << undeployed.status();
  EXPECT_EQ(undeployed->version(), 1u);
  EXPECT_FALSE(deployments_->HasActive("web"));
  EXPECT_THAT(Get("web", "demo", 0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not deployed")));
  EXPECT_TRUE(Get("web", "demo", 1).ok());
  EXPECT_THAT(Versions(List("web")), ElementsAre(1));
  EXPECT_FALSE(List("web").deployments(0).active());

  EXPECT_THAT(deployments_->Undeploy(undeploy),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already undeployed")));
  undeploy.set_channel("never");
  EXPECT_THAT(
      deployments_->Undeploy(undeploy),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("never deployed")));
  // Versions are not reused after an undeploy.
  EXPECT_EQ(MustDeploy(Request("web", SmallChannel("demo"))).version(), 2u);
}

TEST_F(DeploymentStoreTest, InvalidChannelIsRejectedWithCompilerMessage) {
  v1::InteractiveChannel bad = SmallChannel("demo");
  bad.mutable_treatment_rules(0)->set_segment("Platinum");
  EXPECT_THAT(deployments_->Deploy(Request("web", bad)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("treatment rule 'Gold offer': segment "
                                 "'Platinum' is not defined")));
  EXPECT_THAT(Versions(List("web")), IsEmpty());

  EXPECT_THAT(deployments_->Deploy(Request("web", SmallChannel(""))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("channel.name is empty")));
  EXPECT_THAT(deployments_->Deploy(Request("web", SmallChannel("a/b"))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'a/b'")));
  EXPECT_THAT(
      deployments_->Deploy(
          Request("web", SmallChannel("demo"), std::string(5000, 'x'))),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("comment")));
  v1::InteractiveChannel huge = SmallChannel("demo");
  huge.set_description(std::string(kMaxDeployedChannelBytes, 'x'));
  EXPECT_THAT(deployments_->Deploy(Request("web", huge)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bytes serialized")));
  EXPECT_THAT(Versions(List("web")), IsEmpty());
}

TEST_F(DeploymentStoreTest, UnknownGroupIsNotFound) {
  EXPECT_THAT(deployments_->Deploy(Request("nope", SmallChannel("demo"))),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'nope'")));
  EXPECT_THAT(deployments_->Deploy(Request("Bad Name", SmallChannel("demo"))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("group")));
  EXPECT_THAT(Get("nope", "demo", 0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'nope'")));
  EXPECT_THAT(deployments_->ValidateWatch("nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'nope'")));
}

TEST_F(DeploymentStoreTest, WatcherSeesSnapshotThenChangesInOrder) {
  MustDeploy(Request("web", SmallChannel("demo")));
  MustDeploy(Request("web", SmallChannel("other")));
  MustDeploy(Request("mobile", SmallChannel("demo")));

  std::vector<v1::DeploymentEvent> events;
  v1::DeploymentEvent snapshot;
  uint64_t id = deployments_->Watch(
      "web", [&](const v1::DeploymentEvent& e) { events.push_back(e); },
      &snapshot);
  EXPECT_EQ(snapshot.kind(), v1::DeploymentEvent::SNAPSHOT);
  EXPECT_EQ(snapshot.group(), "web");
  EXPECT_EQ(snapshot.revision(), 3u);
  ASSERT_EQ(snapshot.deployments_size(), 2);
  EXPECT_EQ(snapshot.deployments(0).channel_name(), "demo");
  EXPECT_EQ(snapshot.deployments(0).channel().name(), "demo");
  EXPECT_EQ(snapshot.deployments(1).channel_name(), "other");

  MustDeploy(Request("web", SmallChannel("demo", "Other")));
  MustDeploy(Request("mobile", SmallChannel("demo")));  // Not watched.
  v1::UndeployRequest undeploy;
  undeploy.set_group("web");
  undeploy.set_channel("other");
  ASSERT_TRUE(deployments_->Undeploy(undeploy).ok());
  deployments_->Unwatch(id);
  MustDeploy(Request("web", SmallChannel("demo")));

  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind(), v1::DeploymentEvent::DEPLOYED);
  EXPECT_EQ(events[0].revision(), 4u);
  ASSERT_EQ(events[0].deployments_size(), 1);
  EXPECT_EQ(events[0].deployments(0).version(), 2u);
  EXPECT_EQ(events[0].deployments(0).channel().offers(0).name(), "Other");
  EXPECT_EQ(events[1].kind(), v1::DeploymentEvent::UNDEPLOYED);
  EXPECT_EQ(events[1].revision(), 6u);
  ASSERT_EQ(events[1].deployments_size(), 1);
  EXPECT_EQ(events[1].deployments(0).channel_name(), "other");
  EXPECT_FALSE(events[1].deployments(0).active());
}

TEST_F(DeploymentStoreTest, SurvivesReopen) {
  MustDeploy(Request("web", SmallChannel("demo"), "first"));
  MustDeploy(Request("web", SmallChannel("demo", "Other")));
  MustDeploy(Request("web", SmallChannel("gone")));
  v1::UndeployRequest undeploy;
  undeploy.set_group("web");
  undeploy.set_channel("gone");
  ASSERT_TRUE(deployments_->Undeploy(undeploy).ok());

  Open();
  EXPECT_THAT(Versions(List("web")), ElementsAre(1, 2, 1));
  // The listing still marks the active version after the reopen.
  std::vector<bool> active_flags;
  const v1::ListDeploymentsResponse listed = List("web");
  for (const v1::Deployment& d : listed.deployments()) {
    active_flags.push_back(d.active());
  }
  EXPECT_THAT(active_flags, ElementsAre(false, true, false));
  absl::StatusOr<v1::Deployment> active = Get("web", "demo", 0);
  ASSERT_TRUE(active.ok()) << active.status();
  EXPECT_EQ(active->version(), 2u);
  EXPECT_EQ(active->channel().offers(0).name(), "Other");
  EXPECT_EQ(Get("web", "demo", 1)->comment(), "first");
  EXPECT_THAT(Get("web", "gone", 0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not deployed")));
  v1::DeploymentEvent snapshot;
  deployments_->Unwatch(deployments_->Watch(
      "web", [](const v1::DeploymentEvent&) {}, &snapshot));
  EXPECT_EQ(snapshot.revision(), 4u);
  EXPECT_EQ(snapshot.deployments_size(), 1);
  EXPECT_EQ(MustDeploy(Request("web", SmallChannel("demo"))).version(), 3u);
  EXPECT_EQ(MustDeploy(Request("web", SmallChannel("gone"))).version(), 2u);
}

TEST_F(DeploymentStoreTest, ForgettingAGroupDropsItsHistory) {
  MustDeploy(Request("web", SmallChannel("demo")));
  EXPECT_THAT(deployments_->ForgetGroup("web"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("deployed channels")));
  v1::UndeployRequest undeploy;
  undeploy.set_group("web");
  undeploy.set_channel("demo");
  ASSERT_TRUE(deployments_->Undeploy(undeploy).ok());
  ASSERT_TRUE(deployments_->ForgetGroup("web").ok());
  EXPECT_THAT(Versions(List("web")), ElementsAre());
  Open();  // Gone from disk too.
  EXPECT_THAT(Versions(List("web")), ElementsAre());
  EXPECT_EQ(MustDeploy(Request("web", SmallChannel("demo"))).version(), 1u);
}

}  // namespace
}  // namespace parley::coordinator
