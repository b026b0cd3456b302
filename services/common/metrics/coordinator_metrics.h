#ifndef PARLEY_SERVICES_COMMON_METRICS_COORDINATOR_METRICS_H_
#define PARLEY_SERVICES_COMMON_METRICS_COORDINATOR_METRICS_H_

#include "services/common/metrics/registry.h"
#include "services/coordinator/coordinator_core.h"

namespace parley::metrics {

// Reports the coordinator's figures at each scrape: groups, live members
// by role and group, each group's broadcast head, subscribers and lag,
// deployments and the partition table. `core` must outlive the handle.
[[nodiscard]] CollectorHandle RegisterCoordinatorMetrics(
    coordinator::CoordinatorCore* core,
    Registry* registry = &DefaultRegistry());

}  // namespace parley::metrics

#endif  // PARLEY_SERVICES_COMMON_METRICS_COORDINATOR_METRICS_H_
