#ifndef PARLEY_CACHE_NODE_TEST_TABLES_H_
#define PARLEY_CACHE_NODE_TEST_TABLES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "proto/parley/v1/coordinator.pb.h"

namespace parley::cache {

// Partition tables for tests.

// One partition of a table: its replicas (primary first) and term.
struct TablePartition {
  std::vector<std::string> replicas;
  uint64_t term = 0;
};

// (node id, address) pairs a table names.
using TableAddresses = std::vector<std::pair<std::string, std::string>>;

// A table with these partitions (numbered from 0) and node addresses; its
// replication factor is the longest replica list.
v1::PartitionTable TableOf(uint64_t epoch,
                           const std::vector<TablePartition>& partitions,
                           const TableAddresses& addresses);

// A table of `partitions` partitions, each held by `replicas` at `term`.
v1::PartitionTable UniformTable(uint64_t epoch, uint64_t term,
                                uint32_t partitions,
                                const std::vector<std::string>& replicas,
                                const TableAddresses& addresses);

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_TEST_TABLES_H_
