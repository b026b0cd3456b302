#include "services/common/retry_policy.h"

#include "gtest/gtest.h"

namespace parley {
namespace {

TEST(RetryPolicyTest, BackoffGrowsAndIsCapped) {
  RetryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.max_backoff = absl::Milliseconds(400);
  absl::BitGen random;
  absl::Duration longest_first = absl::ZeroDuration();
  absl::Duration longest_late = absl::ZeroDuration();
  for (int i = 0; i < 2000; ++i) {
    absl::Duration first = policy.Backoff(1, random);
    absl::Duration late = policy.Backoff(10, random);
    EXPECT_GE(first, absl::ZeroDuration());
    EXPECT_LE(first, absl::Milliseconds(100));
    EXPECT_LE(late, absl::Milliseconds(400));
    longest_first = std::max(longest_first, first);
    longest_late = std::max(longest_late, late);
  }
  // Jittered over the whole range: the later retries wait longer.
  EXPECT_GT(longest_first, absl::Milliseconds(50));
  EXPECT_GT(longest_late, absl::Milliseconds(200));
}

TEST(RetryPolicyTest, AttemptsAreBounded) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  EXPECT_TRUE(policy.AllowsAnother(2));
  EXPECT_FALSE(policy.AllowsAnother(3));
  policy.max_attempts = 0;
  EXPECT_TRUE(policy.AllowsAnother(1000));
}

TEST(RetryPolicyTest, RetryableCodes) {
  EXPECT_TRUE(RetryPolicy::IsRetryable(absl::UnavailableError("x"), false));
  EXPECT_FALSE(
      RetryPolicy::IsRetryable(absl::DeadlineExceededError("x"), false));
  EXPECT_TRUE(RetryPolicy::IsRetryable(absl::DeadlineExceededError("x"), true));
  EXPECT_FALSE(RetryPolicy::IsRetryable(absl::InvalidArgumentError("x"), true));
  EXPECT_FALSE(RetryPolicy::IsRetryable(absl::NotFoundError("x"), true));
}

}  // namespace
}  // namespace parley
