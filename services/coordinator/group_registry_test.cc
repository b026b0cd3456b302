#include "services/coordinator/group_registry.h"

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/coordinator/config_store.h"
#include "services/coordinator/durable_store.h"

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

v1::CreateGroupRequest CreateRequest(const std::string& name) {
  v1::CreateGroupRequest request;
  request.set_name(name);
  return request;
}

v1::CreateGroupRequest CreateRequest(const std::string& name,
                                     uint32_t channel) {
  v1::CreateGroupRequest request = CreateRequest(name);
  request.set_broadcast_channel(channel);
  return request;
}

class GroupRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("group_registry_test");
    absl::StatusOr<std::unique_ptr<DurableStore>> store =
        DurableStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    absl::StatusOr<std::unique_ptr<ConfigStore>> config =
        ConfigStore::Load(store_.get());
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = std::move(*config);
    registry_ = std::make_unique<GroupRegistry>(config_.get());
  }

  void TearDown() override {
    registry_.reset();
    config_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  v1::ServerGroup MustCreate(const v1::CreateGroupRequest& request) {
    absl::StatusOr<v1::ServerGroup> group = registry_->Create(request);
    EXPECT_TRUE(group.ok()) << group.status();
    return group.ok() ? *group : v1::ServerGroup();
  }

  v1::ServerGroup MustGet(const std::string& name) {
    absl::StatusOr<v1::ServerGroup> group = registry_->Get(name);
    EXPECT_TRUE(group.ok()) << group.status();
    return group.ok() ? *group : v1::ServerGroup();
  }

  std::string ConfigValue(const std::string& path) {
    absl::StatusOr<v1::ConfigEntry> entry = config_->Get(path);
    EXPECT_TRUE(entry.ok()) << entry.status();
    return entry.ok() ? entry->value() : "<missing>";
  }

  uint64_t Revision() { return config_->List("").revision(); }

  // A write through the generic configuration path, checked the way
  // CoordinatorCore::SetConfig and DeleteConfig check it.
  absl::StatusOr<uint64_t> CheckedWrite(const std::string& path,
                                        std::optional<std::string> value) {
    ConfigWrite write{path, std::move(value), std::nullopt};
    return config_->Transact([&](const ConfigStore::View& view)
                                 -> absl::StatusOr<std::vector<ConfigWrite>> {
      if (absl::Status s = GroupRegistry::CheckConfigWrite(view, write);
          !s.ok()) {
        return s;
      }
      return std::vector<ConfigWrite>{write};
    });
  }

  std::string dir_;
  std::unique_ptr<DurableStore> store_;
  std::unique_ptr<ConfigStore> config_;
  std::unique_ptr<GroupRegistry> registry_;
};

TEST_F(GroupRegistryTest, CreateWithDefaults) {
  const int64_t before = absl::ToUnixSeconds(absl::Now());
  v1::ServerGroup web = MustCreate(CreateRequest("web"));
  const int64_t after = absl::ToUnixSeconds(absl::Now());
  EXPECT_EQ(web.name(), "web");
  EXPECT_EQ(web.settings().cache_type(), v1::DISTRIBUTED);
  EXPECT_EQ(web.settings().session_timeout_seconds().value(), 300u);
  EXPECT_EQ(web.settings().near_cache_max_entries().value(), 10000u);
  EXPECT_EQ(web.settings().segmentation_max_wait_ms().value(), 5000u);
  EXPECT_TRUE(web.settings().has_session_timeout_seconds());
  EXPECT_TRUE(web.settings().has_near_cache_max_entries());
  EXPECT_TRUE(web.settings().has_segmentation_max_wait_ms());
  EXPECT_EQ(web.broadcast_channel(), 1u);
  EXPECT_EQ(web.version(), Revision());
  EXPECT_GT(web.version(), 0u);
  EXPECT_GE(web.create_time().seconds(), before);
  EXPECT_LE(web.create_time().seconds(), after);
  EXPECT_EQ(web.live_members(), 0u);

  EXPECT_TRUE(ProtoEquals(MustGet("web"), web));
  std::vector<v1::ServerGroup> all = registry_->List();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(ProtoEquals(all[0], web));
}

