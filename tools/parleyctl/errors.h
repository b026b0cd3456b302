#ifndef PARLEY_TOOLS_PARLEYCTL_ERRORS_H_
#define PARLEY_TOOLS_PARLEYCTL_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace parley::parleyctl {

// parleyctl's exit codes.
enum ExitCode : int {
  kExitOk = 0,
  // The operation failed: the server refused it (NOT_FOUND, ALREADY_EXISTS,
  // ABORTED, INVALID_ARGUMENT...) or its caller (UNAUTHENTICATED,
  // PERMISSION_DENIED), or the result is a failure (rejected rows,
  // unhealthy members).
  kExitFailed = 1,
  // The command line is wrong: unknown command or option, missing or
  // malformed argument, a file that cannot be read.
  kExitUsage = 2,
  // A server cannot be reached (UNAVAILABLE, DEADLINE_EXCEEDED).
  kExitUnreachable = 3,
};

// A usage error: exits with kExitUsage.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

// Attaches what the user should do next; printed under the message.
absl::Status WithHint(absl::Status status, absl::string_view hint);
// The hint attached to `status`, or "".
std::string HintOf(const absl::Status& status);

// Marks a failure whose outcome the command has already printed (e.g. a
// load report with rejected rows): --json prints no error object for it.
absl::Status AlreadyReported(absl::Status status);
bool IsAlreadyReported(const absl::Status& status);

// The exit code for a failed command's status.
ExitCode ExitCodeFor(const absl::Status& status);

// The canonical name of the status code, e.g. "NOT_FOUND".
std::string CodeName(absl::StatusCode code);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_ERRORS_H_
