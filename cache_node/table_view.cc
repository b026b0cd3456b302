#include "cache_node/table_view.h"

#include <algorithm>

namespace parley::cache {
namespace {

const std::vector<std::string>& NoReplicas() {
  static const auto* const kNone = new std::vector<std::string>();
  return *kNone;
}

const std::string& NoName() {
  static const auto* const kNone = new std::string();
  return *kNone;
}

}  // namespace

TableView::TableView(v1::PartitionTable table) : table_(std::move(table)) {
  replicas_.resize(table_.partition_count());
  terms_.resize(table_.partition_count());
  for (const v1::PartitionReplicas& partition : table_.partitions()) {
    if (partition.partition() < replicas_.size()) {
      replicas_[partition.partition()].assign(partition.replicas().begin(),
                                              partition.replicas().end());
      terms_[partition.partition()] = partition.primary_term();
    }
  }
  for (const v1::CacheNodeAddress& node : table_.nodes()) {
    addresses_[node.id()] = node.address();
  }
}

const std::vector<std::string>& TableView::Replicas(uint32_t partition) const {
  return partition < replicas_.size() ? replicas_[partition] : NoReplicas();
}

const std::string& TableView::Primary(uint32_t partition) const {
  const std::vector<std::string>& replicas = Replicas(partition);
  return replicas.empty() ? NoName() : replicas.front();
}

uint64_t TableView::Term(uint32_t partition) const {
  return partition < terms_.size() ? terms_[partition] : 0;
}

bool TableView::IsReplica(uint32_t partition, absl::string_view node) const {
  const std::vector<std::string>& replicas = Replicas(partition);
  return std::find(replicas.begin(), replicas.end(), node) != replicas.end();
}

const std::string& TableView::Address(absl::string_view node) const {
  auto it = addresses_.find(node);
  return it == addresses_.end() ? NoName() : it->second;
}

}  // namespace parley::cache