TEST_F(GroupRegistryTest, CreateWithSettingsOverride) {
  v1::CreateGroupRequest request = CreateRequest("batch");
  request.mutable_settings()->set_cache_type(v1::LOCAL);
  request.mutable_settings()->mutable_session_timeout_seconds()->set_value(60);
  request.mutable_settings()->mutable_near_cache_max_entries()->set_value(
      0);  // Disables.
  v1::ServerGroup batch = MustCreate(request);
  EXPECT_EQ(batch.settings().cache_type(), v1::LOCAL);
  EXPECT_EQ(batch.settings().session_timeout_seconds().value(), 60u);
  EXPECT_EQ(batch.settings().near_cache_max_entries().value(), 0u);
  EXPECT_EQ(batch.settings().segmentation_max_wait_ms().value(), 5000u);
  EXPECT_TRUE(ProtoEquals(MustGet("batch"), batch));
}

TEST_F(GroupRegistryTest, UnsetFieldsTakeDefaults) {
  // CACHE_TYPE_UNSPECIFIED and channel 0 mean "not given".
  v1::CreateGroupRequest request = CreateRequest("web", 0);
  request.mutable_settings()->set_cache_type(v1::CACHE_TYPE_UNSPECIFIED);
  v1::ServerGroup web = MustCreate(request);
  EXPECT_EQ(web.settings().cache_type(), v1::DISTRIBUTED);
  EXPECT_EQ(web.broadcast_channel(), 1u);
  EXPECT_EQ(web.settings().session_timeout_seconds().value(), 300u);
}

TEST_F(GroupRegistryTest, UpdateWithNothingSetChangesNothing) {
  v1::ServerGroup web = MustCreate(CreateRequest("web", 4));
  v1::UpdateGroupRequest update;
  update.set_name("web");
  update.set_broadcast_channel(0);  // 0: keep the channel.
  absl::StatusOr<v1::ServerGroup> after = registry_->Update(update);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(ProtoEquals(*after, web));
  EXPECT_EQ(after->broadcast_channel(), 4u);
}

TEST_F(GroupRegistryTest, SettingsAreConfigEntries) {
  v1::CreateGroupRequest request = CreateRequest("web", 42);
  request.mutable_settings()->mutable_segmentation_max_wait_ms()->set_value(
      250);
  v1::ServerGroup web = MustCreate(request);
  EXPECT_EQ(ConfigValue("groups/web/cache/type"), "DISTRIBUTED");
  EXPECT_EQ(ConfigValue("groups/web/session/timeout_seconds"), "300");
  EXPECT_EQ(ConfigValue("groups/web/near_cache/max_entries"), "10000");
  EXPECT_EQ(ConfigValue("groups/web/segmentation/max_wait_ms"), "250");
  EXPECT_EQ(ConfigValue("groups/web/broadcast/channel"), "42");
  EXPECT_EQ(ConfigValue("groups/web/create_time"),
            std::to_string(web.create_time().seconds()));
  // Everything was written in one transaction.
  const v1::ListConfigResponse entries = config_->List("groups/web");
  for (const v1::ConfigEntry& entry : entries.entries()) {
    EXPECT_EQ(entry.version(), web.version()) << entry.path();
  }
  EXPECT_EQ(entries.entries_size(), 6);

  v1::UpdateGroupRequest update;
  update.set_name("web");
  update.mutable_settings()->set_cache_type(v1::LOCAL);
  ASSERT_TRUE(registry_->Update(update).ok());
  EXPECT_EQ(ConfigValue("groups/web/cache/type"), "LOCAL");
}

TEST_F(GroupRegistryTest, AllocatesLowestFreeChannel) {
  EXPECT_EQ(MustCreate(CreateRequest("a")).broadcast_channel(), 1u);
  EXPECT_EQ(MustCreate(CreateRequest("b", 3)).broadcast_channel(), 3u);
  EXPECT_EQ(MustCreate(CreateRequest("c")).broadcast_channel(), 2u);
  EXPECT_EQ(MustCreate(CreateRequest("d")).broadcast_channel(), 4u);
  ASSERT_TRUE(registry_->Delete("a").ok());
  EXPECT_EQ(MustCreate(CreateRequest("e")).broadcast_channel(), 1u);
  EXPECT_EQ(MustCreate(CreateRequest("f")).broadcast_channel(), 5u);
  EXPECT_EQ(MustCreate(CreateRequest("g", 65535)).broadcast_channel(), 65535u);
}

