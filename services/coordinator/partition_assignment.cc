#include "services/coordinator/partition_assignment.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace parley::coordinator {
namespace {

// splitmix64 finalizer: a fixed, process-independent bit mixer (absl::Hash is
// seeded per process, so it cannot be used for deterministic tie-breaks).
uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a over the bytes of `s`, then mixed.
uint64_t StableHash(absl::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return Mix64(h);
}

// One replica of a partition while the assignment is being computed.
struct Replica {
  int node;
  // True if assigned by this computation (its data must move to the node).
  bool added;
};

// Mutable state of one AssignPartitions() call. Nodes are dense indices into
// the sorted, de-duplicated live node ids.
class Assigner {
 public:
  Assigner(std::vector<std::string> nodes, int partitions, int replicas)
      : nodes_(std::move(nodes)),
        n_(static_cast<int>(nodes_.size())),
        p_(partitions),
        r_(replicas),
        lists_(partitions),
        member_(static_cast<size_t>(partitions) * n_, 0),
        load_(n_, 0),
        target_(n_, 0),
        overshoot_(n_, 0),
        previous_primary_(partitions, -1) {
    node_hash_.reserve(n_);
    for (const std::string& node : nodes_) {
      node_hash_.push_back(StableHash(node));
    }
  }

  // Keeps the live, distinct replicas of `previous` (in order, at most r_).
  void Seed(const std::vector<ReplicaList>& previous) {
    absl::flat_hash_map<absl::string_view, int> index;
    for (int i = 0; i < n_; ++i) index[nodes_[i]] = i;
    const int kept = std::min<int>(p_, static_cast<int>(previous.size()));
    for (int p = 0; p < kept; ++p) {
      for (const std::string& id : previous[p]) {
        if (static_cast<int>(lists_[p].size()) == r_) break;
        auto it = index.find(id);
        if (it == index.end() || IsMember(p, it->second)) continue;
        Add(p, it->second, /*added=*/false);
      }
      if (!previous[p].empty()) {
        auto it = index.find(previous[p].front());
        if (it != index.end()) previous_primary_[p] = it->second;
      }
    }
  }

  // Gives every node a replica target of floor or ceil(p_*r_/n_); the ceil
  // targets go to the currently most loaded nodes so the fewest replicas move.
  void ComputeTargets() {
    const int64_t total = static_cast<int64_t>(p_) * r_;
    const int base = static_cast<int>(total / n_);
    const int extra = static_cast<int>(total % n_);
    std::vector<int> order(n_);
    for (int i = 0; i < n_; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [this](int a, int b) {
      return std::make_tuple(-load_[a], node_hash_[a], a) <
             std::make_tuple(-load_[b], node_hash_[b], b);
    });
    for (int i = 0; i < n_; ++i) {
      target_[order[i]] = base + (i < extra ? 1 : 0);
    }
    ceil_ = base + (extra > 0 ? 1 : 0);
  }

  // Fills every partition up to r_ replicas with nodes below target. If all
  // such nodes already replicate a partition, even via a chain of swaps, a
  // least loaded node overshoots its target instead.
  void FillOpenSlots() {
    for (int p = 0; p < p_; ++p) {
      while (static_cast<int>(lists_[p].size()) < r_) {
        int node = PickReceiver(p);
        if (node < 0) {
          if (RepairBlockedSlot(p)) continue;
          node = LeastLoadedOutside(p);
          if (load_[node] >= target_[node]) ++overshoot_[node];
        }
        Add(p, node, /*added=*/true);
      }
    }
  }

  // Moves replicas from nodes above target to nodes below it, preferring to
  // undo this computation's additions, then non-primary replicas. Surviving
  // replicas are not moved to undo a fill overshoot up to ceil_ + 1: the data
  // movement would cost more than the slight imbalance.
  void ShedExcess() {
    for (int a = 0; a < n_; ++a) {
      if (load_[a] <= target_[a]) continue;
      std::vector<std::tuple<int, int, uint64_t, int>> candidates;
      for (int p = 0; p < p_; ++p) {
        if (!IsMember(p, a)) continue;
        const int pos = Position(p, a);
        candidates.emplace_back(lists_[p][pos].added ? 0 : 1, pos == 0 ? 1 : 0,
                                PairHash(p, a), p);
      }
      std::sort(candidates.begin(), candidates.end());
      const int tolerated =
          std::min(target_[a] + overshoot_[a], std::max(target_[a], ceil_ + 1));
      for (const auto& candidate : candidates) {
        if (load_[a] <= target_[a]) break;
        const bool added = std::get<0>(candidate) == 0;
        if (!added && load_[a] <= tolerated) break;
        const int p = std::get<3>(candidate);
        const int b = PickReceiver(p);
        if (b < 0) continue;
        Remove(p, a);
        Add(p, b, /*added=*/true);
      }
    }
  }

