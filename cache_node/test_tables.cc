#include "cache_node/test_tables.h"

#include <algorithm>

namespace parley::cache {

v1::PartitionTable TableOf(uint64_t epoch,
                           const std::vector<TablePartition>& partitions,
                           const TableAddresses& addresses) {
  v1::PartitionTable table;
  table.set_epoch(epoch);
  table.set_partition_count(static_cast<uint32_t>(partitions.size()));
  size_t factor = 0;
  for (uint32_t p = 0; p < partitions.size(); ++p) {
    v1::PartitionReplicas* partition = table.add_partitions();
    partition->set_partition(p);
    partition->set_primary_term(partitions[p].term);
    for (const std::string& node : partitions[p].replicas) {
      partition->add_replicas(node);
    }
    factor = std::max(factor, partitions[p].replicas.size());
  }
  table.set_replication_factor(static_cast<uint32_t>(factor));
  for (const auto& [node, address] : addresses) {
    v1::CacheNodeAddress* entry = table.add_nodes();
    entry->set_id(node);
    entry->set_address(address);
  }
  return table;
}

v1::PartitionTable UniformTable(uint64_t epoch, uint64_t term,
                                uint32_t partitions,
                                const std::vector<std::string>& replicas,
                                const TableAddresses& addresses) {
  return TableOf(
      epoch,
      std::vector<TablePartition>(partitions, TablePartition{replicas, term}),
      addresses);
}

}  // namespace parley::cache
