#include "services/common/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace parley {

absl::Duration RetryPolicy::Backoff(int retry, absl::BitGen& random) const {
  double scale = std::pow(multiplier, std::max(0, retry - 1));
  absl::Duration ceiling = std::min(max_backoff, initial_backoff * scale);
  if (ceiling <= absl::ZeroDuration()) return absl::ZeroDuration();
  return absl::Nanoseconds(absl::Uniform<int64_t>(
      random, 0, absl::ToInt64Nanoseconds(ceiling) + 1));
}

bool RetryPolicy::IsRetryable(const absl::Status& status, bool idempotent) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      return true;
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return idempotent;
    default:
      return false;
  }
}

}  // namespace parley
