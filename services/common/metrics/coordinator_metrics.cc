#include "services/common/metrics/coordinator_metrics.h"

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"

namespace parley::metrics {
namespace {

namespace v1 = ::parley::v1;

std::string RoleName(v1::MemberRole role) {
  switch (role) {
    case v1::RUNTIME_SERVER:
      return "runtime";
    case v1::CACHE_NODE:
      return "cache";
    default:
      return absl::AsciiStrToLower(v1::MemberRole_Name(role));
  }
}

void Collect(coordinator::CoordinatorCore* core,
             std::deque<CollectedFamily>* out) {
  const v1::ListGroupsResponse groups = core->ListGroups();
  AddCollected(out, "parley_coordinator_groups", "server groups",
               MetricType::kGauge)
      .Add({}, groups.groups_size());

  // Every group appears, with 0 when it has no members of a role.
  std::map<std::pair<std::string, std::string>, int> members;
  for (const v1::ServerGroup& group : groups.groups()) {
    members[{"runtime", group.name()}] = 0;
  }
  members[{"cache", ""}] = 0;
  const v1::MembershipView view =
      core->membership().List("", v1::MEMBER_ROLE_UNSPECIFIED);
  for (const v1::Member& member : view.members()) {
    ++members[{RoleName(member.role()), member.group()}];
  }
  CollectedFamily& by_role = AddCollected(
      out, "parley_coordinator_members",
      "live members by role (runtime, cache) and server group (empty for "
      "cache nodes)",
      MetricType::kGauge, {"role", "group"});
  for (const auto& [key, count] : members) {
    by_role.Add({key.first, key.second}, count);
  }

  AddCollected(out, "parley_coordinator_partitions_waiting_for_replicas",
               "partitions none of whose cache nodes is live, unavailable "
               "until one comes back (or --orphaned_partition_wait_seconds "
               "passes)",
               MetricType::kGauge)
      .Add({}, core->table().WaitingPartitions());

  CollectedFamily& head = AddCollected(
      out, "parley_coordinator_broadcast_head_sequence",
      "sequence of the last invalidation entry of each group's broadcast "
      "(starts over with parley_coordinator_broadcast_epoch)",
      MetricType::kGauge, {"group"});
  CollectedFamily& subscribers =
      AddCollected(out, "parley_coordinator_broadcast_subscribers",
                   "subscribers reading each group's broadcast now",
                   MetricType::kGauge, {"group"});
  CollectedFamily& lag = AddCollected(
      out, "parley_coordinator_broadcast_subscriber_lag_max",
      "entries the furthest-behind subscriber of each group has yet to be "
      "sent",
      MetricType::kGauge, {"group"});
  CollectedFamily& deployed =
      AddCollected(out, "parley_coordinator_deployed_channels",
                   "channels each group serves (an active deployed version)",
                   MetricType::kGauge, {"group"});
  CollectedFamily& versions =
      AddCollected(out, "parley_coordinator_deployment_versions",
                   "deployed channel versions kept per group, active or not",
                   MetricType::kGauge, {"group"});
  for (const v1::ServerGroup& group : groups.groups()) {
    if (std::shared_ptr<coordinator::GroupStream> stream =
            core->broadcast().Find(group.name());
        stream != nullptr) {
      absl::MutexLock lock(&stream->mu());
      head.Add({group.name()}, stream->log().head());
      subscribers.Add({group.name()}, stream->SubscriberCountLocked());
      lag.Add({group.name()}, stream->MaxSubscriberLagLocked());
    }
    v1::ListDeploymentsRequest request;
    request.set_group(group.name());
    absl::StatusOr<v1::ListDeploymentsResponse> list =
        core->deployments().List(request);
    if (!list.ok()) continue;  // the group went away meanwhile
    int active = 0;
    for (const v1::Deployment& deployment : list->deployments()) {
      if (deployment.active()) ++active;
    }
    deployed.Add({group.name()}, active);
    versions.Add({group.name()}, list->deployments_size());
  }
  AddCollected(out, "parley_coordinator_broadcast_epoch",
               "the coordinator's stream epoch (grows with every start)",
               MetricType::kGauge)
      .Add({}, core->epoch());

  const v1::PartitionTable table = core->GetPartitionTable();
  AddCollected(out, "parley_coordinator_partition_table_epoch",
               "epoch of the cache tier's partition table (grows with every "
               "change)",
               MetricType::kGauge)
      .Add({}, table.epoch());
  AddCollected(out, "parley_coordinator_partitions",
               "partitions of the cache tier", MetricType::kGauge)
      .Add({}, table.partition_count());
}

}  // namespace

CollectorHandle RegisterCoordinatorMetrics(coordinator::CoordinatorCore* core,
                                           Registry* registry) {
  return registry->AddCollector(
      [core](std::deque<CollectedFamily>* out) { Collect(core, out); });
}

}  // namespace parley::metrics
