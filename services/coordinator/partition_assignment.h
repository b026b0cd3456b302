#ifndef PARLEY_SERVICES_COORDINATOR_PARTITION_ASSIGNMENT_H_
#define PARLEY_SERVICES_COORDINATOR_PARTITION_ASSIGNMENT_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace parley::coordinator {

// Replicas of one partition: cache-node member ids, primary first.
using ReplicaList = std::vector<std::string>;

// Computes the next assignment of `partition_count` partitions to `live_nodes`
// with `replication_factor` copies each, starting from `previous` (which may be
// empty, have a different size, or name nodes that are no longer live).
// Every partition gets min(replication_factor, live node count) distinct live
// nodes; replica and primary counts are balanced across nodes; as few
// (partition, node) assignments as possible differ from `previous`: surviving
// replicas stay in order, new ones are appended, and lists are reordered only
// as primary balance requires. The result depends only on the inputs (not on
// the order of `live_nodes`). Returns an empty vector when `partition_count`
// <= 0.
std::vector<ReplicaList> AssignPartitions(
    const std::vector<ReplicaList>& previous,
    const std::vector<std::string>& live_nodes, int partition_count,
    int replication_factor);

// Number of (partition, node) assignments present in `after` but not in
// `before`, i.e. replicas whose data must be copied to a node. Partitions
// missing from `before` count all their replicas in `after`.
int CountMovedAssignments(const std::vector<ReplicaList>& before,
                          const std::vector<ReplicaList>& after);

// Number of partitions each node holds a replica of, keyed by node id.
absl::flat_hash_map<std::string, int> CountReplicasPerNode(
    const std::vector<ReplicaList>& assignment);

// Number of partitions each node is primary for, keyed by node id.
absl::flat_hash_map<std::string, int> CountPrimariesPerNode(
    const std::vector<ReplicaList>& assignment);

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_PARTITION_ASSIGNMENT_H_
