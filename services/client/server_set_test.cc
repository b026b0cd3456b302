#include "services/client/server_set.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/client/rendezvous.h"

namespace parley::client {
namespace {

v1::Member Runtime(const std::string& id, const std::string& address) {
  v1::Member member;
  member.set_id(id);
  member.set_role(v1::RUNTIME_SERVER);
  member.set_group("g");
  member.set_address(address);
  return member;
}

v1::MembershipEvent Event(v1::MembershipEvent::Kind kind,
                          const v1::Member& member) {
  v1::MembershipEvent event;
  event.set_kind(kind);
  *event.mutable_member() = member;
  return event;
}

v1::MembershipEvent FullView(const std::vector<v1::Member>& members) {
  v1::MembershipEvent event;
  event.set_kind(v1::MembershipEvent::FULL_VIEW);
  for (const v1::Member& member : members) {
    *event.mutable_view()->add_members() = member;
  }
  return event;
}

std::vector<std::string> Ids(const std::vector<Server>& servers) {
  std::vector<std::string> ids;
  for (const Server& server : servers) ids.push_back(server.id);
  return ids;
}

class ServerSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(set_.Apply(FullView({Runtime("r1", "127.0.0.1:1001"),
                                     Runtime("r2", "127.0.0.1:1002"),
                                     Runtime("r3", "127.0.0.1:1003")})));
  }

  ServerSet set_;
  const absl::Time now_ = absl::Now();
};

TEST_F(ServerSetTest, FullViewReplacesAndEventsApply) {
  EXPECT_EQ(Ids(set_.servers()), (std::vector<std::string>{"r1", "r2", "r3"}));
  EXPECT_TRUE(set_.Apply(
      Event(v1::MembershipEvent::JOINED, Runtime("r4", "127.0.0.1:1004"))));
  EXPECT_TRUE(set_.Apply(
      Event(v1::MembershipEvent::LEFT, Runtime("r1", "127.0.0.1:1001"))));
  EXPECT_TRUE(set_.Apply(
      Event(v1::MembershipEvent::EXPIRED, Runtime("r2", "127.0.0.1:1002"))));
  EXPECT_TRUE(set_.Apply(
      Event(v1::MembershipEvent::UPDATED, Runtime("r3", "127.0.0.1:2003"))));
  EXPECT_EQ(set_.servers(), (std::vector<Server>{{"r3", "127.0.0.1:2003"},
                                                 {"r4", "127.0.0.1:1004"}}));
  // Nothing new.
  EXPECT_FALSE(set_.Apply(
      Event(v1::MembershipEvent::UPDATED, Runtime("r3", "127.0.0.1:2003"))));
  EXPECT_TRUE(set_.Apply(FullView({Runtime("r9", "127.0.0.1:1009")})));
  EXPECT_EQ(Ids(set_.servers()), std::vector<std::string>{"r9"});
}

TEST_F(ServerSetTest, OnlyRuntimeServersWithAnAddressCount) {
  v1::Member cache = Runtime("c1", "127.0.0.1:7501");
  cache.set_role(v1::CACHE_NODE);
  EXPECT_FALSE(set_.Apply(Event(v1::MembershipEvent::JOINED, cache)));
  EXPECT_FALSE(
      set_.Apply(Event(v1::MembershipEvent::JOINED, Runtime("r5", ""))));
  EXPECT_EQ(set_.servers().size(), 3u);
}

TEST_F(ServerSetTest, SessionOrderIsRendezvousOrder) {
  for (int i = 0; i < 100; ++i) {
    const std::string key = absl::StrCat("s", i);
    std::vector<std::string> ids = {"r1", "r2", "r3"};
    std::vector<std::string> expected;
    for (size_t j : RendezvousOrder(ids, key)) expected.push_back(ids[j]);
    EXPECT_EQ(Ids(set_.ForSession(key, now_)), expected) << key;
  }
}

TEST_F(ServerSetTest, DemotedServersGoLastUntilTheirTimeIsUp) {
  std::vector<std::string> order = Ids(set_.ForSession("s", now_));
  set_.Demote(order[0], now_ + absl::Seconds(5));
  EXPECT_EQ(Ids(set_.ForSession("s", now_)),
            (std::vector<std::string>{order[1], order[2], order[0]}));
  EXPECT_EQ(Ids(set_.ForSession("s", now_ + absl::Seconds(6))), order);
  set_.Restore(order[0]);
  EXPECT_EQ(Ids(set_.ForSession("s", now_)), order);
  // Everyone demoted: the rendezvous order again.
  for (const std::string& id : order) set_.Demote(id, now_ + absl::Seconds(1));
  EXPECT_EQ(Ids(set_.ForSession("s", now_)), order);
}

TEST_F(ServerSetTest, ADemotionEndsWhenTheServerMoves) {
  set_.Demote("r1", now_ + absl::Minutes(1));
  set_.Apply(
      Event(v1::MembershipEvent::UPDATED, Runtime("r1", "127.0.0.1:3001")));
  for (int i = 0; i < 50; ++i) {
    const std::string key = absl::StrCat("s", i);
    std::vector<std::string> ids = {"r1", "r2", "r3"};
    EXPECT_EQ(set_.ForSession(key, now_).front().id,
              ids[RendezvousOrder(ids, key)[0]]);
  }
}

TEST_F(ServerSetTest, AnyServerTakesTurns) {
  EXPECT_EQ(Ids(set_.ForAny(0, now_)),
            (std::vector<std::string>{"r1", "r2", "r3"}));
  EXPECT_EQ(Ids(set_.ForAny(4, now_)),
            (std::vector<std::string>{"r2", "r3", "r1"}));
  set_.Demote("r2", now_ + absl::Seconds(1));
  EXPECT_EQ(Ids(set_.ForAny(1, now_)),
            (std::vector<std::string>{"r3", "r1", "r2"}));
}

TEST(ServerSetStaticTest, AddressesAreTheirOwnIds) {
  ServerSet set;
  EXPECT_TRUE(set.ForSession("s", absl::Now()).empty());
  EXPECT_TRUE(set.ForAny(3, absl::Now()).empty());
  set.SetStatic({"127.0.0.1:2", "127.0.0.1:1", "127.0.0.1:2"});
  EXPECT_EQ(set.servers(),
            (std::vector<Server>{{"127.0.0.1:1", "127.0.0.1:1"},
                                 {"127.0.0.1:2", "127.0.0.1:2"}}));
}

}  // namespace
}  // namespace parley::client
