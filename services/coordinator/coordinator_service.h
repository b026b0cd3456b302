#ifndef PARLEY_SERVICES_COORDINATOR_COORDINATOR_SERVICE_H_
#define PARLEY_SERVICES_COORDINATOR_COORDINATOR_SERVICE_H_

#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/common/stream_writers.h"
#include "services/coordinator/coordinator_core.h"

namespace parley::coordinator {

// parley.v1.Coordinator over gRPC's callback API: a thin adapter that hands
// each call to CoordinatorCore.
class CoordinatorService final : public v1::Coordinator::CallbackService {
 public:
  // `core` is not owned and must outlive the service.
  explicit CoordinatorService(CoordinatorCore* core) : core_(core) {}

  // Ends every open stream (watches and subscriptions) with UNAVAILABLE so
  // clients reconnect elsewhere or later; call before shutting down.
  void CloseStreams() { streams_.CloseAll(); }

  grpc::ServerUnaryReactor* CreateGroup(grpc::CallbackServerContext* context,
                                        const v1::CreateGroupRequest* request,
                                        v1::ServerGroup* response) override;
  grpc::ServerUnaryReactor* GetGroup(grpc::CallbackServerContext* context,
                                     const v1::GetGroupRequest* request,
                                     v1::ServerGroup* response) override;
  grpc::ServerUnaryReactor* ListGroups(
      grpc::CallbackServerContext* context,
      const v1::ListGroupsRequest* request,
      v1::ListGroupsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateGroup(grpc::CallbackServerContext* context,
                                        const v1::UpdateGroupRequest* request,
                                        v1::ServerGroup* response) override;
  grpc::ServerUnaryReactor* DeleteGroup(
      grpc::CallbackServerContext* context,
      const v1::DeleteGroupRequest* request,
      v1::DeleteGroupResponse* response) override;

  grpc::ServerUnaryReactor* Join(grpc::CallbackServerContext* context,
                                 const v1::JoinRequest* request,
                                 v1::JoinResponse* response) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* Leave(grpc::CallbackServerContext* context,
                                  const v1::LeaveRequest* request,
                                  v1::LeaveResponse* response) override;
  grpc::ServerUnaryReactor* ListMembers(grpc::CallbackServerContext* context,
                                        const v1::ListMembersRequest* request,
                                        v1::MembershipView* response) override;
  grpc::ServerWriteReactor<v1::MembershipEvent>* WatchMembership(
      grpc::CallbackServerContext* context,
      const v1::WatchMembershipRequest* request) override;

  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const v1::PublishRequest* request,
                                    v1::PublishResponse* response) override;
  grpc::ServerWriteReactor<v1::BroadcastEvent>* Subscribe(
      grpc::CallbackServerContext* context,
      const v1::SubscribeRequest* request) override;

  grpc::ServerUnaryReactor* GetConfig(grpc::CallbackServerContext* context,
                                      const v1::GetConfigRequest* request,
                                      v1::ConfigEntry* response) override;
  grpc::ServerUnaryReactor* ListConfig(
      grpc::CallbackServerContext* context,
      const v1::ListConfigRequest* request,
      v1::ListConfigResponse* response) override;
  grpc::ServerUnaryReactor* SetConfig(grpc::CallbackServerContext* context,
                                      const v1::SetConfigRequest* request,
                                      v1::ConfigEntry* response) override;
  grpc::ServerUnaryReactor* DeleteConfig(
      grpc::CallbackServerContext* context,
      const v1::DeleteConfigRequest* request,
      v1::DeleteConfigResponse* response) override;
  grpc::ServerWriteReactor<v1::ConfigEvent>* WatchConfig(
      grpc::CallbackServerContext* context,
      const v1::WatchConfigRequest* request) override;

  grpc::ServerUnaryReactor* GetPartitionTable(
      grpc::CallbackServerContext* context,
      const v1::GetPartitionTableRequest* request,
      v1::PartitionTable* response) override;
  grpc::ServerWriteReactor<v1::PartitionTable>* WatchPartitionTable(
      grpc::CallbackServerContext* context,
      const v1::WatchPartitionTableRequest* request) override;

 private:
  CoordinatorCore* const core_;
  StreamRegistry streams_;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_COORDINATOR_SERVICE_H_
