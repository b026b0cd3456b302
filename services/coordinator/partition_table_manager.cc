#include "services/coordinator/partition_table_manager.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/coordinator/partition_assignment.h"
#include "spdlog/spdlog.h"

namespace parley::coordinator {
namespace {

constexpr absl::string_view kTableKey = "table/current";

}  // namespace

absl::StatusOr<std::unique_ptr<PartitionTableManager>>
PartitionTableManager::Load(DurableStore* store, uint32_t partition_count,
                            uint32_t replication_factor,
                            absl::Duration orphan_wait, Clock clock) {
  if (partition_count < 1 || partition_count > 65536) {
    return absl::InvalidArgumentError("--partitions must be from 1 to 65536");
  }
  if (replication_factor < 1 || replication_factor > 7) {
    return absl::InvalidArgumentError(
        "--replication_factor must be from 1 to 7");
  }
  std::unique_ptr<PartitionTableManager> manager(
      new PartitionTableManager(store, partition_count, replication_factor,
                                orphan_wait, std::move(clock)));
  absl::MutexLock lock(&manager->mu_);
  absl::StatusOr<std::optional<std::string>> stored = store->Get(kTableKey);
  if (!stored.ok()) return stored.status();
  v1::PartitionTable& table = manager->table_;
  if (stored->has_value()) {
    if (!table.ParseFromString(**stored)) {
      return absl::DataLossError("the stored partition table is corrupt");
    }
    if (table.partition_count() != partition_count) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the data directory holds a table of ", table.partition_count(),
          " partitions but --partitions=", partition_count,
          "; the partition count cannot change once the cache tier exists"));
    }
    for (const v1::CacheNodeAddress& node : table.nodes()) {
      manager->nodes_[node.id()] = node.address();
    }
  } else {
    table.set_partition_count(partition_count);
    table.set_replication_factor(replication_factor);
    for (uint32_t p = 0; p < partition_count; ++p) {
      table.add_partitions()->set_partition(p);
    }
  }
  return manager;
}

absl::Status PartitionTableManager::OnMembershipEvent(
    const v1::MembershipEvent& event) {
  absl::MutexLock lock(&mu_);
  switch (event.kind()) {
    case v1::MembershipEvent::FULL_VIEW:
      nodes_.clear();
      for (const v1::Member& member : event.view().members()) {
        if (member.role() == v1::CACHE_NODE) {
          nodes_[member.id()] = member.address();
        }
      }
      break;
    case v1::MembershipEvent::JOINED:
    case v1::MembershipEvent::UPDATED:
      if (event.member().role() != v1::CACHE_NODE) return absl::OkStatus();
      nodes_[event.member().id()] = event.member().address();
      break;
    case v1::MembershipEvent::LEFT:
    case v1::MembershipEvent::EXPIRED:
      nodes_.erase(event.member().id());
      break;
    default:
      return absl::OkStatus();
  }
  if (batch_depth_ > 0) {
    recompute_pending_ = true;
    return absl::OkStatus();
  }
  return Recompute();
}

void PartitionTableManager::BeginBatch() {
  absl::MutexLock lock(&mu_);
  ++batch_depth_;
}

absl::Status PartitionTableManager::EndBatch() {
  absl::MutexLock lock(&mu_);
  if (--batch_depth_ > 0 || !recompute_pending_) return absl::OkStatus();
  recompute_pending_ = false;
  return Recompute();
}

