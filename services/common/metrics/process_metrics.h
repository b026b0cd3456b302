#ifndef PARLEY_SERVICES_COMMON_METRICS_PROCESS_METRICS_H_
#define PARLEY_SERVICES_COMMON_METRICS_PROCESS_METRICS_H_

#include "absl/strings/string_view.h"
#include "services/common/metrics/registry.h"

namespace parley::metrics {

// Adds, once per process, the standard process_* figures read from /proc
// (CPU seconds, resident and virtual memory, open and maximum file
// descriptors, start time) and parley_build_info{role,version} to
// `registry`.
void RegisterProcessMetrics(Registry* registry, absl::string_view role);

}  // namespace parley::metrics

#endif  // PARLEY_SERVICES_COMMON_METRICS_PROCESS_METRICS_H_