TEST_F(GroupRegistryTest, ExplicitChannelTakenNamesHolder) {
  MustCreate(CreateRequest("web", 7));
  const uint64_t revision = Revision();
  EXPECT_THAT(registry_->Create(CreateRequest("api", 7)),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       AllOf(HasSubstr("broadcast channel 7"),
                             HasSubstr("taken by group 'web'"))));
  EXPECT_EQ(registry_->Get("api").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Revision(), revision);
  EXPECT_THAT(config_->List("groups/api").entries(), IsEmpty());
}

TEST_F(GroupRegistryTest, DuplicateNameIsAlreadyExists) {
  v1::ServerGroup web = MustCreate(CreateRequest("web"));
  v1::CreateGroupRequest again = CreateRequest("web", 9);
  again.mutable_settings()->set_cache_type(v1::LOCAL);
  EXPECT_THAT(registry_->Create(again),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("server group 'web' already exists")));
  EXPECT_TRUE(ProtoEquals(MustGet("web"), web));
  EXPECT_EQ(registry_->List().size(), 1u);
}

TEST_F(GroupRegistryTest, CreateRejectsInvalidInput) {
  for (const char* name : {"", "Web", "1web", "web-", "a/b", "we b"}) {
    EXPECT_THAT(registry_->Create(CreateRequest(name)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")))
        << "name '" << name << "'";
  }
  EXPECT_THAT(
      registry_->Create(CreateRequest(std::string(64, 'a'))),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("longer than")));

  struct BadSettings {
    std::function<void(v1::GroupSettings*)> set;
    std::string message;
  };
  const std::vector<BadSettings> bad_settings = {
      {[](v1::GroupSettings* s) {
         s->set_cache_type(static_cast<v1::CacheType>(7));
       },
       "cache_type must be LOCAL or DISTRIBUTED"},
      {[](v1::GroupSettings* s) {
         s->mutable_session_timeout_seconds()->set_value(0);
       },
       "session_timeout_seconds must be from 1 to 86400"},
      {[](v1::GroupSettings* s) {
         s->mutable_session_timeout_seconds()->set_value(86401);
       },
       "session_timeout_seconds must be from 1 to 86400"},
      {[](v1::GroupSettings* s) {
         s->mutable_near_cache_max_entries()->set_value(10000001);
       },
       "near_cache_max_entries must be at most 10000000"},
      {[](v1::GroupSettings* s) {
         s->mutable_segmentation_max_wait_ms()->set_value(60001);
       },
       "segmentation_max_wait_ms must be at most 60000"},
  };
  for (const BadSettings& bad : bad_settings) {
    v1::CreateGroupRequest request = CreateRequest("web");
    bad.set(request.mutable_settings());
    EXPECT_THAT(
        registry_->Create(request),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad.message)));
  }
  for (uint32_t channel : {65536u, 100000u}) {
    EXPECT_THAT(
        registry_->Create(CreateRequest("web", channel)),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 HasSubstr("broadcast_channel must be from 1 to 65535")))
        << channel;
  }
  // Nothing was created.
  EXPECT_THAT(registry_->List(), IsEmpty());
  EXPECT_EQ(Revision(), 0u);

  // Limits themselves are accepted.
  v1::CreateGroupRequest edge = CreateRequest("edge", 65535);
  edge.mutable_settings()->mutable_session_timeout_seconds()->set_value(86400);
  edge.mutable_settings()->mutable_near_cache_max_entries()->set_value(
      10000000);
  edge.mutable_settings()->mutable_segmentation_max_wait_ms()->set_value(60000);
  EXPECT_TRUE(registry_->Create(edge).ok());
}

