#ifndef PARLEY_SERVICES_RUNTIME_SERVER_GROUP_WATCH_H_
#define PARLEY_SERVICES_RUNTIME_SERVER_GROUP_WATCH_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"

namespace parley::runtime {

// Reads server group `group` from the coordinator, retrying while the
// coordinator is unreachable or the group does not exist yet (logging how
// to create it) until `stop()` returns true (then CANCELLED); the group's
// settings come back with every default filled in.
absl::StatusOr<v1::ServerGroup> AwaitGroup(
    v1::Coordinator::StubInterface* coordinator, const std::string& group,
    const std::function<bool()>& stop);

}  // namespace parley::runtime

#endif  // PARLEY_SERVICES_RUNTIME_SERVER_GROUP_WATCH_H_