  // Reorders replicas within partitions so that primary counts differ by at
  // most one between nodes, changing as few previous primaries as possible.
  void BalancePrimaries() {
    if (r_ < 2) return;
    primaries_.assign(n_, 0);
    for (int p = 0; p < p_; ++p) ++primaries_[lists_[p][0].node];
    partition_order_.resize(p_);
    for (int p = 0; p < p_; ++p) partition_order_[p] = p;
    std::sort(
        partition_order_.begin(), partition_order_.end(), [](int x, int y) {
          return std::make_pair(Mix64(x), x) < std::make_pair(Mix64(y), y);
        });
    // Ceil targets go to the nodes that already have the most primaries.
    std::vector<int> order(n_);
    for (int i = 0; i < n_; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [this](int a, int b) {
      return std::make_tuple(-primaries_[a], node_hash_[a], a) <
             std::make_tuple(-primaries_[b], node_hash_[b], b);
    });
    std::vector<int> target(n_);
    for (int i = 0; i < n_; ++i) {
      target[order[i]] = p_ / n_ + (i < p_ % n_ ? 1 : 0);
    }
    std::vector<bool> source(n_);
    std::vector<bool> sink(n_);
    // Moving primaries only among partitions whose primary changed anyway
    // (dead or new) is free; then direct promotions; then general chains.
    for (bool changed_only : {true, false}) {
      PromoteDirectly(target, changed_only);
      while (true) {
        for (int i = 0; i < n_; ++i) {
          source[i] = primaries_[i] > target[i];
          sink[i] = primaries_[i] < target[i];
        }
        if (!PromoteAlongChain(source, sink, /*changed_only=*/true)) break;
      }
    }
    while (true) {
      const int max_count =
          *std::max_element(primaries_.begin(), primaries_.end());
      for (int i = 0; i < n_; ++i) {
        source[i] = primaries_[i] == max_count;
        sink[i] = primaries_[i] <= max_count - 2;
      }
      if (!PromoteAlongChain(source, sink, /*changed_only=*/false)) break;
    }
  }

  std::vector<ReplicaList> Result() const {
    std::vector<ReplicaList> result(p_);
    for (int p = 0; p < p_; ++p) {
      result[p].reserve(lists_[p].size());
      for (const Replica& replica : lists_[p]) {
        result[p].push_back(nodes_[replica.node]);
      }
    }
    return result;
  }

 private:
  // Promotes, in partitions led by a node above its `target` primary count,
  // the replica furthest below its target, if any. Only in partitions whose
  // previous primary is gone or was replaced if `changed_only`.
  void PromoteDirectly(const std::vector<int>& target, bool changed_only) {
    for (int p : partition_order_) {
      const int u = lists_[p][0].node;
      if (primaries_[u] <= target[u]) continue;
      if (changed_only && u == previous_primary_[p]) continue;
      int best = -1;
      for (size_t pos = 1; pos < lists_[p].size(); ++pos) {
        const int w = lists_[p][pos].node;
        if (primaries_[w] >= target[w]) continue;
        if (best < 0 ||
            primaries_[w] - target[w] < primaries_[best] - target[best]) {
          best = w;
        }
      }
      if (best < 0) continue;
      Promote(p, best);
      --primaries_[u];
      ++primaries_[best];
    }
  }