TEST_F(GroupRegistryTest, GetUnknownIsNotFound) {
  EXPECT_THAT(registry_->Get("nope"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no server group 'nope'")));
  EXPECT_EQ(registry_->Get("Bad Name").status().code(),
            absl::StatusCode::kInvalidArgument);
  // A group is not found through another group's name prefix.
  MustCreate(CreateRequest("web2"));
  EXPECT_EQ(registry_->Get("web").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GroupRegistryTest, ListIsByName) {
  MustCreate(CreateRequest("zeta"));
  MustCreate(CreateRequest("alpha"));
  MustCreate(CreateRequest("mid"));
  std::vector<std::string> names;
  for (const v1::ServerGroup& group : registry_->List()) {
    names.push_back(group.name());
  }
  EXPECT_THAT(names, ElementsAre("alpha", "mid", "zeta"));
}

TEST_F(GroupRegistryTest, UpdateChangesOnlySetFields) {
  v1::CreateGroupRequest create = CreateRequest("web", 5);
  create.mutable_settings()->set_cache_type(v1::LOCAL);
  create.mutable_settings()->mutable_session_timeout_seconds()->set_value(120);
  v1::ServerGroup before = MustCreate(create);

  v1::UpdateGroupRequest update;
  update.set_name("web");
  update.mutable_settings()->mutable_near_cache_max_entries()->set_value(50);
  absl::StatusOr<v1::ServerGroup> after = registry_->Update(update);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->settings().near_cache_max_entries().value(), 50u);
  EXPECT_EQ(after->settings().cache_type(), v1::LOCAL);
  EXPECT_EQ(after->settings().session_timeout_seconds().value(), 120u);
  EXPECT_EQ(after->settings().segmentation_max_wait_ms().value(), 5000u);
  EXPECT_EQ(after->broadcast_channel(), 5u);
  EXPECT_EQ(after->create_time().seconds(), before.create_time().seconds());
  EXPECT_GT(after->version(), before.version());
  EXPECT_EQ(after->version(), Revision());
  EXPECT_TRUE(ProtoEquals(MustGet("web"), *after));

  // Set fields are changed, others kept.
  v1::UpdateGroupRequest second;
  second.set_name("web");
  second.mutable_settings()->set_cache_type(v1::DISTRIBUTED);
  second.mutable_settings()->mutable_segmentation_max_wait_ms()->set_value(0);
  after = registry_->Update(second);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->settings().cache_type(), v1::DISTRIBUTED);
  EXPECT_EQ(after->settings().segmentation_max_wait_ms().value(), 0u);
  EXPECT_EQ(after->settings().near_cache_max_entries().value(), 50u);
  EXPECT_EQ(after->settings().session_timeout_seconds().value(), 120u);
}

TEST_F(GroupRegistryTest, UpdateErrors) {
  v1::ServerGroup web = MustCreate(CreateRequest("web"));

  v1::UpdateGroupRequest unknown;
  unknown.set_name("nope");
  unknown.mutable_settings()->mutable_session_timeout_seconds()->set_value(10);
  EXPECT_THAT(registry_->Update(unknown),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no server group 'nope'")));

  v1::UpdateGroupRequest bad;
  bad.set_name("web");
  bad.mutable_settings()->mutable_session_timeout_seconds()->set_value(0);
  EXPECT_THAT(registry_->Update(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("session_timeout_seconds")));
  v1::UpdateGroupRequest bad_channel;
  bad_channel.set_name("web");
  bad_channel.set_broadcast_channel(70000);
  EXPECT_THAT(registry_->Update(bad_channel),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("broadcast_channel")));
  v1::UpdateGroupRequest bad_name;
  bad_name.set_name("WEB");
  EXPECT_EQ(registry_->Update(bad_name).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ProtoEquals(MustGet("web"), web));
}

TEST_F(GroupRegistryTest, UpdateWithExpectedVersion) {
  v1::ServerGroup web = MustCreate(CreateRequest("web"));
  config_->Set("unrelated", "x", std::nullopt).IgnoreError();

  v1::UpdateGroupRequest stale;
  stale.set_name("web");
  stale.set_expected_version(web.version() + 1);
  stale.mutable_settings()->mutable_session_timeout_seconds()->set_value(10);
  EXPECT_THAT(registry_->Update(stale),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("group 'web' is at version " +
                                       std::to_string(web.version())),
                             HasSubstr("not the expected " +
                                       std::to_string(web.version() + 1)))));
  EXPECT_EQ(MustGet("web").settings().session_timeout_seconds().value(), 300u);

  v1::UpdateGroupRequest current = stale;
  current.set_expected_version(web.version());
  absl::StatusOr<v1::ServerGroup> updated = registry_->Update(current);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->settings().session_timeout_seconds().value(), 10u);

  // The old version is now stale.
  EXPECT_EQ(registry_->Update(current).status().code(),
            absl::StatusCode::kAborted);
}

