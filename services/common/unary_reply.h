#ifndef PARLEY_SERVICES_COMMON_UNARY_REPLY_H_
#define PARLEY_SERVICES_COMMON_UNARY_REPLY_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/support/server_callback.h"
#include "services/common/grpc_status.h"

namespace parley {

// Finishes a callback-API unary call at once with `status`.
inline grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context,
                                       const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// The same with an absl::Status (same code and message).
inline grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context,
                                       const absl::Status& status) {
  return Reply(context, ToGrpcStatus(status));
}

// Finishes a unary call with `result`: its value becomes the response, or
// its error the call's status.
template <typename Response>
grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context,
                                absl::StatusOr<Response> result,
                                Response* response) {
  if (result.ok()) *response = std::move(*result);
  return Reply(context, result.status());
}

}  // namespace parley

#endif  // PARLEY_SERVICES_COMMON_UNARY_REPLY_H_
