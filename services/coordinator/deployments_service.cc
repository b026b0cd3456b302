#include "services/coordinator/deployments_service.h"

#include <utility>

#include "services/common/auth/authorizer.h"
#include "services/common/grpc_status.h"
#include "services/common/unary_reply.h"

namespace parley::coordinator {
namespace {

// Watch streams end (ABORTED) when this many events wait for a reader.
constexpr size_t kMaxQueuedWatchEvents = 1000;

}  // namespace

grpc::ServerUnaryReactor* DeploymentsService::Deploy(
    grpc::CallbackServerContext* context, const v1::DeployRequest* request,
    v1::Deployment* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.Deployments/Deploy");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->Deploy(*request), response);
}

grpc::ServerUnaryReactor* DeploymentsService::ListDeployments(
    grpc::CallbackServerContext* context,
    const v1::ListDeploymentsRequest* request,
    v1::ListDeploymentsResponse* response) {
  if (absl::Status denied =
          auth::Require(*context, auth::Need::kAuthenticated,
                        "parley.v1.Deployments/ListDeployments");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->deployments().List(*request), response);
}

grpc::ServerUnaryReactor* DeploymentsService::GetDeployment(
    grpc::CallbackServerContext* context,
    const v1::GetDeploymentRequest* request, v1::Deployment* response) {
  if (absl::Status denied =
          auth::Require(*context, auth::Need::kAuthenticated,
                        "parley.v1.Deployments/GetDeployment");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->deployments().Get(*request), response);
}

grpc::ServerUnaryReactor* DeploymentsService::Rollback(
    grpc::CallbackServerContext* context, const v1::RollbackRequest* request,
    v1::Deployment* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.Deployments/Rollback");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->Rollback(*request), response);
}

grpc::ServerUnaryReactor* DeploymentsService::Undeploy(
    grpc::CallbackServerContext* context, const v1::UndeployRequest* request,
    v1::UndeployResponse* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.Deployments/Undeploy");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->Undeploy(*request), response);
}

grpc::ServerWriteReactor<v1::DeploymentEvent>*
DeploymentsService::WatchDeployments(
    grpc::CallbackServerContext* context,
    const v1::WatchDeploymentsRequest* request) {
  if (absl::Status denied =
          auth::Require(*context, auth::Need::kAuthenticated,
                        "parley.v1.Deployments/WatchDeployments");
      !denied.ok()) {
    return new FailedStreamWriter<v1::DeploymentEvent>(ToGrpcStatus(denied));
  }
  DeploymentStore& deployments = core_->deployments();
  if (absl::Status s = deployments.ValidateWatch(request->group()); !s.ok()) {
    return new FailedStreamWriter<v1::DeploymentEvent>(ToGrpcStatus(s));
  }
  auto* writer = new QueuedStreamWriter<v1::DeploymentEvent>(
      &streams_, kMaxQueuedWatchEvents);
  v1::DeploymentEvent snapshot;
  uint64_t id = deployments.Watch(
      request->group(),
      [writer](const v1::DeploymentEvent& event) { writer->Push(event); },
      &snapshot);
  writer->Begin(std::move(snapshot),
                [&deployments, id] { deployments.Unwatch(id); });
  return writer;
}

}  // namespace parley::coordinator