TEST_F(GroupRegistryTest, UpdateChannelKeepsChannelsUnique) {
  MustCreate(CreateRequest("web"));  // 1
  MustCreate(CreateRequest("api"));  // 2

  v1::UpdateGroupRequest clash;
  clash.set_name("api");
  clash.set_broadcast_channel(1);
  EXPECT_THAT(registry_->Update(clash),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       AllOf(HasSubstr("broadcast channel 1"),
                             HasSubstr("taken by group 'web'"))));
  EXPECT_EQ(MustGet("api").broadcast_channel(), 2u);

  // Keeping one's own channel is fine.
  v1::UpdateGroupRequest same;
  same.set_name("web");
  same.set_broadcast_channel(1);
  absl::StatusOr<v1::ServerGroup> web = registry_->Update(same);
  ASSERT_TRUE(web.ok()) << web.status();
  EXPECT_EQ(web->broadcast_channel(), 1u);

  v1::UpdateGroupRequest move;
  move.set_name("api");
  move.set_broadcast_channel(9);
  absl::StatusOr<v1::ServerGroup> api = registry_->Update(move);
  ASSERT_TRUE(api.ok()) << api.status();
  EXPECT_EQ(api->broadcast_channel(), 9u);
  EXPECT_EQ(ConfigValue("groups/api/broadcast/channel"), "9");

  // Channel 2 was freed; channel 9 is now taken by api.
  EXPECT_EQ(MustCreate(CreateRequest("new")).broadcast_channel(), 2u);
  EXPECT_THAT(registry_->Create(CreateRequest("other", 9)),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("taken by group 'api'")));
}

