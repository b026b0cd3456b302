#include "tools/parleyctl/endpoint.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "tools/parleyctl/errors.h"

namespace parley::parleyctl {

absl::Status Endpoint::Describe(const grpc::Status& status) const {
  const absl::Status plain = FromGrpcStatus(status);
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return WithHint(
          absl::UnavailableError(absl::StrCat("cannot reach the ", role_,
                                              " at ", address_, ": ",
                                              status.error_message())),
          role_ == "coordinator"
              ? "check that the coordinator runs (scripts/status) and pass "
                "its address with --coordinator=HOST:PORT"
              : absl::StrCat("check that the ", role_,
                             " runs (`parleyctl status` lists the cluster's "
                             "members) and that its address is right"));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return WithHint(
          absl::DeadlineExceededError(absl::StrCat(
              "the ", role_, " at ", address_, " did not answer within ",
              absl::FormatDuration(timeout_))),
          "retry, or allow more time with --timeout (e.g. --timeout=60s)");
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      // The hint depends on --auth_token_file: RunCli adds it.
      return absl::Status(plain.code(),
                          absl::StrCat("the ", role_, " at ", address_,
                                       " refused the call: ", plain.message()));
    default:
      return plain;
  }
}

void Endpoint::SetDeadline(grpc::ClientContext& context,
                           absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration() || timeout <= absl::ZeroDuration()) {
    return;
  }
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(timeout));
}

}  // namespace parley::parleyctl