absl::Status PartitionTableManager::Recompute() {
  std::vector<ReplicaList> previous(table_.partitions_size());
  for (int p = 0; p < table_.partitions_size(); ++p) {
    const auto& replicas = table_.partitions(p).replicas();
    previous[p].assign(replicas.begin(), replicas.end());
  }
  std::vector<std::string> live;
  live.reserve(nodes_.size());
  for (const auto& [id, address] : nodes_) live.push_back(id);
  std::vector<ReplicaList> next =
      AssignPartitions(previous, live, static_cast<int>(partition_count_),
                       static_cast<int>(replication_factor_));
  KeepOrphanedPartitions(previous, next);

  v1::PartitionTable candidate;
  candidate.set_partition_count(partition_count_);
  candidate.set_replication_factor(replication_factor_);
  std::vector<uint32_t> new_primaries;
  for (uint32_t p = 0; p < partition_count_; ++p) {
    v1::PartitionReplicas* partition = candidate.add_partitions();
    partition->set_partition(p);
    for (const std::string& node : next[p]) partition->add_replicas(node);
    const std::string before = previous.size() > p && !previous[p].empty()
                                   ? previous[p].front()
                                   : std::string();
    const std::string after = next[p].empty() ? std::string() : next[p][0];
    if (before == after && static_cast<int>(p) < table_.partitions_size()) {
      partition->set_primary_term(table_.partitions(p).primary_term());
    } else {
      new_primaries.push_back(p);
    }
  }
  for (const auto& [id, address] : nodes_) {
    v1::CacheNodeAddress* node = candidate.add_nodes();
    node->set_id(id);
    node->set_address(address);
  }
  candidate.set_epoch(table_.epoch());
  if (new_primaries.empty() &&
      google::protobuf::util::MessageDifferencer::Equals(candidate, table_)) {
    return absl::OkStatus();
  }
  const uint64_t epoch = table_.epoch() + 1;
  candidate.set_epoch(epoch);
  for (uint32_t p : new_primaries) {
    candidate.mutable_partitions(p)->set_primary_term(epoch);
  }
  if (absl::Status s = store_->Write(
          {{std::string(kTableKey), candidate.SerializeAsString()}},
          /*sync=*/true);
      !s.ok()) {
    return s;
  }
  table_ = std::move(candidate);
  for (const auto& [id, callback] : watchers_) callback(table_);
  return absl::OkStatus();
}

void PartitionTableManager::KeepOrphanedPartitions(
    const std::vector<ReplicaList>& previous, std::vector<ReplicaList>& next) {
  const absl::Time now = clock_();
  std::vector<uint32_t> started_waiting;
  std::vector<uint32_t> given_up;
  for (uint32_t p = 0; p < partition_count_ && p < previous.size(); ++p) {
    const bool orphaned = !previous[p].empty() &&
                          std::none_of(previous[p].begin(), previous[p].end(),
                                       [this](const std::string& node) {
                                         return nodes_.count(node) > 0;
                                       });
    if (!orphaned) {
      orphaned_since_.erase(p);
      continue;
    }
    auto [since, added] = orphaned_since_.try_emplace(p, now);
    if (added) started_waiting.push_back(p);
    if (now - since->second < orphan_wait_) {
      next[p] = previous[p];
      continue;
    }
    orphaned_since_.erase(since);
    given_up.push_back(p);
  }
  if (!started_waiting.empty()) {
    spdlog::warn(
        "{} partition(s) (first: {}, on {}) have no live replica: they wait "
        "up to {} for one of their replicas to come back, unavailable "
        "meanwhile",
        started_waiting.size(), started_waiting.front(),
        absl::StrJoin(previous[started_waiting.front()], ", "),
        absl::FormatDuration(orphan_wait_));
  }
  if (!given_up.empty()) {
    spdlog::error(
        "{} partition(s) (first: {}) got no replica back in {}: they start "
        "empty on the live cache nodes; what only their old replicas held "
        "is lost",
        given_up.size(), given_up.front(), absl::FormatDuration(orphan_wait_));
  }
}

absl::Status PartitionTableManager::Tick() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  for (const auto& [partition, since] : orphaned_since_) {
    if (now - since >= orphan_wait_) return Recompute();
  }
  return absl::OkStatus();
}

int PartitionTableManager::WaitingPartitions() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(orphaned_since_.size());
}

v1::PartitionTable PartitionTableManager::Get() const {
  absl::MutexLock lock(&mu_);
  return table_;
}

uint64_t PartitionTableManager::Watch(WatchCallback callback,
                                      v1::PartitionTable* current) {
  absl::MutexLock lock(&mu_);
  *current = table_;
  uint64_t id = next_watcher_id_++;
  watchers_.emplace(id, std::move(callback));
  return id;
}

void PartitionTableManager::Unwatch(uint64_t id) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(id);
}

}  // namespace parley::coordinator
