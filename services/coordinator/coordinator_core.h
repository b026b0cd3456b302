#ifndef PARLEY_SERVICES_COORDINATOR_COORDINATOR_CORE_H_
#define PARLEY_SERVICES_COORDINATOR_COORDINATOR_CORE_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/coordinator/broadcast_hub.h"
#include "services/coordinator/config_store.h"
#include "services/coordinator/deployment_store.h"
#include "services/coordinator/durable_store.h"
#include "services/coordinator/group_registry.h"
#include "services/coordinator/membership.h"
#include "services/coordinator/partition_table_manager.h"

namespace parley::coordinator {

// How a coordinator runs.
struct CoordinatorOptions {
  std::string data_dir;
  uint32_t partitions = 256;
  uint32_t replication_factor = 3;
  BroadcastLimits broadcast;
  // How often lapsed leases are looked for.
  absl::Duration expiry_interval = absl::Milliseconds(100);
  // How long a partition none of whose replicas is live waits for one to
  // come back before it starts empty on live nodes.
  absl::Duration orphaned_partition_wait = absl::Minutes(5);
  Membership::Clock clock = [] { return absl::Now(); };
};

// The coordinator's domain core: every Coordinator RPC as a method, with
// input validation, over the groups, membership, broadcast, configuration
// and partition table. The gRPC service is a thin adapter over it.
class CoordinatorCore {
 public:
  // Opens the state in options.data_dir and starts lease expiry.
  static absl::StatusOr<std::unique_ptr<CoordinatorCore>> Open(
      CoordinatorOptions options);

  // Stops lease expiry and closes every broadcast stream.
  ~CoordinatorCore();

  absl::StatusOr<v1::ServerGroup> CreateGroup(
      const v1::CreateGroupRequest& request);
  absl::StatusOr<v1::ServerGroup> GetGroup(const v1::GetGroupRequest& request);
  v1::ListGroupsResponse ListGroups();
  absl::StatusOr<v1::ServerGroup> UpdateGroup(
      const v1::UpdateGroupRequest& request);
  absl::Status DeleteGroup(const v1::DeleteGroupRequest& request);

  absl::StatusOr<v1::JoinResponse> Join(const v1::JoinRequest& request);
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(
      const v1::HeartbeatRequest& request);
  absl::Status Leave(const v1::LeaveRequest& request);
  absl::StatusOr<v1::MembershipView> ListMembers(
      const v1::ListMembersRequest& request);
  // Checks a membership filter (WatchMembership, ListMembers).
  absl::Status ValidateMemberFilter(absl::string_view group,
                                    v1::MemberRole role);

  absl::StatusOr<v1::PublishResponse> Publish(
      const v1::PublishRequest& request);
  // Checks a Subscribe request and returns the group's stream.
  absl::StatusOr<std::shared_ptr<GroupStream>> StreamForSubscribe(
      const v1::SubscribeRequest& request);

  absl::StatusOr<v1::ConfigEntry> GetConfig(
      const v1::GetConfigRequest& request);
  absl::StatusOr<v1::ListConfigResponse> ListConfig(
      const v1::ListConfigRequest& request);
  absl::StatusOr<v1::ConfigEntry> SetConfig(
      const v1::SetConfigRequest& request);
  absl::StatusOr<v1::DeleteConfigResponse> DeleteConfig(
      const v1::DeleteConfigRequest& request);
  // Checks a WatchConfig prefix.
  absl::Status ValidateWatchPrefix(absl::string_view prefix);

  v1::PartitionTable GetPartitionTable() { return table_->Get(); }

  // Deployment changes, serialised against group deletion so no channel is
  // deployed to a group that is being deleted (see DeploymentStore).
  absl::StatusOr<v1::Deployment> Deploy(const v1::DeployRequest& request);
  absl::StatusOr<v1::Deployment> Rollback(const v1::RollbackRequest& request);
  absl::StatusOr<v1::UndeployResponse> Undeploy(
      const v1::UndeployRequest& request);

  // The parts streams attach to.
  Membership& membership() { return *membership_; }
  ConfigStore& config() { return *config_; }
  PartitionTableManager& table() { return *table_; }
  BroadcastHub& broadcast() { return *broadcast_; }
  // Reads and watches of deployments go here directly.
  DeploymentStore& deployments() { return *deployments_; }

  // The coordinator's stream epoch (grows with every start).
  uint64_t epoch() const { return broadcast_->epoch(); }

  // Removes members whose lease lapsed (also run periodically).
  int ExpireLapsedMembers();

  // Closes every stream and flushes state; the destructor does it too.
  void Stop();

 private:
  explicit CoordinatorCore(CoordinatorOptions options)
      : options_(std::move(options)) {}
  void RunExpiry();
  // Commits one configuration write made through the generic calls, after
  // the group registry's checks.
  absl::StatusOr<uint64_t> CommitConfigWrite(const ConfigWrite& write);

  CoordinatorOptions options_;
  std::unique_ptr<DurableStore> store_;
  std::unique_ptr<ConfigStore> config_;
  std::unique_ptr<GroupRegistry> groups_;
  std::unique_ptr<DeploymentStore> deployments_;
  std::unique_ptr<Membership> membership_;
  std::unique_ptr<PartitionTableManager> table_;
  std::unique_ptr<BroadcastHub> broadcast_;
  uint64_t table_watch_id_ = 0;
  // Serialises group deletion against joins, so no member joins a group
  // that is being deleted.
  absl::Mutex control_mu_;
  absl::Notification stopping_;
  std::thread expiry_thread_;
  bool stopped_ = false;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_COORDINATOR_CORE_H_
