#include "services/coordinator/membership.h"

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/coordinator/durable_store.h"

namespace parley::coordinator {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using ::parley::testing::MakeTempDir;
using ::parley::testing::StatusIs;

v1::Member RuntimeServer(const std::string& id, const std::string& group,
                         const std::string& address = "10.0.0.1:7400") {
  v1::Member member;
  member.set_id(id);
  member.set_role(v1::RUNTIME_SERVER);
  member.set_group(group);
  member.set_address(address);
  return member;
}

v1::Member CacheNode(const std::string& id,
                     const std::string& address = "10.0.1.1:7500") {
  v1::Member member;
  member.set_id(id);
  member.set_role(v1::CACHE_NODE);
  member.set_address(address);
  return member;
}

std::vector<std::string> Ids(const v1::MembershipView& view) {
  std::vector<std::string> ids;
  for (const v1::Member& member : view.members()) ids.push_back(member.id());
  return ids;
}

// What a watcher saw, as "KIND:id" strings.
std::vector<std::string> Describe(
    const std::vector<v1::MembershipEvent>& events) {
  std::vector<std::string> described;
  for (const v1::MembershipEvent& event : events) {
    described.push_back(
        absl::StrCat(v1::MembershipEvent::Kind_Name(event.kind()), ":",
                     event.member().id()));
  }
  return described;
}

class MembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("membership_test");
    Open();
  }

  void TearDown() override {
    membership_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void Open() {
    absl::StatusOr<std::unique_ptr<DurableStore>> store =
        DurableStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    absl::StatusOr<std::unique_ptr<Membership>> membership =
        Membership::Load(store_.get(), [this] { return now_; });
    ASSERT_TRUE(membership.ok()) << membership.status();
    membership_ = std::move(*membership);
  }

  void Reopen() {
    membership_.reset();
    store_.reset();
    Open();
  }

  void Advance(absl::Duration d) { now_ += d; }

  Lease MustJoin(const v1::Member& member, uint32_t ttl_seconds) {
    absl::StatusOr<Lease> lease = membership_->Join(member, ttl_seconds);
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? *lease : Lease();
  }

  uint64_t Epoch() const {
    return membership_->List("", v1::MEMBER_ROLE_UNSPECIFIED).epoch();
  }

  std::vector<std::string> LiveIds() const {
    return Ids(membership_->List("", v1::MEMBER_ROLE_UNSPECIFIED));
  }

  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  std::string dir_;
  std::unique_ptr<DurableStore> store_;
  std::unique_ptr<Membership> membership_;
};

TEST_F(MembershipTest, JoinHeartbeatLeave) {
  EXPECT_EQ(Epoch(), 0u);
  v1::Member member = RuntimeServer("rs-1", "web");
  (*member.mutable_labels())["zone"] = "a";
  Lease lease = MustJoin(member, 10);
  EXPECT_NE(lease.lease_id, 0u);
  EXPECT_EQ(lease.ttl_seconds, 10u);
  EXPECT_EQ(lease.membership_epoch, 1u);

  v1::MembershipView view = membership_->List("", v1::MEMBER_ROLE_UNSPECIFIED);
  EXPECT_EQ(view.epoch(), 1u);
  ASSERT_EQ(view.members_size(), 1);
  const v1::Member& listed = view.members(0);
  EXPECT_EQ(listed.id(), "rs-1");
  EXPECT_EQ(listed.role(), v1::RUNTIME_SERVER);
  EXPECT_EQ(listed.group(), "web");
  EXPECT_EQ(listed.address(), "10.0.0.1:7400");
  EXPECT_EQ(listed.labels().at("zone"), "a");
  EXPECT_EQ(listed.join_time().seconds(), absl::ToUnixSeconds(now_));
  EXPECT_THAT(membership_->MembersOfGroup("web"), ElementsAre("rs-1"));
  std::optional<v1::Member> found = membership_->Find("rs-1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->group(), "web");
  EXPECT_FALSE(membership_->Find("rs-2").has_value());

  Advance(absl::Seconds(3));
  absl::StatusOr<Lease> renewed =
      membership_->Heartbeat("rs-1", lease.lease_id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->lease_id, lease.lease_id);
  EXPECT_EQ(renewed->ttl_seconds, 10u);
  EXPECT_EQ(renewed->membership_epoch, 1u);  // A heartbeat is no change.
  EXPECT_EQ(Epoch(), 1u);

  ASSERT_TRUE(membership_->Leave("rs-1", lease.lease_id).ok());
  EXPECT_THAT(LiveIds(), IsEmpty());
  EXPECT_THAT(membership_->MembersOfGroup("web"), IsEmpty());
  EXPECT_FALSE(membership_->Find("rs-1").has_value());
  EXPECT_EQ(Epoch(), 2u);

  EXPECT_THAT(membership_->Heartbeat("rs-1", lease.lease_id),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("member 'rs-1' holds no live lease")));
  EXPECT_THAT(membership_->Leave("rs-1", lease.lease_id),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("join again")));
  EXPECT_EQ(Epoch(), 2u);
}

