#ifndef PARLEY_SERVICES_COMMON_RETRY_POLICY_H_
#define PARLEY_SERVICES_COMMON_RETRY_POLICY_H_

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace parley {

// The one client-side retry policy every Parley client uses: capped
// exponential backoff with full jitter, for failures that a retry can fix.
struct RetryPolicy {
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  double multiplier = 2.0;
  // Attempts in all, the first included; 0 means no limit.
  int max_attempts = 5;

  // The pause before retry number `retry` (1 for the first retry): a random
  // duration up to initial_backoff * multiplier^(retry-1), capped.
  absl::Duration Backoff(int retry, absl::BitGen& random) const;

  // True if another attempt is allowed after `attempts` attempts.
  bool AllowsAnother(int attempts) const {
    return max_attempts == 0 || attempts < max_attempts;
  }

  // True for failures a retry may fix: UNAVAILABLE always; also
  // DEADLINE_EXCEEDED and ABORTED when the call is safe to repeat.
  static bool IsRetryable(const absl::Status& status, bool idempotent);
};

}  // namespace parley

#endif  // PARLEY_SERVICES_COMMON_RETRY_POLICY_H_
