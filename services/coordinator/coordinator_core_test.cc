#include "services/coordinator/coordinator_core.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/common/testing/status_matchers.h"

namespace parley::coordinator {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using ::parley::testing::MakeTempDir;
using ::parley::testing::StatusIs;

bool ProtoEquals(const google::protobuf::Message& a,
                 const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// A clock the test moves by hand; the core's expiry thread may read it.
class FakeClock {
 public:
  absl::Time Now() const {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

constexpr uint32_t kPartitions = 16;
constexpr uint32_t kReplication = 3;

class CoordinatorCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("coordinator_core_test");
    Open();
  }

  void TearDown() override {
    core_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void Open() {
    CoordinatorOptions options;
    options.data_dir = dir_;
    options.partitions = kPartitions;
    options.replication_factor = kReplication;
    // Expiry runs only when the test asks for it.
    options.expiry_interval = absl::Hours(1);
    options.orphaned_partition_wait = absl::Seconds(60);
    options.clock = [clock = clock_] { return clock->Now(); };
    absl::StatusOr<std::unique_ptr<CoordinatorCore>> core =
        CoordinatorCore::Open(options);
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = std::move(*core);
  }

  void Reopen() {
    core_.reset();
    Open();
  }

  v1::ServerGroup MustCreateGroup(const std::string& name) {
    v1::CreateGroupRequest request;
    request.set_name(name);
    absl::StatusOr<v1::ServerGroup> group = core_->CreateGroup(request);
    EXPECT_TRUE(group.ok()) << group.status();
    return group.ok() ? *group : v1::ServerGroup();
  }

  absl::StatusOr<v1::ServerGroup> GetGroup(const std::string& name) {
    v1::GetGroupRequest request;
    request.set_name(name);
    return core_->GetGroup(request);
  }

  absl::Status DeleteGroup(const std::string& name) {
    v1::DeleteGroupRequest request;
    request.set_name(name);
    return core_->DeleteGroup(request);
  }

  absl::StatusOr<v1::JoinResponse> Join(v1::MemberRole role,
                                        const std::string& id,
                                        const std::string& group,
                                        uint32_t ttl_seconds) {
    v1::JoinRequest request;
    request.mutable_member()->set_id(id);
    request.mutable_member()->set_role(role);
    request.mutable_member()->set_group(group);
    request.mutable_member()->set_address(absl::StrCat(id, ".local:7400"));
    request.set_ttl_seconds(ttl_seconds);
    return core_->Join(request);
  }

  uint64_t MustJoinServer(const std::string& id, const std::string& group,
                          uint32_t ttl_seconds = 30) {
    absl::StatusOr<v1::JoinResponse> joined =
        Join(v1::RUNTIME_SERVER, id, group, ttl_seconds);
    EXPECT_TRUE(joined.ok()) << joined.status();
    return joined.ok() ? joined->lease_id() : 0;
  }

  uint64_t MustJoinCache(const std::string& id, uint32_t ttl_seconds = 30) {
    absl::StatusOr<v1::JoinResponse> joined =
        Join(v1::CACHE_NODE, id, "", ttl_seconds);
    EXPECT_TRUE(joined.ok()) << joined.status();
    return joined.ok() ? joined->lease_id() : 0;
  }

  absl::Status Leave(const std::string& id, uint64_t lease_id) {
    v1::LeaveRequest request;
    request.set_member_id(id);
    request.set_lease_id(lease_id);
    return core_->Leave(request);
  }

  absl::StatusOr<v1::PublishResponse> Publish(const std::string& group,
                                              int entries) {
    v1::PublishRequest request;
    request.set_group(group);
    request.set_origin("rs-1");
    for (int i = 0; i < entries; ++i) {
      v1::BroadcastEntry* entry = request.add_entries();
      entry->set_namespace_("sessions");
      entry->set_key(absl::StrCat("k", i));
      entry->set_version(1);
    }
    return core_->Publish(request);
  }

  absl::StatusOr<v1::ConfigEntry> SetConfig(const std::string& path,
                                            const std::string& value) {
    v1::SetConfigRequest request;
    request.set_path(path);
    request.set_value(value);
    return core_->SetConfig(request);
  }

  // Checks the table's shape against the live cache nodes.
  void ExpectTableCovers(const v1::PartitionTable& table,
                         const std::set<std::string>& nodes) {
    EXPECT_EQ(table.partition_count(), kPartitions);
    EXPECT_EQ(table.replication_factor(), kReplication);
    ASSERT_EQ(table.partitions_size(), static_cast<int>(kPartitions));
    const size_t want = std::min<size_t>(kReplication, nodes.size());
    for (int p = 0; p < table.partitions_size(); ++p) {
      const v1::PartitionReplicas& partition = table.partitions(p);
      EXPECT_EQ(partition.partition(), static_cast<uint32_t>(p));
      std::set<std::string> distinct(partition.replicas().begin(),
                                     partition.replicas().end());
      EXPECT_EQ(static_cast<size_t>(partition.replicas_size()), want)
          << "partition " << p;
      EXPECT_EQ(distinct.size(), want) << "partition " << p;
      for (const std::string& replica : partition.replicas()) {
        EXPECT_EQ(nodes.count(replica), 1u)
            << "partition " << p << " names " << replica;
      }
    }
    std::set<std::string> addressed;
    for (const v1::CacheNodeAddress& node : table.nodes()) {
      addressed.insert(node.id());
      EXPECT_EQ(node.address(), absl::StrCat(node.id(), ".local:7400"));
    }
    EXPECT_EQ(addressed, nodes);
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::string dir_;
  std::unique_ptr<CoordinatorCore> core_;
};

TEST_F(CoordinatorCoreTest, OpenFailsWithoutDataDir) {
  CoordinatorOptions options;
  options.data_dir = "";
  EXPECT_THAT(CoordinatorCore::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--data_dir is empty")));
}

TEST_F(CoordinatorCoreTest, RuntimeServerMustJoinExistingGroup) {
  EXPECT_THAT(Join(v1::RUNTIME_SERVER, "rs-1", "nope", 10),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("member 'rs-1'"),
                             HasSubstr("server group 'nope'"),
                             HasSubstr("does not exist"))));
  absl::StatusOr<v1::MembershipView> members =
      core_->ListMembers(v1::ListMembersRequest());
  ASSERT_TRUE(members.ok());
  EXPECT_THAT(members->members(), IsEmpty());
  EXPECT_EQ(members->epoch(), 0u);

  // Invalid members are refused before the group is looked up.
  EXPECT_THAT(
      Join(v1::RUNTIME_SERVER, "rs-1", "", 10),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("member.group")));

  MustCreateGroup("web");
  absl::StatusOr<v1::JoinResponse> joined =
      Join(v1::RUNTIME_SERVER, "rs-1", "web", 0);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_NE(joined->lease_id(), 0u);
  EXPECT_EQ(joined->ttl_seconds(), 5u);
  EXPECT_EQ(joined->membership_epoch(), 1u);
  EXPECT_EQ(joined->coordinator_epoch(), core_->epoch());

  v1::HeartbeatRequest heartbeat;
  heartbeat.set_member_id("rs-1");
  heartbeat.set_lease_id(joined->lease_id());
  absl::StatusOr<v1::HeartbeatResponse> renewed = core_->Heartbeat(heartbeat);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->ttl_seconds(), 5u);
  EXPECT_EQ(renewed->coordinator_epoch(), core_->epoch());
  heartbeat.set_lease_id(joined->lease_id() + 1);
  EXPECT_EQ(core_->Heartbeat(heartbeat).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CoordinatorCoreTest, DeleteGroupRefusedWhileMembersLive) {
  MustCreateGroup("web");
  MustCreateGroup("api");
  const uint64_t lease = MustJoinServer("rs-1", "web");
  MustJoinServer("api-1", "api");

  EXPECT_THAT(DeleteGroup("web"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("group 'web' has 1 live member(s)"),
                             HasSubstr("rs-1"))));
  EXPECT_TRUE(GetGroup("web").ok());
  ASSERT_TRUE(Publish("web", 1).ok());  // The stream is still there.

  ASSERT_TRUE(Leave("rs-1", lease).ok());
  ASSERT_TRUE(DeleteGroup("web").ok());
  EXPECT_THAT(GetGroup("web"), StatusIs(absl::StatusCode::kNotFound,
                                        HasSubstr("no server group 'web'")));
  v1::ListConfigRequest list;
  list.set_prefix("groups/web");
  EXPECT_THAT(core_->ListConfig(list)->entries(), IsEmpty());
  // Its broadcast stream is gone with it.
  EXPECT_EQ(Publish("web", 1).status().code(), absl::StatusCode::kNotFound);
  v1::SubscribeRequest subscribe;
  subscribe.set_group("web");
  EXPECT_EQ(core_->StreamForSubscribe(subscribe).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(DeleteGroup("web"), StatusIs(absl::StatusCode::kNotFound,
                                           HasSubstr("no server group")));
  EXPECT_EQ(DeleteGroup("").code(), absl::StatusCode::kInvalidArgument);
  // The other group is unaffected.
  ASSERT_EQ(core_->ListGroups().groups_size(), 1);
  EXPECT_EQ(core_->ListGroups().groups(0).name(), "api");
}

TEST_F(CoordinatorCoreTest, DeleteGroupAllowedAfterMemberExpires) {
  MustCreateGroup("web");
  MustJoinServer("rs-1", "web", 5);
  EXPECT_EQ(DeleteGroup("web").code(), absl::StatusCode::kFailedPrecondition);
  clock_->Advance(absl::Seconds(6));
  EXPECT_EQ(core_->ExpireLapsedMembers(), 1);
  EXPECT_TRUE(DeleteGroup("web").ok());
}

TEST_F(CoordinatorCoreTest, MembershipDoesNotTouchGroupSettings) {
  v1::CreateGroupRequest create;
  create.set_name("web");
  create.mutable_settings()->set_cache_type(v1::LOCAL);
  create.mutable_settings()->mutable_session_timeout_seconds()->set_value(90);
  ASSERT_TRUE(core_->CreateGroup(create).ok());
  absl::StatusOr<v1::ServerGroup> before = GetGroup("web");
  ASSERT_TRUE(before.ok());
  v1::ListConfigRequest list;
  list.set_prefix("groups/web");
  absl::StatusOr<v1::ListConfigResponse> config_before =
      core_->ListConfig(list);
  ASSERT_TRUE(config_before.ok());

  const uint64_t a = MustJoinServer("rs-1", "web");
  const uint64_t b = MustJoinServer("rs-2", "web", 5);
  absl::StatusOr<v1::ServerGroup> during = GetGroup("web");
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->live_members(), 2u);
  EXPECT_EQ(during->version(), before->version());
  EXPECT_TRUE(ProtoEquals(during->settings(), before->settings()));

  ASSERT_TRUE(Leave("rs-1", a).ok());
  clock_->Advance(absl::Seconds(6));
  EXPECT_EQ(core_->ExpireLapsedMembers(), 1);  // rs-2, the last member.
  (void)b;

  absl::StatusOr<v1::ServerGroup> after = GetGroup("web");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->live_members(), 0u);
  EXPECT_EQ(after->version(), before->version());
  EXPECT_EQ(after->broadcast_channel(), before->broadcast_channel());
  EXPECT_TRUE(ProtoEquals(after->settings(), before->settings()));
  EXPECT_EQ(after->settings().cache_type(), v1::LOCAL);
  EXPECT_EQ(after->settings().session_timeout_seconds().value(), 90u);
  absl::StatusOr<v1::ListConfigResponse> config_after = core_->ListConfig(list);
  ASSERT_TRUE(config_after.ok());
  EXPECT_TRUE(ProtoEquals(*config_after, *config_before));
}

