#include "services/runtime/server/deployment_applier.h"

#include <fstream>
#include <sstream>
#include <string>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/runtime/session/local_session_store.h"

namespace parley::runtime {
namespace {

v1::InteractiveChannel DemoChannel() {
  std::ifstream file("services/runtime/channel/testdata/demo_channel.json");
  std::stringstream text;
  text << file.rdbuf();
  v1::InteractiveChannel channel;
  EXPECT_TRUE(
      google::protobuf::util::JsonStringToMessage(text.str(), &channel).ok());
  return channel;
}

v1::Deployment Deployment(const v1::InteractiveChannel& channel,
                          uint64_t version) {
  v1::Deployment deployment;
  deployment.set_group("default");
  deployment.set_channel_name(channel.name());
  deployment.set_version(version);
  *deployment.mutable_channel() = channel;
  return deployment;
}

class DeploymentApplierTest : public ::testing::Test {
 protected:
  DeploymentApplierTest()
      : store_(session::LocalSessionStoreOptions{}),
        engine_(
            &store_, [] { return int64_t{1735689600000}; },
            [](absl::string_view,
               const google::protobuf::RepeatedPtrField<v1::NameValue>&)
                -> absl::StatusOr<absl::optional<std::vector<v1::NameValue>>> {
              return absl::nullopt;
            }),
        applier_(&engine_) {}

  // Whether the engine serves channel `name`: a session on it starts
  // without an INVALID_INTERACTIVE_CHANNEL advisory.
  bool Serves(const std::string& name) {
    v1::StartSessionRequest request;
    request.set_session_id("probe");
    request.set_interactive_channel(name);
    request.set_audience_level("Customer");
    v1::NameValue* id = request.add_audience_id();
    id->set_name("CustomerID");
    id->set_number_value(1);
    absl::StatusOr<v1::StartSessionResponse> response =
        engine_.StartSession(request);
    EXPECT_TRUE(response.ok()) << response.status();
    for (const v1::AdvisoryMessage& m : response->advisory_messages()) {
      if (m.code() == v1::INVALID_INTERACTIVE_CHANNEL) return false;
    }
    return true;
  }

  session::LocalSessionStore store_;
  engine::SessionEngine engine_;
  DeploymentApplier applier_;
};

TEST_F(DeploymentApplierTest, SnapshotDeployAndUndeploy) {
  const v1::InteractiveChannel demo = DemoChannel();
  ASSERT_FALSE(demo.name().empty());
  EXPECT_FALSE(applier_.loaded());
  EXPECT_FALSE(Serves(demo.name()));

  v1::DeploymentEvent snapshot;
  snapshot.set_kind(v1::DeploymentEvent::SNAPSHOT);
  *snapshot.add_deployments() = Deployment(demo, 3);
  applier_.Apply(snapshot);
  EXPECT_TRUE(applier_.loaded());
  EXPECT_EQ(applier_.ActiveVersion(demo.name()), 3u);
  EXPECT_TRUE(Serves(demo.name()));

  v1::DeploymentEvent deployed;
  deployed.set_kind(v1::DeploymentEvent::DEPLOYED);
  *deployed.add_deployments() = Deployment(demo, 4);
  applier_.Apply(deployed);
  EXPECT_EQ(applier_.ActiveVersion(demo.name()), 4u);

  // An undeploy naming an older version changes nothing.
  v1::DeploymentEvent undeployed;
  undeployed.set_kind(v1::DeploymentEvent::UNDEPLOYED);
  v1::Deployment old = Deployment(demo, 3);
  old.clear_channel();
  *undeployed.add_deployments() = old;
  applier_.Apply(undeployed);
  EXPECT_TRUE(Serves(demo.name()));

  undeployed.mutable_deployments(0)->set_version(4);
  applier_.Apply(undeployed);
  EXPECT_EQ(applier_.ActiveVersion(demo.name()), 0u);
  EXPECT_FALSE(Serves(demo.name()));
}

TEST_F(DeploymentApplierTest, SnapshotReplacesEverything) {
  const v1::InteractiveChannel demo = DemoChannel();
  v1::InteractiveChannel other = demo;
  other.set_name("Other");
  v1::DeploymentEvent first;
  first.set_kind(v1::DeploymentEvent::SNAPSHOT);
  *first.add_deployments() = Deployment(demo, 1);
  *first.add_deployments() = Deployment(other, 1);
  applier_.Apply(first);
  EXPECT_TRUE(Serves("other"));

  // After a reconnect the snapshot no longer holds "Other".
  v1::DeploymentEvent second;
  second.set_kind(v1::DeploymentEvent::SNAPSHOT);
  *second.add_deployments() = Deployment(demo, 2);
  applier_.Apply(second);
  EXPECT_FALSE(Serves("Other"));
  EXPECT_TRUE(Serves(demo.name()));
  EXPECT_EQ(applier_.ActiveVersion(demo.name()), 2u);
}

TEST_F(DeploymentApplierTest, ABadVersionKeepsThePreviousOne) {
  const v1::InteractiveChannel demo = DemoChannel();
  v1::DeploymentEvent snapshot;
  snapshot.set_kind(v1::DeploymentEvent::SNAPSHOT);
  *snapshot.add_deployments() = Deployment(demo, 1);
  applier_.Apply(snapshot);

  v1::InteractiveChannel broken = demo;
  ASSERT_GT(broken.treatment_rules_size(), 0);
  broken.mutable_treatment_rules(0)->set_eligibility("1 +");
  v1::DeploymentEvent deployed;
  deployed.set_kind(v1::DeploymentEvent::DEPLOYED);
  *deployed.add_deployments() = Deployment(broken, 2);
  applier_.Apply(deployed);
  EXPECT_EQ(applier_.ActiveVersion(demo.name()), 1u);
  EXPECT_TRUE(Serves(demo.name()));
}

}  // namespace
}  // namespace parley::runtime