TEST_F(MembershipTest, DefaultTtlIsFiveSeconds) {
  Lease lease = MustJoin(CacheNode("c-1"), 0);
  EXPECT_EQ(lease.ttl_seconds, kDefaultLeaseTtlSeconds);
  EXPECT_EQ(lease.ttl_seconds, 5u);
  Advance(absl::Seconds(5) - absl::Milliseconds(1));
  EXPECT_EQ(membership_->ExpireLapsed(), 0);
  Advance(absl::Milliseconds(2));
  EXPECT_EQ(membership_->ExpireLapsed(), 1);
  EXPECT_THAT(LiveIds(), IsEmpty());
}

TEST_F(MembershipTest, ValidateRejectsBadMembers) {
  EXPECT_TRUE(Membership::Validate(RuntimeServer("rs-1", "web"), 0).ok());
  EXPECT_TRUE(Membership::Validate(CacheNode("c-1"), 300).ok());

  EXPECT_THAT(Membership::Validate(RuntimeServer("", "web"), 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("member.id is empty")));
  EXPECT_THAT(
      Membership::Validate(RuntimeServer("bad id", "web"), 0),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("member.id")));

  v1::Member no_role = RuntimeServer("rs-1", "web");
  no_role.set_role(v1::MEMBER_ROLE_UNSPECIFIED);
  EXPECT_THAT(Membership::Validate(no_role, 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("member.role must be RUNTIME_SERVER or "
                                 "CACHE_NODE")));
  v1::Member odd_role = RuntimeServer("rs-1", "web");
  odd_role.set_role(static_cast<v1::MemberRole>(9));
  EXPECT_EQ(Membership::Validate(odd_role, 0).code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_THAT(Membership::Validate(RuntimeServer("rs-1", ""), 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("member.group is empty")));
  EXPECT_THAT(
      Membership::Validate(RuntimeServer("rs-1", "Web"), 0),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("member.group")));

  v1::Member cache_with_group = CacheNode("c-1");
  cache_with_group.set_group("web");
  EXPECT_THAT(Membership::Validate(cache_with_group, 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be empty for a CACHE_NODE")));

  for (const char* address :
       {"", "no-port", "host:0", "host:65536", ":80", "host:port"}) {
    EXPECT_THAT(Membership::Validate(RuntimeServer("rs-1", "web", address), 0),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("member.address")))
        << "address '" << address << "'";
  }

  v1::Member many_labels = CacheNode("c-1");
  for (int i = 0; i < 33; ++i) {
    (*many_labels.mutable_labels())[absl::StrCat("k", i)] = "v";
  }
  EXPECT_THAT(Membership::Validate(many_labels, 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("more than 32 labels")));
  v1::Member empty_label_key = CacheNode("c-1");
  (*empty_label_key.mutable_labels())[""] = "v";
  EXPECT_THAT(
      Membership::Validate(empty_label_key, 0),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("member.labels")));

  EXPECT_THAT(Membership::Validate(CacheNode("c-1"), 301),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ttl_seconds must be at most 300")));
}