TEST_F(CoordinatorCoreTest, LiveMembersInGetAndList) {
  MustCreateGroup("web");
  MustCreateGroup("api");
  MustJoinServer("web-1", "web");
  MustJoinServer("web-2", "web");
  MustJoinServer("api-1", "api");
  MustJoinCache("cache-1");
  absl::StatusOr<v1::ServerGroup> web = GetGroup("web");
  ASSERT_TRUE(web.ok());
  EXPECT_EQ(web->live_members(), 2u);
  v1::ListGroupsResponse groups = core_->ListGroups();
  ASSERT_EQ(groups.groups_size(), 2);
  EXPECT_EQ(groups.groups(0).name(), "api");
  EXPECT_EQ(groups.groups(0).live_members(), 1u);
  EXPECT_EQ(groups.groups(1).name(), "web");
  EXPECT_EQ(groups.groups(1).live_members(), 2u);

  v1::UpdateGroupRequest update;
  update.set_name("web");
  update.mutable_settings()->mutable_near_cache_max_entries()->set_value(7);
  absl::StatusOr<v1::ServerGroup> updated = core_->UpdateGroup(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->live_members(), 2u);
  EXPECT_EQ(updated->settings().near_cache_max_entries().value(), 7u);

  v1::ListMembersRequest by_group;
  by_group.set_group("web");
  absl::StatusOr<v1::MembershipView> members = core_->ListMembers(by_group);
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(members->members_size(), 2);
  by_group.set_group("Bad");
  EXPECT_EQ(core_->ListMembers(by_group).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      core_->ValidateMemberFilter("", static_cast<v1::MemberRole>(9)).code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(CoordinatorCoreTest, CacheNodesDriveThePartitionTable) {
  v1::PartitionTable table = core_->GetPartitionTable();
  EXPECT_EQ(table.epoch(), 0u);
  ExpectTableCovers(table, {});

  uint64_t epoch = table.epoch();
  std::set<std::string> nodes;
  for (const std::string id : {"cache-1", "cache-2", "cache-3", "cache-4"}) {
    MustJoinCache(id, id == "cache-2" ? 5 : 60);
    nodes.insert(id);
    table = core_->GetPartitionTable();
    EXPECT_GT(table.epoch(), epoch) << "after " << id << " joined";
    epoch = table.epoch();
    ExpectTableCovers(table, nodes);
  }

  // Runtime servers do not move the table.
  MustCreateGroup("web");
  MustJoinServer("rs-1", "web", 60);
  EXPECT_EQ(core_->GetPartitionTable().epoch(), epoch);

  // cache-2's lease lapses: the table moves off it.
  clock_->Advance(absl::Seconds(6));
  EXPECT_EQ(core_->ExpireLapsedMembers(), 1);
  nodes.erase("cache-2");
  table = core_->GetPartitionTable();
  EXPECT_GT(table.epoch(), epoch);
  ExpectTableCovers(table, nodes);
  epoch = table.epoch();

  // Down to one node: every partition has exactly that one.
  v1::ListMembersRequest caches;
  caches.set_role(v1::CACHE_NODE);
  ASSERT_EQ(core_->ListMembers(caches)->members_size(), 3);
  clock_->Advance(absl::Seconds(61));
  EXPECT_EQ(core_->ExpireLapsedMembers(), 4);  // 3 caches and rs-1.
  MustJoinCache("cache-9", 300);
  // Every partition lost all its replicas: they wait (60 s here) for one to
  // come back before starting empty on cache-9.
  EXPECT_EQ(core_->table().WaitingPartitions(), static_cast<int>(kPartitions));
  clock_->Advance(absl::Seconds(61));
  EXPECT_EQ(core_->ExpireLapsedMembers(), 0);
  EXPECT_EQ(core_->table().WaitingPartitions(), 0);
  table = core_->GetPartitionTable();
  EXPECT_GT(table.epoch(), epoch);
  ExpectTableCovers(table, {"cache-9"});
}

// When every replica of a partition is gone at once (their leases lapsed
// together, say while the machine was overloaded), the partition keeps
// them, unavailable, instead of starting empty on other nodes; the first
// of them to come back serves it with its data.
TEST_F(CoordinatorCoreTest, APartitionWaitsForItsLastReplicas) {
  for (const std::string id : {"cache-1", "cache-2", "cache-3"}) {
    MustJoinCache(id, 5);
  }
  // cache-4 takes a quarter of the replicas: some partitions stay on
  // cache-1, cache-2 and cache-3 alone.
  MustJoinCache("cache-4", 300);
  const v1::PartitionTable before = core_->GetPartitionTable();
  const std::set<std::string> lapsing = {"cache-1", "cache-2", "cache-3"};
  auto only_on_lapsing = [&](int p) {
    const auto& replicas = before.partitions(p).replicas();
    return std::all_of(
        replicas.begin(), replicas.end(),
        [&](const std::string& id) { return lapsing.count(id) > 0; });
  };

  clock_->Advance(absl::Seconds(6));
  EXPECT_EQ(core_->ExpireLapsedMembers(), 3);
  const v1::PartitionTable after = core_->GetPartitionTable();
  EXPECT_GT(after.epoch(), before.epoch());
  int waiting = 0;
  for (int p = 0; p < after.partitions_size(); ++p) {
    if (only_on_lapsing(p)) {
      ++waiting;
      EXPECT_THAT(after.partitions(p).replicas(),
                  ::testing::ElementsAreArray(before.partitions(p).replicas()))
          << "partition " << p;
      EXPECT_EQ(after.partitions(p).primary_term(),
                before.partitions(p).primary_term());
    } else {
      EXPECT_THAT(after.partitions(p).replicas(),
                  ::testing::ElementsAre("cache-4"))
          << "partition " << p;
    }
  }
  ASSERT_GT(waiting, 0);
  EXPECT_EQ(core_->table().WaitingPartitions(), waiting);

  // cache-2 comes back within the wait: the partitions that waited are
  // its again (with cache-4 as a new copy), nothing else waits.
  clock_->Advance(absl::Seconds(50));
  EXPECT_EQ(core_->ExpireLapsedMembers(), 0);
  EXPECT_EQ(core_->table().WaitingPartitions(), waiting);
  MustJoinCache("cache-2", 300);
  EXPECT_EQ(core_->table().WaitingPartitions(), 0);
  const v1::PartitionTable back = core_->GetPartitionTable();
  for (int p = 0; p < back.partitions_size(); ++p) {
    if (!only_on_lapsing(p)) continue;
    EXPECT_THAT(back.partitions(p).replicas(), ::testing::Contains("cache-2"))
        << "partition " << p;
  }
  ExpectTableCovers(back, {"cache-2", "cache-4"});
}

TEST_F(CoordinatorCoreTest, Publish) {
  MustCreateGroup("web");
  EXPECT_THAT(Publish("nope", 1),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no server group 'nope'")));
  EXPECT_THAT(Publish("web", 0), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("entries is empty")));
  EXPECT_EQ(Publish("Bad Group", 1).status().code(),
            absl::StatusCode::kInvalidArgument);

  absl::StatusOr<v1::PublishResponse> first = Publish("web", 2);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->epoch(), core_->epoch());
  EXPECT_EQ(first->first_sequence(), 1u);
  EXPECT_EQ(first->last_sequence(), 2u);
  absl::StatusOr<v1::PublishResponse> second = Publish("web", 3);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->first_sequence(), 3u);
  EXPECT_EQ(second->last_sequence(), 5u);

  v1::SubscribeRequest subscribe;
  subscribe.set_group("web");
  absl::StatusOr<std::shared_ptr<GroupStream>> stream =
      core_->StreamForSubscribe(subscribe);
  ASSERT_TRUE(stream.ok()) << stream.status();
  absl::MutexLock lock(&(*stream)->mu());
  EXPECT_EQ((*stream)->log().head(), 5u);
  EXPECT_EQ((*stream)->log().epoch(), core_->epoch());
  EXPECT_FALSE((*stream)->closed());
}

