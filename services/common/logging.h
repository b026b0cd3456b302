#ifndef PARLEY_SERVICES_COMMON_LOGGING_H_
#define PARLEY_SERVICES_COMMON_LOGGING_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

namespace parley {

// Sets up the process-wide logger (stderr, one line per record, with the
// role's name) at `level` ("trace", "debug", "info", "warn", "error").
// Returns INVALID_ARGUMENT for an unknown level.
absl::Status InitLogging(absl::string_view role, absl::string_view level);

// Flushes buffered log records; called before a server exits.
void FlushLogs();

}  // namespace parley

#endif  // PARLEY_SERVICES_COMMON_LOGGING_H_
