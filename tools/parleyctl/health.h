#ifndef PARLEY_TOOLS_PARLEYCTL_HEALTH_H_
#define PARLEY_TOOLS_PARLEYCTL_HEALTH_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace parley::parleyctl {

// A server's grpc.health.v1 status: "SERVING", "NOT_SERVING", "UNKNOWN",
// or "UNREACHABLE" when the check fails.
std::string CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                        absl::Duration timeout);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_HEALTH_H_