TEST_F(CoordinatorCoreTest, ReopenKeepsStateAndBumpsStreamEpoch) {
  v1::CreateGroupRequest create;
  create.set_name("web");
  create.mutable_settings()->set_cache_type(v1::LOCAL);
  ASSERT_TRUE(core_->CreateGroup(create).ok());
  MustCreateGroup("api");
  absl::StatusOr<v1::ConfigEntry> flag = SetConfig("app/flag", "on");
  ASSERT_TRUE(flag.ok()) << flag.status();
  MustJoinCache("cache-1");
  MustJoinCache("cache-2");
  MustJoinCache("cache-3");
  MustJoinCache("cache-4");
  ASSERT_TRUE(Publish("web", 3).ok());

  const v1::ListGroupsResponse groups = core_->ListGroups();
  const v1::PartitionTable table = core_->GetPartitionTable();
  ASSERT_GT(table.epoch(), 0u);
  v1::ListConfigRequest all;
  const v1::ListConfigResponse config = *core_->ListConfig(all);
  const uint64_t epoch = core_->epoch();
  EXPECT_GE(epoch, 1u);

  clock_->Advance(absl::Seconds(10));
  Reopen();

  EXPECT_GT(core_->epoch(), epoch);
  EXPECT_TRUE(ProtoEquals(core_->ListGroups(), groups))
      << core_->ListGroups().DebugString();
  EXPECT_TRUE(ProtoEquals(*core_->ListConfig(all), config));
  const v1::PartitionTable reopened = core_->GetPartitionTable();
  EXPECT_EQ(reopened.epoch(), table.epoch());
  EXPECT_TRUE(ProtoEquals(reopened, table)) << reopened.DebugString();
  v1::GetConfigRequest get;
  get.set_path("app/flag");
  absl::StatusOr<v1::ConfigEntry> reread = core_->GetConfig(get);
  ASSERT_TRUE(reread.ok()) << reread.status();
  EXPECT_EQ(reread->value(), "on");
  EXPECT_EQ(reread->version(), flag->version());

  // Streams exist again for every group, in the new epoch, starting over.
  absl::StatusOr<v1::PublishResponse> published = Publish("web", 1);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->epoch(), core_->epoch());
  EXPECT_EQ(published->first_sequence(), 1u);
  EXPECT_TRUE(Publish("api", 1).ok());

  // Joins report the new stream epoch; members survived the restart.
  absl::StatusOr<v1::JoinResponse> joined =
      Join(v1::RUNTIME_SERVER, "rs-1", "web", 10);
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->coordinator_epoch(), core_->epoch());
  EXPECT_EQ(core_->ListMembers(v1::ListMembersRequest())->members_size(), 5);

  const uint64_t second_epoch = core_->epoch();
  Reopen();
  EXPECT_GT(core_->epoch(), second_epoch);
  EXPECT_EQ(core_->GetPartitionTable().epoch(), table.epoch());
}

