#include "services/coordinator/partition_assignment.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace parley::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using Assignment = std::vector<ReplicaList>;

std::vector<std::string> Nodes(int count) {
  std::vector<std::string> nodes;
  for (int i = 0; i < count; ++i) nodes.push_back("cache-" + std::to_string(i));
  return nodes;
}

int CeilDiv(int a, int b) { return (a + b - 1) / b; }

bool Contains(const ReplicaList& list, const std::string& node) {
  return std::find(list.begin(), list.end(), node) != list.end();
}

// Every partition has min(R, N) distinct live nodes.
::testing::AssertionResult IsValid(const Assignment& assignment,
                                   const std::vector<std::string>& live,
                                   int partitions, int replicas) {
  if (static_cast<int>(assignment.size()) != partitions) {
    return ::testing::AssertionFailure()
           << "size " << assignment.size() << " != " << partitions;
  }
  const std::set<std::string> live_set(live.begin(), live.end());
  const size_t expected =
      std::min<size_t>(static_cast<size_t>(replicas), live_set.size());
  for (int p = 0; p < partitions; ++p) {
    const ReplicaList& list = assignment[p];
    if (list.size() != expected) {
      return ::testing::AssertionFailure()
             << "partition " << p << " has " << list.size() << " replicas";
    }
    if (std::set<std::string>(list.begin(), list.end()).size() != list.size()) {
      return ::testing::AssertionFailure()
             << "partition " << p << " repeats a node";
    }
    for (const std::string& node : list) {
      if (live_set.count(node) == 0) {
        return ::testing::AssertionFailure()
               << "partition " << p << " names dead node " << node;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// Replica loads within [floor - slack, ceil + slack] of P*R_eff/N and primary
// loads within [floor - slack, ceil + slack] of P/N.
::testing::AssertionResult IsBalanced(const Assignment& assignment,
                                      const std::vector<std::string>& live,
                                      int replicas, int slack) {
  const int n = static_cast<int>(live.size());
  const int p = static_cast<int>(assignment.size());
  const int total = p * std::min(replicas, n);
  const auto loads = CountReplicasPerNode(assignment);
  const auto primaries = CountPrimariesPerNode(assignment);
  for (const std::string& node : live) {
    const auto load_it = loads.find(node);
    const int load = load_it == loads.end() ? 0 : load_it->second;
    if (load > CeilDiv(total, n) + slack || load < total / n - slack) {
      return ::testing::AssertionFailure()
             << node << " holds " << load << " replicas; expected " << total / n
             << ".." << CeilDiv(total, n) << " +-" << slack;
    }
    const auto primary_it = primaries.find(node);
    const int primary = primary_it == primaries.end() ? 0 : primary_it->second;
    if (primary > CeilDiv(p, n) + slack || primary < p / n - slack) {
      return ::testing::AssertionFailure()
             << node << " is primary of " << primary << "; expected " << p / n
             << ".." << CeilDiv(p, n) << " +-" << slack;
    }
  }
  return ::testing::AssertionSuccess();
}

// Partitions whose primary changed to a node other than `except`, among those
// whose previous primary is still in the partition.
int ChangedSurvivingPrimaries(const Assignment& before, const Assignment& after,
                              const std::string& except) {
  int changed = 0;
  for (size_t p = 0; p < after.size() && p < before.size(); ++p) {
    if (before[p].empty() || after[p].empty()) continue;
    if (!Contains(after[p], before[p][0])) continue;
    if (after[p][0] != before[p][0] && after[p][0] != except) ++changed;
  }
  return changed;
}

class FreshAssignmentTest
    : public ::testing::TestWithParam<std::tuple<int, int, int>> {};

TEST_P(FreshAssignmentTest, ValidAndTightlyBalanced) {
  const auto [partitions, replicas, node_count] = GetParam();
  const std::vector<std::string> live = Nodes(node_count);
  const Assignment assignment =
      AssignPartitions({}, live, partitions, replicas);
  EXPECT_TRUE(IsValid(assignment, live, partitions, replicas));
  EXPECT_TRUE(IsBalanced(assignment, live, replicas, /*slack=*/0));
  EXPECT_EQ(CountMovedAssignments({}, assignment),
            partitions * std::min(replicas, node_count));
}

INSTANTIATE_TEST_SUITE_P(
    Combos, FreshAssignmentTest,
    ::testing::Values(std::make_tuple(256, 3, 10), std::make_tuple(256, 3, 1),
                      std::make_tuple(256, 3, 2), std::make_tuple(256, 3, 3),
                      std::make_tuple(256, 3, 12), std::make_tuple(256, 1, 7),
                      std::make_tuple(256, 2, 5), std::make_tuple(256, 5, 9),
                      std::make_tuple(16, 3, 5), std::make_tuple(1, 3, 5),
                      std::make_tuple(7, 5, 3), std::make_tuple(100, 3, 100),
                      std::make_tuple(4096, 3, 100)));

TEST(AssignPartitionsTest, NoLiveNodesGivesEmptyLists) {
  const Assignment previous = AssignPartitions({}, Nodes(4), 32, 3);
  for (const Assignment& prev : {Assignment{}, previous}) {
    const Assignment assignment = AssignPartitions(prev, {}, 32, 3);
    ASSERT_EQ(assignment.size(), 32u);
    for (const ReplicaList& list : assignment) EXPECT_TRUE(list.empty());
  }
}

TEST(AssignPartitionsTest, DegenerateCounts) {
  EXPECT_TRUE(AssignPartitions({}, Nodes(3), 0, 3).empty());
  EXPECT_TRUE(AssignPartitions({}, Nodes(3), -5, 3).empty());
  const Assignment no_replicas = AssignPartitions({}, Nodes(3), 8, 0);
  ASSERT_EQ(no_replicas.size(), 8u);
  for (const ReplicaList& list : no_replicas) EXPECT_TRUE(list.empty());
}

TEST(AssignPartitionsTest, SingleNodeHoldsEverything) {
  const Assignment assignment = AssignPartitions({}, {"only"}, 64, 3);
  ASSERT_EQ(assignment.size(), 64u);
  for (const ReplicaList& list : assignment)
    EXPECT_THAT(list, ElementsAre("only"));
}

TEST(AssignPartitionsTest, FewerNodesThanReplicasUsesAllNodes) {
  const Assignment assignment = AssignPartitions({}, {"a", "b"}, 256, 3);
  for (const ReplicaList& list : assignment) {
    EXPECT_THAT(list, UnorderedElementsAre("a", "b"));
  }
  EXPECT_THAT(CountPrimariesPerNode(assignment),
              UnorderedElementsAre(Pair("a", 128), Pair("b", 128)));
}

TEST(AssignPartitionsTest, DeterministicAndIndependentOfNodeOrder) {
  std::vector<std::string> live = Nodes(10);
  const Assignment first = AssignPartitions({}, live, 256, 3);
  EXPECT_EQ(AssignPartitions({}, live, 256, 3), first);
  std::reverse(live.begin(), live.end());
  std::swap(live[2], live[7]);
  EXPECT_EQ(AssignPartitions({}, live, 256, 3), first);

  live.push_back("cache-new");
  const Assignment joined = AssignPartitions(first, live, 256, 3);
  EXPECT_EQ(AssignPartitions(first, live, 256, 3), joined);
  live.erase(live.begin() + 4);
  const Assignment left = AssignPartitions(joined, live, 256, 3);
  EXPECT_EQ(AssignPartitions(joined, live, 256, 3), left);
}

TEST(AssignPartitionsTest, UnchangedMembershipKeepsAssignment) {
  const std::vector<std::string> live = Nodes(10);
  const Assignment first = AssignPartitions({}, live, 256, 3);
  EXPECT_EQ(AssignPartitions(first, live, 256, 3), first);
}

TEST(AssignPartitionsTest, LeaveReplacesOnlyTheDeadNodesReplicas) {
  std::vector<std::string> live = Nodes(10);
  const Assignment before = AssignPartitions({}, live, 256, 3);
  const std::string dead = live[3];
  live.erase(live.begin() + 3);
  const Assignment after = AssignPartitions(before, live, 256, 3);

  ASSERT_TRUE(IsValid(after, live, 256, 3));
  EXPECT_TRUE(IsBalanced(after, live, 3, /*slack=*/0));
  EXPECT_EQ(CountMovedAssignments(before, after),
            CountReplicasPerNode(before)[dead]);
  for (int p = 0; p < 256; ++p) {
    for (const std::string& node : before[p]) {
      if (node != dead) {
        EXPECT_TRUE(Contains(after[p], node)) << p;
      }
    }
    if (!Contains(before[p], dead)) {
      EXPECT_EQ(after[p], before[p]) << p;
    }
  }
  EXPECT_LE(ChangedSurvivingPrimaries(before, after, ""), 4);
}

TEST(AssignPartitionsTest, JoinMovesAboutOneShareToTheNewNode) {
  std::vector<std::string> live = Nodes(10);
  const Assignment before = AssignPartitions({}, live, 256, 3);
  live.push_back("cache-new");
  const Assignment after = AssignPartitions(before, live, 256, 3);

  ASSERT_TRUE(IsValid(after, live, 256, 3));
  EXPECT_TRUE(IsBalanced(after, live, 3, /*slack=*/0));
  const int share = CountReplicasPerNode(after)["cache-new"];
  EXPECT_GE(share, 768 / 11);
  EXPECT_EQ(CountMovedAssignments(before, after), share);
  for (int p = 0; p < 256; ++p) {
    int lost = 0;
    for (const std::string& node : before[p]) lost += !Contains(after[p], node);
    // Each move hands one replica of an overloaded node to the new node.
    EXPECT_EQ(lost, Contains(after[p], "cache-new") ? 1 : 0) << p;
  }
  EXPECT_LE(ChangedSurvivingPrimaries(before, after, "cache-new"), 4);
}

TEST(AssignPartitionsTest, DropsStaleNodesAndDuplicatesFromPrevious) {
  const std::vector<std::string> live = Nodes(10);
  const Assignment clean = AssignPartitions({}, live, 256, 3);
  Assignment stale = clean;
  for (int p = 0; p < 256; p += 3) {
    stale[p].insert(stale[p].begin(), "ghost");
    stale[p].push_back(stale[p][1]);
  }
  const Assignment assignment = AssignPartitions(stale, live, 256, 3);
  EXPECT_EQ(assignment, clean);
}

TEST(AssignPartitionsTest, PreviousWithDeadNodesAndOverlongLists) {
  const std::vector<std::string> live = Nodes(6);
  Assignment previous(36);
  for (int p = 0; p < 36; ++p) {
    previous[p] = {"dead-" + std::to_string(p % 4),
                   "cache-" + std::to_string(p % 6),
                   "cache-" + std::to_string((p + 1) % 6),
                   "unknown",
                   "cache-" + std::to_string((p + 2) % 6),
                   "cache-" + std::to_string((p + 3) % 6)};
  }
  const Assignment assignment = AssignPartitions(previous, live, 36, 3);
  ASSERT_TRUE(IsValid(assignment, live, 36, 3));
  EXPECT_TRUE(IsBalanced(assignment, live, 3, /*slack=*/0));
  // The previous layout is already balanced: the first three live replicas
  // of each partition stay.
  for (int p = 0; p < 36; ++p) {
    EXPECT_THAT(
        assignment[p],
        UnorderedElementsAre(previous[p][1], previous[p][2], previous[p][4]));
  }
}

TEST(AssignPartitionsTest, TightFillsMoveOnlyOpenSlots) {
  // One live replica kept, five slots to fill, every node must end with
  // exactly two replicas: depending on hash tie-breaks the greedy fill can
  // box itself in. Try many node names to hit such layouts.
  for (int i = 0; i < 30; ++i) {
    const std::string suffix = std::to_string(i);
    const std::vector<std::string> live = {"x" + suffix, "y" + suffix,
                                           "z" + suffix};
    const Assignment previous = {{}, {}, {"x" + suffix}};
    const Assignment assignment = AssignPartitions(previous, live, 3, 2);
    ASSERT_TRUE(IsValid(assignment, live, 3, 2)) << i;
    EXPECT_TRUE(IsBalanced(assignment, live, 2, /*slack=*/0)) << i;
    EXPECT_EQ(CountMovedAssignments(previous, assignment), 5) << i;
    EXPECT_TRUE(Contains(assignment[2], "x" + suffix)) << i;
  }
}

TEST(AssignPartitionsTest, PreviousShorterThanPartitionCount) {
  const std::vector<std::string> live = Nodes(10);
  const Assignment previous = AssignPartitions({}, live, 128, 3);
  const Assignment assignment = AssignPartitions(previous, live, 256, 3);
  ASSERT_TRUE(IsValid(assignment, live, 256, 3));
  EXPECT_TRUE(IsBalanced(assignment, live, 3, /*slack=*/0));
  EXPECT_EQ(CountMovedAssignments(previous, assignment), 128 * 3);
  for (int p = 0; p < 128; ++p) {
    EXPECT_EQ(std::set<std::string>(assignment[p].begin(), assignment[p].end()),
              std::set<std::string>(previous[p].begin(), previous[p].end()));
  }
}

TEST(AssignPartitionsTest, PreviousLongerThanPartitionCount) {
  const std::vector<std::string> live = Nodes(10);
  const Assignment previous = AssignPartitions({}, live, 512, 3);
  const Assignment assignment = AssignPartitions(previous, live, 256, 3);
  ASSERT_TRUE(IsValid(assignment, live, 256, 3));
  EXPECT_TRUE(IsBalanced(assignment, live, 3, /*slack=*/0));
  EXPECT_LE(CountMovedAssignments(previous, assignment), 256 * 3 / 4);
}

TEST(AssignPartitionsTest, RaisingReplicationAppendsReplicas) {
  const std::vector<std::string> live = Nodes(10);
  const Assignment previous = AssignPartitions({}, live, 256, 2);
  const Assignment assignment = AssignPartitions(previous, live, 256, 3);
  ASSERT_TRUE(IsValid(assignment, live, 256, 3));
  EXPECT_TRUE(IsBalanced(assignment, live, 3, /*slack=*/0));
  EXPECT_EQ(CountMovedAssignments(previous, assignment), 256);
  for (int p = 0; p < 256; ++p) {
    EXPECT_THAT(assignment[p],
                ElementsAre(previous[p][0], previous[p][1], ::testing::_));
  }
}

// (partitions, replication factor, max live nodes, seed).
class MembershipChurnTest
    : public ::testing::TestWithParam<std::tuple<int, int, int, uint32_t>> {};

TEST_P(MembershipChurnTest, KeepsInvariantsAndMovesLittle) {
  const auto [partitions, replicas, max_nodes, seed] = GetParam();
  std::mt19937 rng(seed);
  std::vector<std::string> live = {"cache-0"};
  int next_id = 1;
  Assignment current = AssignPartitions({}, live, partitions, replicas);
  for (int step = 0; step < 200; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const int before_count = static_cast<int>(live.size());
    const bool join =
        before_count == 1 || (before_count < max_nodes && rng() % 2 == 0);
    std::string changed;
    if (join) {
      // Mostly brand-new ids, sometimes a returning one.
      changed = rng() % 4 == 0 && next_id > 2
                    ? "cache-" + std::to_string(rng() % next_id)
                    : "cache-" + std::to_string(next_id++);
      if (Contains(live, changed))
        changed = "cache-" + std::to_string(next_id++);
      live.push_back(changed);
    } else {
      const size_t index = rng() % live.size();
      changed = live[index];
      live.erase(live.begin() + index);
    }
    const Assignment next =
        AssignPartitions(current, live, partitions, replicas);
    ASSERT_EQ(AssignPartitions(current, live, partitions, replicas), next);
    ASSERT_TRUE(IsValid(next, live, partitions, replicas));
    ASSERT_TRUE(IsBalanced(next, live, replicas, /*slack=*/1));

    const int n = static_cast<int>(live.size());
    const int moved = CountMovedAssignments(current, next);
    if (join) {
      const int r_eff = std::min(replicas, n);
      EXPECT_LE(moved, CeilDiv(partitions * r_eff, n) + 2);
      // Only the new node gains replicas.
      for (int p = 0; p < partitions; ++p) {
        for (const std::string& node : next[p]) {
          if (node != changed) {
            ASSERT_TRUE(Contains(current[p], node)) << p;
          }
        }
      }
      EXPECT_LE(ChangedSurvivingPrimaries(current, next, changed),
                CeilDiv(partitions, n) / 4 + 3);
    } else {
      const int held = CountReplicasPerNode(current)[changed];
      if (n >= replicas) {
        EXPECT_EQ(moved, held);
      } else {
        EXPECT_EQ(moved, 0);
      }
      for (int p = 0; p < partitions; ++p) {
        for (const std::string& node : current[p]) {
          if (node != changed) {
            ASSERT_TRUE(Contains(next[p], node)) << p;
          }
        }
      }
      EXPECT_LE(ChangedSurvivingPrimaries(current, next, ""),
                CeilDiv(partitions, n) / 4 + 3);
    }
    current = next;
  }
}

INSTANTIATE_TEST_SUITE_P(Sequences, MembershipChurnTest,
                         ::testing::Values(std::make_tuple(256, 3, 12, 1u),
                                           std::make_tuple(256, 3, 12, 2024u),
                                           std::make_tuple(256, 2, 6, 7u),
                                           std::make_tuple(256, 1, 8, 3u),
                                           std::make_tuple(512, 3, 24, 11u),
                                           // Few partitions: fills get tight.
                                           std::make_tuple(16, 3, 12, 13u),
                                           std::make_tuple(16, 3, 8, 6u)));

TEST(CountMovedAssignmentsTest, CountsAssignmentsMissingFromBefore) {
  const Assignment before = {{"a", "b"}, {"b", "c"}};
  EXPECT_EQ(CountMovedAssignments(before, before), 0);
  // Reordering moves no data.
  EXPECT_EQ(CountMovedAssignments(before, {{"b", "a"}, {"c", "b"}}), 0);
  EXPECT_EQ(CountMovedAssignments(before, {{"a", "c"}, {"b", "c"}}), 1);
  // Removals alone move nothing; partitions absent from `before` count fully.
  EXPECT_EQ(CountMovedAssignments(before, {{"a"}, {}, {"a", "b"}}), 2);
  EXPECT_EQ(CountMovedAssignments({}, before), 4);
}

TEST(LoadCountTest, CountsReplicasAndPrimaries) {
  const Assignment assignment = {{"a", "b"}, {"b", "c"}, {}, {"b"}};
  EXPECT_THAT(CountReplicasPerNode(assignment),
              UnorderedElementsAre(Pair("a", 1), Pair("b", 3), Pair("c", 1)));
  EXPECT_THAT(CountPrimariesPerNode(assignment),
              UnorderedElementsAre(Pair("a", 1), Pair("b", 2)));
}

}  // namespace
}  // namespace parley::coordinator
