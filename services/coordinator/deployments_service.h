#ifndef PARLEY_SERVICES_COORDINATOR_DEPLOYMENTS_SERVICE_H_
#define PARLEY_SERVICES_COORDINATOR_DEPLOYMENTS_SERVICE_H_

#include "proto/parley/v1/deployments.grpc.pb.h"
#include "services/common/stream_writers.h"
#include "services/coordinator/coordinator_core.h"

namespace parley::coordinator {

// parley.v1.Deployments over gRPC's callback API: a thin adapter over the
// coordinator core's deployment store.
class DeploymentsService final : public v1::Deployments::CallbackService {
 public:
  // `core` is not owned and must outlive the service.
  explicit DeploymentsService(CoordinatorCore* core) : core_(core) {}

  // Ends every open watch with UNAVAILABLE so runtime servers reconnect;
  // call before shutting down.
  void CloseStreams() { streams_.CloseAll(); }

  grpc::ServerUnaryReactor* Deploy(grpc::CallbackServerContext* context,
                                   const v1::DeployRequest* request,
                                   v1::Deployment* response) override;
  grpc::ServerUnaryReactor* ListDeployments(
      grpc::CallbackServerContext* context,
      const v1::ListDeploymentsRequest* request,
      v1::ListDeploymentsResponse* response) override;
  grpc::ServerUnaryReactor* GetDeployment(
      grpc::CallbackServerContext* context,
      const v1::GetDeploymentRequest* request,
      v1::Deployment* response) override;
  grpc::ServerUnaryReactor* Rollback(grpc::CallbackServerContext* context,
                                     const v1::RollbackRequest* request,
                                     v1::Deployment* response) override;
  grpc::ServerUnaryReactor* Undeploy(grpc::CallbackServerContext* context,
                                     const v1::UndeployRequest* request,
                                     v1::UndeployResponse* response) override;
  grpc::ServerWriteReactor<v1::DeploymentEvent>* WatchDeployments(
      grpc::CallbackServerContext* context,
      const v1::WatchDeploymentsRequest* request) override;

 private:
  CoordinatorCore* const core_;
  StreamRegistry streams_;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_DEPLOYMENTS_SERVICE_H_
