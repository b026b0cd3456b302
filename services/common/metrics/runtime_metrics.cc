#include "services/common/metrics/runtime_metrics.h"

#include <deque>
#include <utility>
#include <vector>

namespace parley::metrics {
namespace {

void Collect(const RuntimeMetricsSources& s, std::deque<CollectedFamily>* out) {
  const LabelValues group = {s.group};
  if (s.local_sessions != nullptr) {
    AddCollected(out, "parley_runtime_local_sessions",
                 "live sessions held in memory (LOCAL-cache group)",
                 MetricType::kGauge, {"group"})
        .Add(group, s.local_sessions->size());
  }
  if (s.near_cache != nullptr) {
    const distributed::NearCache& cache = *s.near_cache;
    AddCollected(out, "parley_runtime_near_cache_sessions",
                 "sessions held in the near cache (DISTRIBUTED-cache group)",
                 MetricType::kGauge, {"group"})
        .Add(group, cache.size());
    AddCollected(out, "parley_runtime_near_cache_capacity",
                 "the most sessions the near cache holds", MetricType::kGauge,
                 {"group"})
        .Add(group, cache.capacity());
    AddCollected(out, "parley_runtime_near_cache_enabled",
                 "1 while the near cache serves (its invalidation stream is "
                 "live), else 0",
                 MetricType::kGauge, {"group"})
        .Add(group, cache.enabled() ? 1 : 0);
    AddCollected(out, "parley_runtime_near_cache_lookups_total",
                 "near-cache lookups by result (hit, miss)",
                 MetricType::kCounter, {"group", "result"})
        .Add({s.group, "hit"}, cache.hits())
        .Add({s.group, "miss"}, cache.misses());
  }
  if (s.follower != nullptr) {
    const distributed::InvalidationFollower& follower = *s.follower;
    AddCollected(out, "parley_runtime_invalidations_received_total",
                 "invalidations of the group's sessions received from the "
                 "broadcast",
                 MetricType::kCounter, {"group"})
        .Add(group, follower.invalidations());
    AddCollected(out, "parley_runtime_invalidation_evictions_total",
                 "received invalidations that dropped a near-cache copy",
                 MetricType::kCounter, {"group"})
        .Add(group, follower.evictions());
    AddCollected(out, "parley_runtime_near_cache_flushes_total",
                 "times the whole near cache was dropped (stream starts, "
                 "gaps, drops)",
                 MetricType::kCounter, {"group"})
        .Add(group, follower.flushes());
    AddCollected(out, "parley_runtime_broadcast_live",
                 "1 while the group's invalidation stream is live, else 0",
                 MetricType::kGauge, {"group"})
        .Add(group, follower.live() ? 1 : 0);
    const v1::StreamPosition position = follower.position();
    AddCollected(out, "parley_runtime_broadcast_applied_sequence",
                 "sequence of the last broadcast entry applied; the "
                 "coordinator's parley_coordinator_broadcast_head_sequence "
                 "minus this is the lag",
                 MetricType::kGauge, {"group", "epoch"})
        .Add({s.group, std::to_string(position.epoch())}, position.sequence());
  }
  if (s.publisher != nullptr) {
    AddCollected(out, "parley_runtime_invalidations_dropped_total",
                 "invalidations not published because too many were pending",
                 MetricType::kCounter, {"group"})
        .Add(group, s.publisher->dropped());
    AddCollected(out, "parley_runtime_invalidation_publish_failures_total",
                 "Publish calls to the coordinator that failed (retried)",
                 MetricType::kCounter, {"group"})
        .Add(group, s.publisher->failures());
  }
  if (s.history != nullptr) {
    AddCollected(out, "parley_runtime_history_appends_total",
                 "contact and response history records by outcome (stored, "
                 "failed)",
                 MetricType::kCounter, {"group", "result"})
        .Add({s.group, "stored"}, s.history->stored())
        .Add({s.group, "failed"}, s.history->failed());
  }
  if (s.advisories != nullptr) {
    CollectedFamily& family = AddCollected(
        out, "parley_runtime_advisories_total",
        "advisories answered by the interaction API, by code and level "
        "(WARNING, ERROR)",
        MetricType::kCounter, {"group", "code", "level"});
    s.advisories->ForEach(
        [&](absl::string_view code, absl::string_view level, uint64_t count) {
          family.Add({s.group, std::string(code), std::string(level)}, count);
        });
  }
  if (s.queued_calls) {
    AddCollected(out, "parley_runtime_queued_calls",
                 "interaction calls waiting for a worker thread",
                 MetricType::kGauge)
        .Add({}, s.queued_calls());
  }
}

}  // namespace

CollectorHandle RegisterRuntimeMetrics(RuntimeMetricsSources sources,
                                       Registry* registry) {
  return registry->AddCollector(
      [sources = std::move(sources)](std::deque<CollectedFamily>* out) {
        Collect(sources, out);
      });
}

}  // namespace parley::metrics