TEST_F(GroupRegistryTest, DeleteRemovesEveryGroupEntry) {
  MustCreate(CreateRequest("web"));
  MustCreate(CreateRequest("web2"));
  ASSERT_TRUE(config_->Set("groups/web/custom/flag", "on", std::nullopt).ok());
  ASSERT_TRUE(config_->Set("groups/web2/custom/flag", "on", std::nullopt).ok());
  ASSERT_TRUE(config_->Set("app/x", "1", std::nullopt).ok());

  ASSERT_TRUE(registry_->Delete("web").ok());
  EXPECT_THAT(config_->List("groups/web").entries(), IsEmpty());
  EXPECT_EQ(config_->List("groups/web2").entries_size(), 7);
  EXPECT_TRUE(config_->Get("app/x").ok());
  EXPECT_THAT(registry_->Get("web"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'web'")));
  ASSERT_EQ(registry_->List().size(), 1u);
  EXPECT_EQ(registry_->List()[0].name(), "web2");

  EXPECT_THAT(registry_->Delete("web"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no server group 'web'")));
  EXPECT_EQ(registry_->Delete("").code(), absl::StatusCode::kInvalidArgument);

  // The name can be used again, with fresh defaults.
  v1::ServerGroup again = MustCreate(CreateRequest("web"));
  EXPECT_EQ(again.settings().cache_type(), v1::DISTRIBUTED);
  EXPECT_EQ(config_->Get("groups/web/custom/flag").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(GroupRegistryTest, CheckConfigWriteNeedsExistingGroup) {
  EXPECT_THAT(CheckedWrite("groups/nope/cache/type", "LOCAL"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("no server group 'nope'"),
                             HasSubstr("CreateGroup"))));
  EXPECT_THAT(CheckedWrite("groups/nope/custom", "x"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no server group 'nope'")));
  EXPECT_EQ(Revision(), 0u);
}

TEST_F(GroupRegistryTest, CheckConfigWriteProtectsChannelAndCreateTime) {
  v1::ServerGroup web = MustCreate(CreateRequest("web"));
  EXPECT_THAT(CheckedWrite("groups/web/broadcast/channel", "5"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("only through UpdateGroup")));
  EXPECT_THAT(CheckedWrite("groups/web/broadcast/channel", std::nullopt),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("only through UpdateGroup")));
  EXPECT_THAT(CheckedWrite("groups/web/create_time", "0"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("only through UpdateGroup")));
  EXPECT_THAT(
      CheckedWrite("groups", "x"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reserved")));
  EXPECT_THAT(
      CheckedWrite("groups/web", "x"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reserved")));
  EXPECT_TRUE(ProtoEquals(MustGet("web"), web));
}

TEST_F(GroupRegistryTest, CheckConfigWriteValidatesSettings) {
  v1::ServerGroup web = MustCreate(CreateRequest("web"));
  const uint64_t revision = Revision();
  struct Bad {
    std::string path;
    std::string value;
    std::string message;
  };
  const std::vector<Bad> bad = {
      {"groups/web/cache/type", "BOGUS", "must be LOCAL or DISTRIBUTED"},
      {"groups/web/cache/type", "local", "must be LOCAL or DISTRIBUTED"},
      {"groups/web/cache/type", "CACHE_TYPE_UNSPECIFIED",
       "must be LOCAL or DISTRIBUTED"},
      {"groups/web/session/timeout_seconds", "0", "from 1 to 86400"},
      {"groups/web/session/timeout_seconds", "86401", "from 1 to 86400"},
      {"groups/web/session/timeout_seconds", "abc", "from 1 to 86400"},
      {"groups/web/near_cache/max_entries", "-1", "from 0 to 10000000"},
      {"groups/web/near_cache/max_entries", "10000001", "from 0 to 10000000"},
      {"groups/web/segmentation/max_wait_ms", "60001", "from 0 to 60000"},
  };
  for (const Bad& b : bad) {
    EXPECT_THAT(CheckedWrite(b.path, b.value),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(b.path), HasSubstr(b.message))))
        << b.path << " = " << b.value;
  }
  EXPECT_THAT(CheckedWrite("groups/web/cache/type", std::nullopt),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot be deleted")));
  EXPECT_EQ(Revision(), revision);
  EXPECT_TRUE(ProtoEquals(MustGet("web"), web));

  // Good values are accepted and show in the group.
  ASSERT_TRUE(CheckedWrite("groups/web/cache/type", "LOCAL").ok());
  ASSERT_TRUE(CheckedWrite("groups/web/session/timeout_seconds", "45").ok());
  ASSERT_TRUE(CheckedWrite("groups/web/near_cache/max_entries", "0").ok());
  absl::StatusOr<uint64_t> last =
      CheckedWrite("groups/web/segmentation/max_wait_ms", "60000");
  ASSERT_TRUE(last.ok()) << last.status();
  v1::ServerGroup updated = MustGet("web");
  EXPECT_EQ(updated.settings().cache_type(), v1::LOCAL);
  EXPECT_EQ(updated.settings().session_timeout_seconds().value(), 45u);
  EXPECT_EQ(updated.settings().near_cache_max_entries().value(), 0u);
  EXPECT_EQ(updated.settings().segmentation_max_wait_ms().value(), 60000u);
  EXPECT_EQ(updated.version(), *last);
  EXPECT_EQ(updated.broadcast_channel(), web.broadcast_channel());
}

TEST_F(GroupRegistryTest, CheckConfigWriteAllowsCustomKeysAndOtherPaths) {
  v1::ServerGroup web = MustCreate(CreateRequest("web"));
  absl::StatusOr<uint64_t> custom =
      CheckedWrite("groups/web/feature/new-ui", "on");
  ASSERT_TRUE(custom.ok()) << custom.status();
  EXPECT_EQ(ConfigValue("groups/web/feature/new-ui"), "on");
  // A custom key is part of the group: it bumps the group's version.
  EXPECT_EQ(MustGet("web").version(), *custom);
  ASSERT_TRUE(CheckedWrite("groups/web/feature/new-ui", std::nullopt).ok());

  // Paths outside groups/ are not checked.
  EXPECT_TRUE(CheckedWrite("app/anything", "x").ok());
  EXPECT_TRUE(CheckedWrite("groupsx/web/cache/type", "BOGUS").ok());
  EXPECT_TRUE(CheckedWrite("app/anything", std::nullopt).ok());

  // Direct checks against a view.
  ASSERT_TRUE(config_
                  ->Transact([](const ConfigStore::View& view) {
                    EXPECT_TRUE(GroupRegistry::CheckConfigWrite(
                                    view, {"other/path", std::string("v"),
                                           std::nullopt})
                                    .ok());
                    EXPECT_EQ(GroupRegistry::CheckConfigWrite(
                                  view, {"groups/web/cache/type",
                                         std::string("NOPE"), std::nullopt})
                                  .code(),
                              absl::StatusCode::kInvalidArgument);
                    return std::vector<ConfigWrite>();
                  })
                  .ok());
}

}  // namespace
}  // namespace parley::coordinator
