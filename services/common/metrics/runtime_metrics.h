#ifndef PARLEY_SERVICES_COMMON_METRICS_RUNTIME_METRICS_H_
#define PARLEY_SERVICES_COMMON_METRICS_RUNTIME_METRICS_H_

#include <cstddef>
#include <functional>
#include <string>

#include "services/common/metrics/registry.h"
#include "services/runtime/distributed/invalidation_follower.h"
#include "services/runtime/distributed/invalidation_publisher.h"
#include "services/runtime/distributed/near_cache.h"
#include "services/runtime/history/history_store.h"
#include "services/runtime/server/advisory_counter.h"
#include "services/runtime/session/local_session_store.h"

namespace parley::metrics {

// What a runtime server reports on; null parts are left out (a LOCAL
// group's server has no near cache, a DISTRIBUTED one no local store).
struct RuntimeMetricsSources {
  std::string group;
  const session::LocalSessionStore* local_sessions = nullptr;
  const distributed::NearCache* near_cache = nullptr;
  const distributed::InvalidationFollower* follower = nullptr;
  const distributed::InvalidationPublisher* publisher = nullptr;
  const history::HistoryStore* history = nullptr;
  // Interaction calls waiting for a worker thread.
  std::function<size_t()> queued_calls;
  // Advisories answered, by code and level.
  const runtime::AdvisoryCounter* advisories = nullptr;
};

// Reports a runtime server's figures at each scrape: sessions held, the
// near cache's hits and misses, invalidations, history appends, queued
// calls and advisories. The sources must outlive the handle.
[[nodiscard]] CollectorHandle RegisterRuntimeMetrics(
    RuntimeMetricsSources sources, Registry* registry = &DefaultRegistry());

}  // namespace parley::metrics

#endif  // PARLEY_SERVICES_COMMON_METRICS_RUNTIME_METRICS_H_