  // Finds the cheapest chain "u leads a partition that w replicates" from a
  // `source` node to a `sink` node (a step costs 1 if it replaces a
  // partition's previous primary, 0 otherwise; only cost-0 steps if
  // `changed_only`), promotes along it and returns true; false if none.
  bool PromoteAlongChain(const std::vector<bool>& source,
                         const std::vector<bool>& sink, bool changed_only) {
    std::vector<std::vector<int>> led(n_);
    for (int p : partition_order_) {
      const int u = lists_[p][0].node;
      if (changed_only && u == previous_primary_[p]) continue;
      led[u].push_back(p);
    }
    constexpr int kUnreached = std::numeric_limits<int>::max();
    std::vector<int> cost(n_, kUnreached);
    std::vector<bool> done(n_, false);
    std::vector<int> parent_node(n_, -1);
    std::vector<int> parent_partition(n_, -1);
    std::deque<int> queue;
    for (int u = 0; u < n_; ++u) {
      if (source[u]) {
        cost[u] = 0;
        queue.push_back(u);
      }
    }
    // 0-1 breadth-first search: a node's cost is final when it is popped.
    while (!queue.empty()) {
      const int u = queue.front();
      queue.pop_front();
      if (done[u]) continue;
      done[u] = true;
      if (sink[u]) {
        ++primaries_[u];
        int w = u;
        for (; parent_node[w] >= 0; w = parent_node[w]) {
          Promote(parent_partition[w], w);
        }
        --primaries_[w];
        return true;
      }
      for (int p : led[u]) {
        const int step = u == previous_primary_[p] ? 1 : 0;
        for (size_t pos = 1; pos < lists_[p].size(); ++pos) {
          const int w = lists_[p][pos].node;
          if (done[w] || cost[u] + step >= cost[w]) continue;
          cost[w] = cost[u] + step;
          parent_node[w] = u;
          parent_partition[w] = p;
          if (step == 0) {
            queue.push_front(w);
          } else {
            queue.push_back(w);
          }
        }
      }
    }
    return false;
  }

  uint64_t PairHash(int p, int node) const {
    return Mix64(node_hash_[node] ^ Mix64(static_cast<uint64_t>(p)));
  }
  bool IsMember(int p, int node) const {
    return member_[static_cast<size_t>(p) * n_ + node] != 0;
  }
  void SetMember(int p, int node, bool value) {
    member_[static_cast<size_t>(p) * n_ + node] = value ? 1 : 0;
  }
  int Deficit(int node) const { return target_[node] - load_[node]; }

  int Position(int p, int node) const {
    for (size_t i = 0; i < lists_[p].size(); ++i) {
      if (lists_[p][i].node == node) return static_cast<int>(i);
    }
    return -1;
  }

  void Add(int p, int node, bool added) {
    lists_[p].push_back(Replica{node, added});
    SetMember(p, node, true);
    ++load_[node];
  }

  void Remove(int p, int node) {
    lists_[p].erase(lists_[p].begin() + Position(p, node));
    SetMember(p, node, false);
    --load_[node];
  }

  // Puts `incoming` in place of `outgoing` in partition `p`.
  void Replace(int p, int outgoing, int incoming) {
    lists_[p][Position(p, outgoing)] = Replica{incoming, /*added=*/true};
    SetMember(p, outgoing, false);
    SetMember(p, incoming, true);
    --load_[outgoing];
    ++load_[incoming];
  }

  // Moves `node` to the front of partition `p`, keeping the others' order.
  void Promote(int p, int node) {
    std::vector<Replica>& list = lists_[p];
    const int pos = Position(p, node);
    std::rotate(list.begin(), list.begin() + pos, list.begin() + pos + 1);
  }

  // The below-target node not in `p` furthest below target (ties: hash), or -1.
  int PickReceiver(int p) const {
    int best = -1;
    for (int node = 0; node < n_; ++node) {
      if (Deficit(node) <= 0 || IsMember(p, node)) continue;
      if (best < 0 || Deficit(node) > Deficit(best) ||
          (Deficit(node) == Deficit(best) &&
           PairHash(p, node) < PairHash(p, best))) {
        best = node;
      }
    }
    return best;
  }

  // The least loaded node not in `p` (ties: hash). `p` must not be full.
  int LeastLoadedOutside(int p) const {
    int best = -1;
    for (int node = 0; node < n_; ++node) {
      if (IsMember(p, node)) continue;
      if (best < 0 || load_[node] < load_[best] ||
          (load_[node] == load_[best] &&
           PairHash(p, node) < PairHash(p, best))) {
        best = node;
      }
    }
    return best;
  }

