#ifndef PARLEY_CACHE_NODE_TABLE_VIEW_H_
#define PARLEY_CACHE_NODE_TABLE_VIEW_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "proto/parley/v1/coordinator.pb.h"

namespace parley::cache {

// An immutable, indexed copy of the coordinator's partition table.
class TableView {
 public:
  TableView() = default;
  explicit TableView(v1::PartitionTable table);

  uint64_t epoch() const { return table_.epoch(); }
  uint32_t partition_count() const { return table_.partition_count(); }
  const v1::PartitionTable& table() const { return table_; }

  // Replicas of `partition`, primary first (empty if out of range).
  const std::vector<std::string>& Replicas(uint32_t partition) const;
  // The primary of `partition`, or "" if it has none.
  const std::string& Primary(uint32_t partition) const;
  // The primary's term for `partition`.
  uint64_t Term(uint32_t partition) const;
  // True if `node` holds a copy of `partition`.
  bool IsReplica(uint32_t partition, absl::string_view node) const;
  // Address of a node named in the table, or "".
  const std::string& Address(absl::string_view node) const;

 private:
  v1::PartitionTable table_;
  std::vector<std::vector<std::string>> replicas_;
  std::vector<uint64_t> terms_;
  absl::flat_hash_map<std::string, std::string> addresses_;
};

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_TABLE_VIEW_H_
