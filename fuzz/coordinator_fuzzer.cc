// Fuzzes the coordinator's request handling in process: the input is a
// serialized parley.fuzz.CoordinatorScript (skipped when it does not
// parse), a sequence of Coordinator and Deployments requests run against a
// fresh CoordinatorCore over RocksDB in a scratch directory (tmpfs when
// there is one), with a clock the script moves. Streaming calls are run up
// to the checks made before the stream starts. With `reopen`, the
// coordinator is then closed and opened again on the same data.
//
// Checked beyond "no crash, no sanitizer error":
//  - a call never fails with INTERNAL, UNKNOWN or DATA_LOSS;
//  - every reply survives serialization;
//  - after a reopen the groups, configuration entries, deployments and
//    members read back as they were before it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fuzz/fuzz_inputs.pb.h"
#include "fuzz/fuzz_support.h"
#include "google/protobuf/message.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "proto/parley/v1/deployments.pb.h"
#include "services/coordinator/coordinator_core.h"

namespace parley::fuzz {
namespace {

using coordinator::CoordinatorCore;
using coordinator::CoordinatorOptions;

constexpr int kMaxCalls = 32;

// The coordinator's clock; its (idle) expiry thread may read it too.
class Clock {
 public:
  absl::Time Now() const {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ = absl::FromUnixSeconds(1748736000);  // 2025-06-01.
};

std::unique_ptr<CoordinatorCore> Open(const std::string& dir, Clock* clock) {
  CoordinatorOptions options;
  options.data_dir = dir;
  options.partitions = 16;
  options.replication_factor = 2;
  // Lapsed leases are removed only when the script asks.
  options.expiry_interval = absl::Hours(24);
  options.clock = [clock] { return clock->Now(); };
  absl::StatusOr<std::unique_ptr<CoordinatorCore>> core =
      CoordinatorCore::Open(options);
  PARLEY_FUZZ_CHECK(core.ok(), core.status().ToString());
  return *std::move(core);
}

void CheckStatus(const char* call, const absl::Status& status) {
  PARLEY_FUZZ_CHECK(status.code() != absl::StatusCode::kInternal &&
                        status.code() != absl::StatusCode::kUnknown &&
                        status.code() != absl::StatusCode::kDataLoss,
                    absl::StrCat(call, ": ", status.ToString()));
}

template <typename Reply>
void Check(const char* call, const absl::StatusOr<Reply>& reply) {
  CheckStatus(call, reply.status());
  if (reply.ok()) {
    PARLEY_FUZZ_CHECK(RoundTrips(*reply),
                      absl::StrCat(call, ": ", reply->ShortDebugString()));
  }
}

void RunCall(CoordinatorCore& core, const CoordinatorCall& call) {
  switch (call.call_case()) {
    case CoordinatorCall::kCreateGroup:
      Check("CreateGroup", core.CreateGroup(call.create_group()));
      break;
    case CoordinatorCall::kGetGroup:
      Check("GetGroup", core.GetGroup(call.get_group()));
      break;
    case CoordinatorCall::kListGroups: {
      const v1::ListGroupsResponse groups = core.ListGroups();
      PARLEY_FUZZ_CHECK(RoundTrips(groups), "ListGroups");
      break;
    }
    case CoordinatorCall::kUpdateGroup:
      Check("UpdateGroup", core.UpdateGroup(call.update_group()));
      break;
    case CoordinatorCall::kDeleteGroup:
      CheckStatus("DeleteGroup", core.DeleteGroup(call.delete_group()));
      break;
    case CoordinatorCall::kJoin:
      Check("Join", core.Join(call.join()));
      break;
    case CoordinatorCall::kHeartbeat:
      Check("Heartbeat", core.Heartbeat(call.heartbeat()));
      break;
    case CoordinatorCall::kLeave:
      CheckStatus("Leave", core.Leave(call.leave()));
      break;
    case CoordinatorCall::kListMembers:
      Check("ListMembers", core.ListMembers(call.list_members()));
      break;
    case CoordinatorCall::kWatchMembership:
      CheckStatus("WatchMembership",
                  core.ValidateMemberFilter(call.watch_membership().group(),
                                            call.watch_membership().role()));
      break;
    case CoordinatorCall::kPublish:
      Check("Publish", core.Publish(call.publish()));
      break;
    case CoordinatorCall::kSubscribe:
      CheckStatus("Subscribe",
                  core.StreamForSubscribe(call.subscribe()).status());
      break;
    case CoordinatorCall::kGetConfig:
      Check("GetConfig", core.GetConfig(call.get_config()));
      break;
    case CoordinatorCall::kListConfig:
      Check("ListConfig", core.ListConfig(call.list_config()));
      break;
    case CoordinatorCall::kSetConfig:
      Check("SetConfig", core.SetConfig(call.set_config()));
      break;
    case CoordinatorCall::kDeleteConfig:
      Check("DeleteConfig", core.DeleteConfig(call.delete_config()));
      break;
    case CoordinatorCall::kWatchConfig:
      CheckStatus("WatchConfig",
                  core.ValidateWatchPrefix(call.watch_config().prefix()));
      break;
    case CoordinatorCall::kGetPartitionTable: {
      const v1::PartitionTable table = core.GetPartitionTable();
      PARLEY_FUZZ_CHECK(RoundTrips(table), "GetPartitionTable");
      break;
    }
    case CoordinatorCall::kDeploy:
      Check("Deploy", core.Deploy(call.deploy()));
      break;
    case CoordinatorCall::kListDeployments:
      Check("ListDeployments",
            core.deployments().List(call.list_deployments()));
      break;
    case CoordinatorCall::kGetDeployment:
      Check("GetDeployment", core.deployments().Get(call.get_deployment()));
      break;
    case CoordinatorCall::kRollback:
      Check("Rollback", core.Rollback(call.rollback()));
      break;
    case CoordinatorCall::kUndeploy:
      Check("Undeploy", core.Undeploy(call.undeploy()));
      break;
    case CoordinatorCall::kWatchDeployments:
      CheckStatus("WatchDeployments", core.deployments().ValidateWatch(
                                          call.watch_deployments().group()));
      break;
    case CoordinatorCall::CALL_NOT_SET:
      break;
  }
}

// What a restart must keep, as text.
std::string DurableState(CoordinatorCore& core) {
  std::string state;
  const v1::ListGroupsResponse groups = core.ListGroups();
  for (v1::ServerGroup group : groups.groups()) {
    v1::ListDeploymentsRequest list;
    list.set_group(group.name());
    list.set_include_channel(true);
    absl::StatusOr<v1::ListDeploymentsResponse> deployments =
        core.deployments().List(list);
    PARLEY_FUZZ_CHECK(deployments.ok(), deployments.status().ToString());
    absl::StrAppend(&state, "deployments ", deployments->ShortDebugString(),
                    "\n");
    group.clear_live_members();  // Lease state; compared with the members.
    absl::StrAppend(&state, "group ", group.ShortDebugString(), "\n");
  }
  v1::ListConfigRequest all_config;
  absl::StatusOr<v1::ListConfigResponse> config = core.ListConfig(all_config);
  PARLEY_FUZZ_CHECK(config.ok(), config.status().ToString());
  for (const v1::ConfigEntry& entry : config->entries()) {
    absl::StrAppend(&state, "config ", entry.ShortDebugString(), "\n");
  }
  absl::StatusOr<v1::MembershipView> members =
      core.ListMembers(v1::ListMembersRequest());
  PARLEY_FUZZ_CHECK(members.ok(), members.status().ToString());
  for (const v1::Member& member : members->members()) {
    absl::StrAppend(&state, "member ", member.ShortDebugString(), "\n");
  }
  return state;
}

}  // namespace
}  // namespace parley::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::fuzz;
  if (size > 64 * 1024) return -1;
  CoordinatorScript script;
  if (!ParseInput(data, size, &script)) return 0;
  if (script.calls_size() > kMaxCalls) return -1;

  ScratchDir dir("coordinator");
  Clock clock;
  std::unique_ptr<CoordinatorCore> core = Open(dir.path(), &clock);
  for (const CoordinatorCall& call : script.calls()) {
    clock.Advance(absl::Milliseconds(call.advance_ms()));
    if (call.expire_members()) core->ExpireLapsedMembers();
    RunCall(*core, call);
  }
  if (script.reopen()) {
    const std::string before = DurableState(*core);
    core.reset();
    core = Open(dir.path(), &clock);
    const std::string after = DurableState(*core);
    PARLEY_FUZZ_CHECK(before == after,
                      absl::StrCat("state changed across a restart:\n--- "
                                   "before\n",
                                   before, "--- after\n", after));
  }
  return 0;
}