TEST_F(MembershipTest, JoinValidatesAndChangesNothingOnError) {
  MustJoin(CacheNode("c-1"), 10);
  const uint64_t epoch = Epoch();
  EXPECT_THAT(
      membership_->Join(RuntimeServer("rs-1", ""), 10),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("member.group")));
  EXPECT_THAT(membership_->Join(CacheNode("c-2"), 301),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ttl_seconds must be at most 300")));
  EXPECT_EQ(Epoch(), epoch);
  EXPECT_THAT(LiveIds(), ElementsAre("c-1"));
  EXPECT_EQ(membership_->Heartbeat("", 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(membership_->Leave("", 1).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(MembershipTest, ExpireLapsedRemovesExactlyLapsedMembers) {
  std::vector<v1::MembershipEvent> events;
  v1::MembershipEvent full_view;
  membership_->Watch(
      "", v1::MEMBER_ROLE_UNSPECIFIED,
      [&](const v1::MembershipEvent& event) { events.push_back(event); },
      &full_view);

  Lease a = MustJoin(CacheNode("a"), 5);
  Lease b = MustJoin(CacheNode("b"), 10);
  Lease c = MustJoin(RuntimeServer("c", "web"), 20);

  Advance(absl::Seconds(4));                                  // t=4
  ASSERT_TRUE(membership_->Heartbeat("a", a.lease_id).ok());  // a: until 9
  EXPECT_EQ(membership_->ExpireLapsed(), 0);

  Advance(absl::Seconds(4));  // t=8: a's original deadline (5) has passed.
  EXPECT_EQ(membership_->ExpireLapsed(), 0);
  EXPECT_THAT(LiveIds(), ElementsAre("a", "b", "c"));

  Advance(absl::Milliseconds(1500));  // t=9.5: only a lapsed.
  EXPECT_EQ(membership_->ExpireLapsed(), 1);
  EXPECT_THAT(LiveIds(), ElementsAre("b", "c"));
  EXPECT_EQ(membership_->ExpireLapsed(), 0);  // Nothing twice.

  Advance(absl::Milliseconds(499));  // t=9.999: b still live.
  EXPECT_EQ(membership_->ExpireLapsed(), 0);
  Advance(absl::Milliseconds(2));  // t=10.001
  EXPECT_EQ(membership_->ExpireLapsed(), 1);
  EXPECT_THAT(LiveIds(), ElementsAre("c"));

  Advance(absl::Seconds(30));
  EXPECT_EQ(membership_->ExpireLapsed(), 1);
  EXPECT_THAT(LiveIds(), IsEmpty());

  EXPECT_THAT(Describe(events),
              ElementsAre("JOINED:a", "JOINED:b", "JOINED:c", "EXPIRED:a",
                          "EXPIRED:b", "EXPIRED:c"));
  // An expired lease cannot be renewed or released.
  EXPECT_EQ(membership_->Heartbeat("a", a.lease_id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(membership_->Leave("b", b.lease_id).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(membership_->Heartbeat("c", c.lease_id).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(MembershipTest, WrongLeaseIdIsNotFound) {
  Lease lease = MustJoin(RuntimeServer("rs-1", "web"), 10);
  const uint64_t wrong = lease.lease_id + 1;
  EXPECT_THAT(membership_->Heartbeat("rs-1", wrong),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("'rs-1'"),
                             HasSubstr(absl::StrCat("lease ", wrong)))));
  EXPECT_EQ(membership_->Leave("rs-1", wrong).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(membership_->Heartbeat("rs-2", lease.lease_id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(LiveIds(), ElementsAre("rs-1"));
  EXPECT_EQ(Epoch(), 1u);
}

TEST_F(MembershipTest, RejoinReplacesLease) {
  std::vector<v1::MembershipEvent> events;
  v1::MembershipEvent full_view;
  membership_->Watch(
      "", v1::MEMBER_ROLE_UNSPECIFIED,
      [&](const v1::MembershipEvent& event) { events.push_back(event); },
      &full_view);

  Lease first = MustJoin(RuntimeServer("rs-1", "web", "10.0.0.1:7400"), 10);
  Advance(absl::Seconds(2));
  Lease second = MustJoin(RuntimeServer("rs-1", "web", "10.0.0.2:7400"), 20);
  EXPECT_NE(second.lease_id, first.lease_id);
  EXPECT_EQ(second.ttl_seconds, 20u);
  EXPECT_GT(second.membership_epoch, first.membership_epoch);

  v1::MembershipView view = membership_->List("", v1::MEMBER_ROLE_UNSPECIFIED);
  ASSERT_EQ(view.members_size(), 1);
  EXPECT_EQ(view.members(0).address(), "10.0.0.2:7400");
  EXPECT_EQ(view.members(0).join_time().seconds(), absl::ToUnixSeconds(now_));

  EXPECT_THAT(Describe(events), ElementsAre("JOINED:rs-1", "UPDATED:rs-1"));
  EXPECT_EQ(events[1].member().address(), "10.0.0.2:7400");

  // The old lease is dead; the new one works.
  EXPECT_EQ(membership_->Heartbeat("rs-1", first.lease_id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(membership_->Leave("rs-1", first.lease_id).code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(LiveIds(), ElementsAre("rs-1"));
  ASSERT_TRUE(membership_->Heartbeat("rs-1", second.lease_id).ok());

  // The new TTL applies: still live after the old 10 s would have lapsed.
  Advance(absl::Seconds(15));
  EXPECT_EQ(membership_->ExpireLapsed(), 0);
  ASSERT_TRUE(membership_->Leave("rs-1", second.lease_id).ok());
}

TEST_F(MembershipTest, EpochGrowsOnEveryChange) {
  std::vector<uint64_t> epochs;
  epochs.push_back(MustJoin(CacheNode("c-1"), 5).membership_epoch);
  Lease rs = MustJoin(RuntimeServer("rs-1", "web"), 30);
  epochs.push_back(rs.membership_epoch);
  epochs.push_back(MustJoin(CacheNode("c-1"), 5).membership_epoch);  // rejoin
  epochs.push_back(Epoch());
  ASSERT_TRUE(membership_->Heartbeat("rs-1", rs.lease_id).ok());
  EXPECT_EQ(Epoch(), epochs.back());  // A heartbeat changes nothing.
  Advance(absl::Seconds(6));
  ASSERT_EQ(membership_->ExpireLapsed(), 1);  // c-1
  epochs.push_back(Epoch());
  ASSERT_TRUE(membership_->Leave("rs-1", rs.lease_id).ok());
  epochs.push_back(Epoch());
  EXPECT_THAT(epochs, ElementsAre(1, 2, 3, 3, 4, 5));
}

TEST_F(MembershipTest, WatchersGetFullViewThenFilteredChanges) {
  Lease web_1 = MustJoin(RuntimeServer("web-1", "web"), 10);
  MustJoin(RuntimeServer("api-1", "api"), 10);
  MustJoin(CacheNode("cache-1"), 10);

  std::vector<v1::MembershipEvent> web_events;
  std::vector<v1::MembershipEvent> cache_events;
  std::vector<v1::MembershipEvent> all_events;
  v1::MembershipEvent web_view;
  v1::MembershipEvent cache_view;
  v1::MembershipEvent all_view;
  const uint64_t web_id = membership_->Watch(
      "web", v1::RUNTIME_SERVER,
      [&](const v1::MembershipEvent& e) { web_events.push_back(e); },
      &web_view);
  const uint64_t cache_id = membership_->Watch(
      "", v1::CACHE_NODE,
      [&](const v1::MembershipEvent& e) { cache_events.push_back(e); },
      &cache_view);
  const uint64_t all_id = membership_->Watch(
      "", v1::MEMBER_ROLE_UNSPECIFIED,
      [&](const v1::MembershipEvent& e) { all_events.push_back(e); },
      &all_view);

  EXPECT_EQ(web_view.kind(), v1::MembershipEvent::FULL_VIEW);
  EXPECT_EQ(web_view.epoch(), 3u);
  EXPECT_EQ(web_view.view().epoch(), 3u);
  EXPECT_THAT(Ids(web_view.view()), ElementsAre("web-1"));
  EXPECT_EQ(cache_view.kind(), v1::MembershipEvent::FULL_VIEW);
  EXPECT_THAT(Ids(cache_view.view()), ElementsAre("cache-1"));
  EXPECT_THAT(Ids(all_view.view()),
              UnorderedElementsAre("web-1", "api-1", "cache-1"));

  Lease web_2 = MustJoin(RuntimeServer("web-2", "web"), 5);       // epoch 4
  MustJoin(RuntimeServer("api-2", "api"), 10);                    // 5
  MustJoin(CacheNode("cache-2"), 5);                              // 6
  MustJoin(RuntimeServer("web-1", "web", "10.9.9.9:1"), 10);      // 7 UPDATED
  ASSERT_TRUE(membership_->Leave("web-2", web_2.lease_id).ok());  // 8
  Advance(absl::Seconds(6));
  ASSERT_EQ(membership_->ExpireLapsed(), 1);  // 9: cache-2 EXPIRED
  EXPECT_EQ(membership_->Heartbeat("web-1", web_1.lease_id).status().code(),
            absl::StatusCode::kNotFound);  // Replaced by the rejoin.

  EXPECT_THAT(Describe(web_events),
              ElementsAre("JOINED:web-2", "UPDATED:web-1", "LEFT:web-2"));
  EXPECT_THAT(Describe(cache_events),
              ElementsAre("JOINED:cache-2", "EXPIRED:cache-2"));
  EXPECT_THAT(Describe(all_events),
              ElementsAre("JOINED:web-2", "JOINED:api-2", "JOINED:cache-2",
                          "UPDATED:web-1", "LEFT:web-2", "EXPIRED:cache-2"));
  std::vector<uint64_t> all_epochs;
  for (const v1::MembershipEvent& e : all_events) {
    all_epochs.push_back(e.epoch());
  }
  EXPECT_THAT(all_epochs, ElementsAre(4, 5, 6, 7, 8, 9));
  EXPECT_EQ(web_events[1].member().address(), "10.9.9.9:1");
  EXPECT_EQ(web_events[0].epoch(), 4u);
  EXPECT_EQ(cache_events[1].epoch(), 9u);

  // After Unwatch a watcher gets nothing more.
  membership_->Unwatch(web_id);
  membership_->Unwatch(cache_id);
  MustJoin(RuntimeServer("web-3", "web"), 10);
  MustJoin(CacheNode("cache-3"), 10);
  EXPECT_EQ(web_events.size(), 3u);
  EXPECT_EQ(cache_events.size(), 2u);
  EXPECT_EQ(all_events.size(), 8u);
  membership_->Unwatch(all_id);
}

// A watcher that keeps its own view from FULL_VIEW plus the changes, the way
// WatchMembership clients do.
class ViewKeeper {
 public:
  ViewKeeper(Membership* membership, const std::string& group,
             v1::MemberRole role)
      : group_(group), role_(role) {
    v1::MembershipEvent full_view;
    membership->Watch(
        group, role, [this](const v1::MembershipEvent& e) { Apply(e); },
        &full_view);
    for (const v1::Member& member : full_view.view().members()) {
      members_[member.id()] = member;
    }
  }

  std::vector<std::string> Ids() const {
    std::vector<std::string> ids;
    for (const auto& [id, member] : members_) ids.push_back(id);
    return ids;
  }

 private:
  void Apply(const v1::MembershipEvent& event) {
    const v1::Member& member = event.member();
    const bool matches =
        (group_.empty() || member.group() == group_) &&
        (role_ == v1::MEMBER_ROLE_UNSPECIFIED || member.role() == role_);
    if ((event.kind() == v1::MembershipEvent::JOINED ||
         event.kind() == v1::MembershipEvent::UPDATED) &&
        matches) {
      members_[member.id()] = member;
    } else {
      members_.erase(member.id());
    }
  }

  const std::string group_;
  const v1::MemberRole role_;
  std::map<std::string, v1::Member> members_;
};

// A runtime server that re-joins in another group (DeleteGroup's error tells
// operators to move members) must disappear from the old group's watchers,
// as it does from List().
TEST_F(MembershipTest, WatchersOfOldGroupSeeMemberMoveAway) {
  ViewKeeper web(membership_.get(), "web", v1::RUNTIME_SERVER);
  ViewKeeper api(membership_.get(), "api", v1::RUNTIME_SERVER);
  MustJoin(RuntimeServer("rs-1", "web"), 30);
  MustJoin(RuntimeServer("rs-2", "web"), 30);
  EXPECT_THAT(web.Ids(), ElementsAre("rs-1", "rs-2"));

  Lease moved = MustJoin(RuntimeServer("rs-1", "api"), 30);
  EXPECT_THAT(Ids(membership_->List("web", v1::RUNTIME_SERVER)),
              ElementsAre("rs-2"));
  EXPECT_THAT(api.Ids(), ElementsAre("rs-1"));
  EXPECT_THAT(web.Ids(), ElementsAre("rs-2"))
      << "the 'web' watcher still holds rs-1 after it moved to 'api'";

  // Even after it leaves, the old group's watcher is never told.
  ASSERT_TRUE(membership_->Leave("rs-1", moved.lease_id).ok());
  EXPECT_THAT(api.Ids(), IsEmpty());
  EXPECT_THAT(web.Ids(), ElementsAre("rs-2"))
      << "the 'web' watcher holds rs-1 forever";
}

TEST_F(MembershipTest, ListFilters) {
  MustJoin(RuntimeServer("web-1", "web"), 10);
  MustJoin(RuntimeServer("web-2", "web"), 10);
  MustJoin(RuntimeServer("api-1", "api"), 10);
  MustJoin(CacheNode("cache-1"), 10);
  EXPECT_THAT(Ids(membership_->List("web", v1::MEMBER_ROLE_UNSPECIFIED)),
              ElementsAre("web-1", "web-2"));
  EXPECT_THAT(Ids(membership_->List("", v1::CACHE_NODE)),
              ElementsAre("cache-1"));
  EXPECT_THAT(Ids(membership_->List("", v1::RUNTIME_SERVER)),
              ElementsAre("api-1", "web-1", "web-2"));
  EXPECT_THAT(Ids(membership_->List("web", v1::CACHE_NODE)), IsEmpty());
  EXPECT_THAT(membership_->MembersOfGroup("api"), ElementsAre("api-1"));
  EXPECT_THAT(membership_->MembersOfGroup("none"), IsEmpty());
}

TEST_F(MembershipTest, ReloadGivesShortLeasesTimeToHeartbeat) {
  MustJoin(CacheNode("a"), 2);
  Reopen();
  // Members need a moment to reconnect after a restart: a 2 s lease lasts
  // 10 s from the reload.
  Advance(absl::Seconds(9));
  EXPECT_EQ(membership_->ExpireLapsed(), 0);
  Advance(absl::Seconds(2));
  EXPECT_EQ(membership_->ExpireLapsed(), 1);
}

TEST_F(MembershipTest, ReloadKeepsMembersWithFreshDeadlineAndEpoch) {
  Lease a = MustJoin(CacheNode("a"), 10);
  Lease b = MustJoin(RuntimeServer("b", "web"), 30);
  Lease c = MustJoin(CacheNode("c"), 10);
  ASSERT_TRUE(membership_->Leave("c", c.lease_id).ok());
  const uint64_t epoch = Epoch();
  ASSERT_EQ(epoch, 4u);
  const int64_t b_join = absl::ToUnixSeconds(now_);

  Advance(absl::Seconds(8));  // a's deadline is at t=10.
  Reopen();

  v1::MembershipView view = membership_->List("", v1::MEMBER_ROLE_UNSPECIFIED);
  EXPECT_EQ(view.epoch(), epoch);
  EXPECT_THAT(Ids(view), ElementsAre("a", "b"));
  EXPECT_EQ(view.members(1).group(), "web");
  EXPECT_EQ(view.members(1).role(), v1::RUNTIME_SERVER);
  EXPECT_EQ(view.members(1).join_time().seconds(), b_join);

  // Fresh deadline: a lives until t=8+10, not t=10.
  Advance(absl::Seconds(4));  // t=12
  EXPECT_EQ(membership_->ExpireLapsed(), 0);
  // Leases survive the reload.
  absl::StatusOr<Lease> renewed = membership_->Heartbeat("b", b.lease_id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->ttl_seconds, 30u);
  EXPECT_EQ(membership_->Heartbeat("c", c.lease_id).status().code(),
            absl::StatusCode::kNotFound);

  Advance(absl::Seconds(7));  // t=19: a lapses (deadline 18).
  EXPECT_EQ(membership_->ExpireLapsed(), 1);
  EXPECT_THAT(LiveIds(), ElementsAre("b"));
  EXPECT_EQ(membership_->Heartbeat("a", a.lease_id).status().code(),
            absl::StatusCode::kNotFound);

  // The epoch keeps growing: never reused after a restart.
  EXPECT_EQ(Epoch(), epoch + 1);
  Lease d = MustJoin(CacheNode("d"), 10);
  EXPECT_EQ(d.membership_epoch, epoch + 2);

  // The expiry and the join persist too.
  Reopen();
  EXPECT_EQ(Epoch(), epoch + 2);
  EXPECT_THAT(LiveIds(), ElementsAre("b", "d"));
  EXPECT_GT(MustJoin(CacheNode("e"), 10).membership_epoch, epoch + 2);
}

}  // namespace
}  // namespace parley::coordinator