  // Every below-target node already replicates `p`. Searches (breadth first)
  // for a chain of replicas added by this computation: `p` takes node x1 from
  // partition q1, q1 takes x2 from q2, ..., and the last partition takes a
  // below-target node. Costs no extra movement. Returns whether `p` gained a
  // replica.
  bool RepairBlockedSlot(int p) {
    std::vector<std::vector<int>> added_in(n_);
    for (int q = 0; q < p_; ++q) {
      for (const Replica& replica : lists_[q]) {
        if (replica.added) added_in[replica.node].push_back(q);
      }
    }
    std::vector<bool> node_seen(n_, false);
    std::vector<bool> partition_seen(p_, false);
    std::vector<int> parent(p_, -1);  // Partition that takes taken[q] from q.
    std::vector<int> taken(p_, -1);
    std::vector<int> queue = {p};
    partition_seen[p] = true;
    for (size_t head = 0; head < queue.size(); ++head) {
      const int u = queue[head];
      const int receiver = PickReceiver(u);
      if (receiver >= 0) {
        int incoming = receiver;
        for (int q = u; q != p; q = parent[q]) {
          const int outgoing = taken[q];
          Replace(q, outgoing, incoming);
          incoming = outgoing;
        }
        Add(p, incoming, /*added=*/true);
        return true;
      }
      for (int x = 0; x < n_; ++x) {
        if (node_seen[x] || IsMember(u, x)) continue;
        node_seen[x] = true;
        for (int q : added_in[x]) {
          if (partition_seen[q]) continue;
          partition_seen[q] = true;
          parent[q] = u;
          taken[q] = x;
          queue.push_back(q);
        }
      }
    }
    return false;
  }

  const std::vector<std::string> nodes_;
  const int n_;
  const int p_;
  const int r_;
  std::vector<uint64_t> node_hash_;
  std::vector<std::vector<Replica>> lists_;
  std::vector<uint8_t> member_;  // [p * n_ + node] != 0 iff node replicates p.
  std::vector<int> load_;        // Replicas held per node.
  std::vector<int> target_;      // Replicas each node should hold.
  std::vector<int> overshoot_;   // Fill placements beyond target, per node.
  int ceil_ = 0;                 // ceil(p_ * r_ / n_).
  std::vector<int> previous_primary_;
  std::vector<int> primaries_;        // Partitions led, per node.
  std::vector<int> partition_order_;  // Fixed pseudo-random partition order. //
                                      // Per partition; -1 if none or dead.
};

}  // namespace

std::vector<ReplicaList> AssignPartitions(
    const std::vector<ReplicaList>& previous,
    const std::vector<std::string>& live_nodes, int partition_count,
    int replication_factor) {
  if (partition_count <= 0) return {};
  std::vector<std::string> nodes = live_nodes;
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  const int replicas = std::min<int>(std::max(replication_factor, 0),
                                     static_cast<int>(nodes.size()));
  if (replicas == 0) return std::vector<ReplicaList>(partition_count);

  Assigner assigner(std::move(nodes), partition_count, replicas);
  assigner.Seed(previous);
  assigner.ComputeTargets();
  assigner.FillOpenSlots();
  assigner.ShedExcess();
  assigner.BalancePrimaries();
  return assigner.Result();
}

int CountMovedAssignments(const std::vector<ReplicaList>& before,
                          const std::vector<ReplicaList>& after) {
  int moved = 0;
  for (size_t p = 0; p < after.size(); ++p) {
    absl::flat_hash_set<absl::string_view> old_nodes;
    if (p < before.size()) {
      old_nodes.insert(before[p].begin(), before[p].end());
    }
    absl::flat_hash_set<absl::string_view> counted;
    for (const std::string& node : after[p]) {
      if (!old_nodes.contains(node) && counted.insert(node).second) ++moved;
    }
  }
  return moved;
}

absl::flat_hash_map<std::string, int> CountReplicasPerNode(
    const std::vector<ReplicaList>& assignment) {
  absl::flat_hash_map<std::string, int> counts;
  for (const ReplicaList& list : assignment) {
    for (const std::string& node : list) ++counts[node];
  }
  return counts;
}

absl::flat_hash_map<std::string, int> CountPrimariesPerNode(
    const std::vector<ReplicaList>& assignment) {
  absl::flat_hash_map<std::string, int> counts;
  for (const ReplicaList& list : assignment) {
    if (!list.empty()) ++counts[list.front()];
  }
  return counts;
}

}  // namespace parley::coordinator
