#ifndef PARLEY_SERVICES_COMMON_GRPC_STATUS_H_
#define PARLEY_SERVICES_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace parley {

// Converts an absl::Status to the gRPC status with the same code and
// message.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

// Converts a gRPC status to the absl::Status with the same code and
// message.
inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace parley

#endif  // PARLEY_SERVICES_COMMON_GRPC_STATUS_H_