TEST_F(CoordinatorCoreTest, BadConfigPathsAreInvalidArgument) {
  for (const char* path : {"", "/a", "a/", "a//b", "a b", "a/b?"}) {
    v1::SetConfigRequest set;
    set.set_path(path);
    set.set_value("v");
    EXPECT_THAT(core_->SetConfig(set),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("path")))
        << "'" << path << "'";
    v1::DeleteConfigRequest del;
    del.set_path(path);
    EXPECT_EQ(core_->DeleteConfig(del).status().code(),
              absl::StatusCode::kInvalidArgument)
        << "'" << path << "'";
    v1::GetConfigRequest get;
    get.set_path(path);
    EXPECT_EQ(core_->GetConfig(get).status().code(),
              absl::StatusCode::kInvalidArgument)
        << "'" << path << "'";
  }
  v1::ListConfigRequest list;
  list.set_prefix("a//b");
  EXPECT_THAT(
      core_->ListConfig(list),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prefix")));
  EXPECT_EQ(core_->ValidateWatchPrefix("/x").code(),
            absl::StatusCode::kInvalidArgument);
  // The root is a valid prefix (but not a valid path).
  list.set_prefix("");
  EXPECT_TRUE(core_->ListConfig(list).ok());
  EXPECT_TRUE(core_->ValidateWatchPrefix("").ok());

  EXPECT_THAT(
      SetConfig("big", std::string(64 * 1024 + 1, 'x')),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 65536")));
  EXPECT_TRUE(SetConfig("big", std::string(64 * 1024, 'x')).ok());
}

TEST_F(CoordinatorCoreTest, SetAndDeleteConfig) {
  absl::StatusOr<v1::ConfigEntry> set = SetConfig("app/x", "1");
  ASSERT_TRUE(set.ok()) << set.status();
  v1::SetConfigRequest cas;
  cas.set_path("app/x");
  cas.set_value("2");
  cas.mutable_expected_version()->set_value(set->version() + 5);
  EXPECT_THAT(
      core_->SetConfig(cas),
      StatusIs(absl::StatusCode::kAborted,
               HasSubstr(absl::StrCat("is at version ", set->version()))));
  cas.mutable_expected_version()->set_value(set->version());
  absl::StatusOr<v1::ConfigEntry> swapped = core_->SetConfig(cas);
  ASSERT_TRUE(swapped.ok()) << swapped.status();
  EXPECT_EQ(swapped->value(), "2");

  v1::SetConfigRequest create_only;
  create_only.set_path("app/x");
  create_only.set_value("3");
  create_only.mutable_expected_version()->set_value(0);
  EXPECT_EQ(core_->SetConfig(create_only).status().code(),
            absl::StatusCode::kAborted);

  v1::DeleteConfigRequest del;
  del.set_path("app/x");
  del.mutable_expected_version()->set_value(swapped->version() + 1);
  EXPECT_EQ(core_->DeleteConfig(del).status().code(),
            absl::StatusCode::kAborted);
  del.mutable_expected_version()->set_value(swapped->version());
  absl::StatusOr<v1::DeleteConfigResponse> deleted = core_->DeleteConfig(del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_GT(deleted->revision(), swapped->version());
  del.clear_expected_version();
  EXPECT_EQ(core_->DeleteConfig(del).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CoordinatorCoreTest, SetConfigChecksGroupSettings) {
  MustCreateGroup("web");
  EXPECT_THAT(SetConfig("groups/web/cache/type", "SOMETIMES"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be LOCAL or DISTRIBUTED")));
  EXPECT_THAT(SetConfig("groups/web/session/timeout_seconds", "0"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("from 1 to 86400")));
  EXPECT_THAT(SetConfig("groups/nope/cache/type", "LOCAL"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no server group 'nope'")));
  EXPECT_THAT(SetConfig("groups/web/broadcast/channel", "9"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("UpdateGroup")));
  v1::DeleteConfigRequest del;
  del.set_path("groups/web/cache/type");
  EXPECT_THAT(core_->DeleteConfig(del),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot be deleted")));
  absl::StatusOr<v1::ServerGroup> web = GetGroup("web");
  ASSERT_TRUE(web.ok());
  EXPECT_EQ(web->settings().cache_type(), v1::DISTRIBUTED);

  absl::StatusOr<v1::ConfigEntry> set =
      SetConfig("groups/web/cache/type", "LOCAL");
  ASSERT_TRUE(set.ok()) << set.status();
  web = GetGroup("web");
  ASSERT_TRUE(web.ok());
  EXPECT_EQ(web->settings().cache_type(), v1::LOCAL);
  EXPECT_EQ(web->version(), set->version());
  EXPECT_TRUE(SetConfig("groups/web/custom/key", "anything").ok());
}

}  // namespace
}  // namespace parley::coordinator
