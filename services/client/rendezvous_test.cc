#include "services/client/rendezvous.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace parley::client {
namespace {

constexpr int kKeys = 10000;

std::vector<std::string> Members(int count) {
  std::vector<std::string> ids;
  for (int i = 1; i <= count; ++i) ids.push_back(absl::StrCat("runtime-", i));
  return ids;
}

std::string Key(int i) { return absl::StrCat("session-", i); }

// The member each key goes to.
std::vector<std::string> Owners(const std::vector<std::string>& ids) {
  std::vector<std::string> owners;
  for (int i = 0; i < kKeys; ++i)
    owners.push_back(ids[RendezvousOrder(ids, Key(i))[0]]);
  return owners;
}

TEST(RendezvousTest, WeightIsThePublishedHash) {
  // Pinned: other clients compute the same weights (see rendezvous.h).
  EXPECT_EQ(RendezvousWeight("", ""), 0xb9034ad37056f5fbULL);
  EXPECT_EQ(RendezvousWeight("runtime-1", "session-42"), 0xc7d9006e5db45fbcULL);
  EXPECT_EQ(RendezvousWeight("runtime-2", "session-42"), 0x9d30689005f333bbULL);
  EXPECT_EQ(RendezvousWeight("127.0.0.1:7601", "visit-1"),
            0x62765ecfa422788fULL);
  // The separator keeps the parts apart.
  EXPECT_NE(RendezvousWeight("ab", "c"), RendezvousWeight("a", "bc"));
}

TEST(RendezvousTest, OrderIsStableAndIndependentOfListOrder) {
  std::vector<std::string> ids = Members(5);
  std::vector<std::string> reversed(ids.rbegin(), ids.rend());
  for (int i = 0; i < 1000; ++i) {
    std::vector<size_t> order = RendezvousOrder(ids, Key(i));
    ASSERT_EQ(order.size(), ids.size());
    EXPECT_EQ(order, RendezvousOrder(ids, Key(i)));
    std::vector<size_t> other = RendezvousOrder(reversed, Key(i));
    for (size_t j = 0; j < order.size(); ++j) {
      EXPECT_EQ(ids[order[j]], reversed[other[j]]);
    }
  }
}

TEST(RendezvousTest, EmptyAndSingleMember) {
  EXPECT_TRUE(RendezvousOrder({}, "s").empty());
  EXPECT_EQ(RendezvousOrder({"only"}, "s"), std::vector<size_t>{0});
}

TEST(RendezvousTest, KeysSpreadEvenly) {
  for (int n : {2, 3, 4, 8}) {
    std::map<std::string, int> counts;
    for (const std::string& owner : Owners(Members(n))) ++counts[owner];
    ASSERT_EQ(counts.size(), static_cast<size_t>(n));
    for (const auto& [id, count] : counts) {
      // Within 10% of the even share (several standard deviations).
      EXPECT_NEAR(count, kKeys / n, kKeys / n / 10) << n << " members, " << id;
    }
  }
}

TEST(RendezvousTest, AJoiningMemberTakesAboutOneNthFromEveryone) {
  for (int n : {3, 4, 8}) {
    std::vector<std::string> before_ids = Members(n - 1);
    std::vector<std::string> after_ids = Members(n);
    std::vector<std::string> before = Owners(before_ids);
    std::vector<std::string> after = Owners(after_ids);
    int moved = 0;
    std::map<std::string, int> taken_from;
    for (int i = 0; i < kKeys; ++i) {
      if (before[i] == after[i]) continue;
      ++moved;
      // Only to the new member.
      EXPECT_EQ(after[i], after_ids.back()) << Key(i);
      ++taken_from[before[i]];
    }
    const double fraction = static_cast<double>(moved) / kKeys;
    EXPECT_NEAR(fraction, 1.0 / n, 0.02) << n << " members";
    // From every old member alike.
    ASSERT_EQ(taken_from.size(), before_ids.size());
    for (const auto& [id, count] : taken_from) {
      EXPECT_NEAR(count, moved / (n - 1), moved / (n - 1) / 5) << id;
    }
  }
}

TEST(RendezvousTest, OnlyALeavingMembersKeysMoveAndTheySpreadEvenly) {
  std::vector<std::string> ids = Members(5);
  std::vector<std::string> before = Owners(ids);
  std::vector<std::string> remaining = ids;
  remaining.erase(remaining.begin() + 2);  // runtime-3 leaves.
  std::vector<std::string> after = Owners(remaining);
  std::map<std::string, int> heirs;
  int orphans = 0;
  for (int i = 0; i < kKeys; ++i) {
    if (before[i] != "runtime-3") {
      EXPECT_EQ(after[i], before[i]) << Key(i);
      continue;
    }
    ++orphans;
    ++heirs[after[i]];
    // Each goes where its order said it would fall back to.
    std::vector<size_t> order = RendezvousOrder(ids, Key(i));
    EXPECT_EQ(after[i], ids[order[1]]);
  }
  ASSERT_EQ(heirs.size(), remaining.size());
  for (const auto& [id, count] : heirs) {
    EXPECT_NEAR(count, orphans / 4, orphans / 4 / 5) << id;
  }
}

}  // namespace
}  // namespace parley::client
