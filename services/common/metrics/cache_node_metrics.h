#ifndef PARLEY_SERVICES_COMMON_METRICS_CACHE_NODE_METRICS_H_
#define PARLEY_SERVICES_COMMON_METRICS_CACHE_NODE_METRICS_H_

#include "cache_node/cache_node_core.h"
#include "cache_node/partition_store.h"
#include "services/common/metrics/registry.h"

namespace parley::metrics {

// Reports a cache node's figures at each scrape: operations, partitions by
// role, replication lag and RocksDB's figures. `core` and `store` must
// outlive the handle.
[[nodiscard]] CollectorHandle RegisterCacheNodeMetrics(
    const cache::CacheNodeCore* core, const cache::PartitionStore* store,
    Registry* registry = &DefaultRegistry());

}  // namespace parley::metrics

#endif  // PARLEY_SERVICES_COMMON_METRICS_CACHE_NODE_METRICS_H_
