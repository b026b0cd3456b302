#include "services/common/metrics/cache_node_metrics.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace parley::metrics {
namespace {

// RocksDB integer properties, as metric name, help and property.
struct RocksDbFigure {
  const char* name;
  const char* help;
  const char* property;
};

constexpr RocksDbFigure kRocksDbFigures[] = {
    {"parley_cache_rocksdb_estimated_keys",
     "RocksDB's estimate of the keys held (tombstones included)",
     "rocksdb.estimate-num-keys"},
    {"parley_cache_rocksdb_sst_files_bytes", "bytes of all SST files",
     "rocksdb.total-sst-files-size"},
    {"parley_cache_rocksdb_live_sst_files_bytes",
     "bytes of the SST files of the current version",
     "rocksdb.live-sst-files-size"},
    {"parley_cache_rocksdb_memtable_bytes",
     "bytes of the active and unflushed memtables",
     "rocksdb.cur-size-all-mem-tables"},
    {"parley_cache_rocksdb_block_cache_usage_bytes",
     "bytes the block cache holds", "rocksdb.block-cache-usage"},
    {"parley_cache_rocksdb_block_cache_pinned_bytes",
     "bytes pinned in the block cache", "rocksdb.block-cache-pinned-usage"},
    {"parley_cache_rocksdb_block_cache_capacity_bytes",
     "the block cache's capacity", "rocksdb.block-cache-capacity"},
    {"parley_cache_rocksdb_table_readers_bytes",
     "memory of table readers outside the block cache",
     "rocksdb.estimate-table-readers-mem"},
    {"parley_cache_rocksdb_pending_compaction_bytes",
     "bytes compaction estimates it has to rewrite",
     "rocksdb.estimate-pending-compaction-bytes"},
    {"parley_cache_rocksdb_running_compactions", "compactions running",
     "rocksdb.num-running-compactions"},
    {"parley_cache_rocksdb_running_flushes", "memtable flushes running",
     "rocksdb.num-running-flushes"},
    {"parley_cache_rocksdb_live_versions",
     "versions held alive (by iterators, snapshots and compactions)",
     "rocksdb.num-live-versions"},
};

void Collect(const cache::CacheNodeCore& core,
             const cache::PartitionStore& store,
             std::deque<CollectedFamily>* out) {
  const v1::StatsResponse stats = core.Stats();
  AddCollected(out, "parley_cache_operations_total",
               "client operations this node served as primary, by kind",
               MetricType::kCounter, {"op"})
      .Add({"get"}, stats.gets())
      .Add({"put"}, stats.puts())
      .Add({"delete"}, stats.deletes());
  AddCollected(out, "parley_cache_forwards_total",
               "operations forwarded to the partition's primary elsewhere",
               MetricType::kCounter)
      .Add({}, stats.forwards());
  AddCollected(out, "parley_cache_replicated_writes_total",
               "writes applied as a backup, from primaries",
               MetricType::kCounter)
      .Add({}, stats.replicated_in());
  AddCollected(out, "parley_cache_catch_ups_total",
               "catch-up streams this node served to other nodes",
               MetricType::kCounter)
      .Add({}, stats.catch_ups());
  AddCollected(out, "parley_cache_errors_total",
               "operations that failed in storage (RocksDB)",
               MetricType::kCounter)
      .Add({}, stats.errors());
  AddCollected(out, "parley_cache_table_epoch",
               "epoch of the partition table this node follows",
               MetricType::kGauge)
      .Add({}, stats.table_epoch());

  std::map<std::string, int> roles = {
      {"primary", 0}, {"promoting", 0}, {"backup", 0}, {"catching-up", 0}};
  uint64_t max_lag = 0;
  int lagging = 0;
  for (const v1::PartitionStats& partition : stats.partitions()) {
    ++roles[partition.role()];
    if (partition.replication_lag() > 0) {
      ++lagging;
      max_lag = std::max<uint64_t>(max_lag, partition.replication_lag());
    }
  }
  CollectedFamily& by_role = AddCollected(out, "parley_cache_partitions",
                                          "partitions this node holds, by role",
                                          MetricType::kGauge, {"role"});
  for (const auto& [role, count] : roles) by_role.Add({role}, count);
  AddCollected(out, "parley_cache_replication_lag_max",
               "writes the furthest-behind backup of this node's primary "
               "partitions still lacks (1 across a term change)",
               MetricType::kGauge)
      .Add({}, max_lag);
  AddCollected(out, "parley_cache_lagging_partitions",
               "primary partitions of this node with a backup behind",
               MetricType::kGauge)
      .Add({}, lagging);

  for (const RocksDbFigure& figure : kRocksDbFigures) {
    const std::optional<uint64_t> value = store.IntProperty(figure.property);
    if (!value.has_value()) continue;
    AddCollected(out, figure.name, figure.help, MetricType::kGauge)
        .Add({}, *value);
  }
}

}  // namespace

CollectorHandle RegisterCacheNodeMetrics(const cache::CacheNodeCore* core,
                                         const cache::PartitionStore* store,
                                         Registry* registry) {
  return registry->AddCollector(
      [core, store](std::deque<CollectedFamily>* out) {
        Collect(*core, *store, out);
      });
}

}  // namespace parley::metrics
