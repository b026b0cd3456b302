#ifndef PARLEY_SERVICES_COMMON_TESTING_STATUS_MATCHERS_H_
#define PARLEY_SERVICES_COMMON_TESTING_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace parley::testing {

// The status of a Status or StatusOr, for matchers.
inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
inline const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// Matches a Status or StatusOr with `code` and a message matching
// `message_matcher` (e.g. HasSubstr("...")).
MATCHER_P2(StatusIs, code, message_matcher, "") {
  const absl::Status& status = ::parley::testing::GetStatus(arg);
  *result_listener << "status is " << status.ToString();
  return status.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(status.message()), result_listener);
}

// A fresh, unique directory under the test's temporary directory.
std::string MakeTempDir(const std::string& name);

}  // namespace parley::testing

#endif  // PARLEY_SERVICES_COMMON_TESTING_STATUS_MATCHERS_H_
