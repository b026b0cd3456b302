#include "tools/parleyctl/health.h"

#include "grpc/health/v1/health.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/impl/rpc_method.h"
#include "tools/parleyctl/endpoint.h"

namespace parley::parleyctl {

std::string CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                        absl::Duration timeout) {
  // The generated health stub is test-only in this repository; the call is
  // a plain unary one.
  const grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                         grpc::internal::RpcMethod::NORMAL_RPC,
                                         channel);
  grpc::ClientContext context;
  Endpoint::SetDeadline(context, timeout);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = grpc::internal::BlockingUnaryCall(
      channel.get(), method, &context, request, &response);
  if (!status.ok()) return "UNREACHABLE";
  switch (response.status()) {
    case grpc::health::v1::HealthCheckResponse::SERVING:
      return "SERVING";
    case grpc::health::v1::HealthCheckResponse::NOT_SERVING:
      return "NOT_SERVING";
    default:
      return "UNKNOWN";
  }
}

}  // namespace parley::parleyctl
