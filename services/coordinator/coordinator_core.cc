#include "services/coordinator/coordinator_core.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/names.h"
#include "spdlog/spdlog.h"

namespace parley::coordinator {
namespace {

constexpr absl::string_view kBootCountKey = "meta/boot_count";
constexpr size_t kMaxConfigValueBytes = 64 * 1024;

absl::Status CheckValueSize(const std::string& value) {
  if (value.size() > kMaxConfigValueBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is ", value.size(), " bytes; at most ",
                     kMaxConfigValueBytes, " are allowed"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CoordinatorCore>> CoordinatorCore::Open(
    CoordinatorOptions options) {
  std::unique_ptr<CoordinatorCore> core(new CoordinatorCore(options));
  absl::StatusOr<std::unique_ptr<DurableStore>> store =
      DurableStore::Open(options.data_dir);
  if (!store.ok()) return store.status();
  core->store_ = std::move(*store);

  absl::StatusOr<uint64_t> boots = core->store_->GetCounter(kBootCountKey);
  if (!boots.ok()) return boots.status();
  const uint64_t epoch = *boots + 1;
  if (absl::Status s = core->store_->Write(
          {{std::string(kBootCountKey), absl::StrCat(epoch)}}, /*sync=*/true);
      !s.ok()) {
    return s;
  }

  absl::StatusOr<std::unique_ptr<ConfigStore>> config =
      ConfigStore::Load(core->store_.get());
  if (!config.ok()) return config.status();
  core->config_ = std::move(*config);
  core->groups_ = std::make_unique<GroupRegistry>(core->config_.get());

  GroupRegistry* groups = core->groups_.get();
  absl::StatusOr<std::unique_ptr<DeploymentStore>> deployments =
      DeploymentStore::Load(core->store_.get(), [groups](
                                                    absl::string_view group) {
        if (groups->Get(group).ok()) return absl::OkStatus();
        return absl::NotFoundError(absl::StrCat(
            "no server group '", group, "'; create it with CreateGroup first"));
      });
  if (!deployments.ok()) return deployments.status();
  core->deployments_ = std::move(*deployments);

  absl::StatusOr<std::unique_ptr<Membership>> membership =
      Membership::Load(core->store_.get(), options.clock);
  if (!membership.ok()) return membership.status();
  core->membership_ = std::move(*membership);

  absl::StatusOr<std::unique_ptr<PartitionTableManager>> table =
      PartitionTableManager::Load(
          core->store_.get(), options.partitions, options.replication_factor,
          options.orphaned_partition_wait, options.clock);
  if (!table.ok()) return table.status();
  core->table_ = std::move(*table);

  core->broadcast_ = std::make_unique<BroadcastHub>(epoch, options.broadcast);
  for (const v1::ServerGroup& group : core->groups_->List()) {
    core->broadcast_->AddGroup(group.name());
  }

  // The table follows the live cache nodes from here on.
  PartitionTableManager* table_manager = core->table_.get();
  v1::MembershipEvent view;
  core->table_watch_id_ = core->membership_->Watch(
      "", v1::CACHE_NODE,
      [table_manager](const v1::MembershipEvent& event) {
        if (absl::Status s = table_manager->OnMembershipEvent(event); !s.ok()) {
          spdlog::error("partition table not updated: {}", s.ToString());
        }
      },
      &view);
  if (absl::Status s = table_manager->OnMembershipEvent(view); !s.ok()) {
    return s;
  }

  core->expiry_thread_ = std::thread([c = core.get()] { c->RunExpiry(); });
  spdlog::info(
      "coordinator state in {}: {} groups, {} members, table epoch {}, "
      "stream epoch {}",
      options.data_dir, core->groups_->List().size(),
      core->membership_->List("", v1::MEMBER_ROLE_UNSPECIFIED).members_size(),
      core->table_->Get().epoch(), epoch);
  return core;
}

CoordinatorCore::~CoordinatorCore() { Stop(); }

void CoordinatorCore::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  if (expiry_thread_.joinable()) expiry_thread_.join();
  if (broadcast_ != nullptr) broadcast_->CloseAll();
  if (membership_ != nullptr && table_watch_id_ != 0) {
    membership_->Unwatch(table_watch_id_);
  }
  if (store_ != nullptr) {
    if (absl::Status s = store_->Flush(); !s.ok()) {
      spdlog::error("flushing coordinator state: {}", s.ToString());
    }
  }
}

void CoordinatorCore::RunExpiry() {
  while (!stopping_.WaitForNotificationWithTimeout(options_.expiry_interval)) {
    if (int expired = ExpireLapsedMembers(); expired > 0) {
      spdlog::info("{} member lease(s) lapsed", expired);
    }
  }
}

int CoordinatorCore::ExpireLapsedMembers() {
  table_->BeginBatch();
  const int expired = membership_->ExpireLapsed();
  absl::Status s = table_->EndBatch();
  if (s.ok()) s = table_->Tick();
  if (!s.ok()) spdlog::error("partition table not updated: {}", s.ToString());
  return expired;
}

absl::StatusOr<v1::ServerGroup> CoordinatorCore::CreateGroup(
    const v1::CreateGroupRequest& request) {
  absl::StatusOr<v1::ServerGroup> group = groups_->Create(request);
  if (group.ok()) {
    broadcast_->AddGroup(group->name());
    spdlog::info("group '{}' created (channel {})", group->name(),
                 group->broadcast_channel());
  }
  return group;
}

absl::StatusOr<v1::ServerGroup> CoordinatorCore::GetGroup(
    const v1::GetGroupRequest& request) {
  absl::StatusOr<v1::ServerGroup> group = groups_->Get(request.name());
  if (group.ok()) {
    group->set_live_members(static_cast<uint32_t>(
        membership_->MembersOfGroup(group->name()).size()));
  }
  return group;
}

v1::ListGroupsResponse CoordinatorCore::ListGroups() {
  v1::ListGroupsResponse response;
  for (v1::ServerGroup& group : groups_->List()) {
    group.set_live_members(static_cast<uint32_t>(
        membership_->MembersOfGroup(group.name()).size()));
    *response.add_groups() = std::move(group);
  }
  return response;
}

absl::StatusOr<v1::ServerGroup> CoordinatorCore::UpdateGroup(
    const v1::UpdateGroupRequest& request) {
  absl::StatusOr<v1::ServerGroup> group = groups_->Update(request);
  if (group.ok()) {
    group->set_live_members(static_cast<uint32_t>(
        membership_->MembersOfGroup(group->name()).size()));
  }
  return group;
}

absl::Status CoordinatorCore::DeleteGroup(
    const v1::DeleteGroupRequest& request) {
  if (absl::Status s = ValidateGroupName("name", request.name()); !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&control_mu_);
  std::vector<std::string> members =
      membership_->MembersOfGroup(request.name());
  if (!members.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("group '", request.name(), "' has ", members.size(),
                     " live member(s) (", absl::StrJoin(members, ", "),
                     "); stop them or move them to another group first"));
  }
  if (deployments_->HasActive(request.name())) {
    return absl::FailedPreconditionError(
        absl::StrCat("group '", request.name(),
                     "' has deployed channels; undeploy them first"));
  }
  if (absl::Status s = deployments_->ForgetGroup(request.name()); !s.ok()) {
    return s;
  }
  if (absl::Status s = groups_->Delete(request.name()); !s.ok()) return s;
  broadcast_->RemoveGroup(request.name());
  spdlog::info("group '{}' deleted", request.name());
  return absl::OkStatus();
}

absl::StatusOr<v1::JoinResponse> CoordinatorCore::Join(
    const v1::JoinRequest& request) {
  if (absl::Status s =
          Membership::Validate(request.member(), request.ttl_seconds());
      !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&control_mu_);
  if (request.member().role() == v1::RUNTIME_SERVER) {
    absl::StatusOr<v1::ServerGroup> group =
        groups_->Get(request.member().group());
    if (!group.ok()) {
      return absl::NotFoundError(absl::StrCat(
          "member '", request.member().id(), "' names server group '",
          request.member().group(),
          "', which does not exist; create it with CreateGroup first"));
    }
  }
  absl::StatusOr<Lease> lease =
      membership_->Join(request.member(), request.ttl_seconds());
  if (!lease.ok()) return lease.status();
  spdlog::info("member '{}' ({}) joined at {}", request.member().id(),
               v1::MemberRole_Name(request.member().role()),
               request.member().address());
  v1::JoinResponse response;
  response.set_lease_id(lease->lease_id);
  response.set_ttl_seconds(lease->ttl_seconds);
  response.set_membership_epoch(lease->membership_epoch);
  response.set_coordinator_epoch(epoch());
  return response;
}

absl::StatusOr<v1::HeartbeatResponse> CoordinatorCore::Heartbeat(
    const v1::HeartbeatRequest& request) {
  absl::StatusOr<Lease> lease =
      membership_->Heartbeat(request.member_id(), request.lease_id());
  if (!lease.ok()) return lease.status();
  v1::HeartbeatResponse response;
  response.set_ttl_seconds(lease->ttl_seconds);
  response.set_membership_epoch(lease->membership_epoch);
  response.set_coordinator_epoch(epoch());
  return response;
}

absl::Status CoordinatorCore::Leave(const v1::LeaveRequest& request) {
  absl::Status left =
      membership_->Leave(request.member_id(), request.lease_id());
  if (left.ok()) spdlog::info("member '{}' left", request.member_id());
  return left;
}

absl::Status CoordinatorCore::ValidateMemberFilter(absl::string_view group,
                                                   v1::MemberRole role) {
  if (!group.empty()) {
    if (absl::Status s = ValidateGroupName("group", group); !s.ok()) return s;
  }
  if (!v1::MemberRole_IsValid(role)) {
    return absl::InvalidArgumentError(
        "role must be RUNTIME_SERVER, CACHE_NODE or unspecified");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::MembershipView> CoordinatorCore::ListMembers(
    const v1::ListMembersRequest& request) {
  if (absl::Status s = ValidateMemberFilter(request.group(), request.role());
      !s.ok()) {
    return s;
  }
  return membership_->List(request.group(), request.role());
}

absl::StatusOr<v1::PublishResponse> CoordinatorCore::Publish(
    const v1::PublishRequest& request) {
  return broadcast_->Publish(request);
}

absl::StatusOr<std::shared_ptr<GroupStream>>
CoordinatorCore::StreamForSubscribe(const v1::SubscribeRequest& request) {
  if (absl::Status s = ValidateGroupName("group", request.group()); !s.ok()) {
    return s;
  }
  std::shared_ptr<GroupStream> stream = broadcast_->Find(request.group());
  if (stream == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "no server group '", request.group(), "'; create it first"));
  }
  return stream;
}

absl::StatusOr<v1::ConfigEntry> CoordinatorCore::GetConfig(
    const v1::GetConfigRequest& request) {
  if (absl::Status s = ValidateConfigPath("path", request.path(), false);
      !s.ok()) {
    return s;
  }
  return config_->Get(request.path());
}

absl::StatusOr<v1::ListConfigResponse> CoordinatorCore::ListConfig(
    const v1::ListConfigRequest& request) {
  if (absl::Status s = ValidateConfigPath("prefix", request.prefix(), true);
      !s.ok()) {
    return s;
  }
  return config_->List(request.prefix());
}

absl::StatusOr<uint64_t> CoordinatorCore::CommitConfigWrite(
    const ConfigWrite& write) {
  return config_->Transact([&](const ConfigStore::View& view)
                               -> absl::StatusOr<std::vector<ConfigWrite>> {
    if (absl::Status s = GroupRegistry::CheckConfigWrite(view, write);
        !s.ok()) {
      return s;
    }
    return std::vector<ConfigWrite>{write};
  });
}

absl::StatusOr<v1::ConfigEntry> CoordinatorCore::SetConfig(
    const v1::SetConfigRequest& request) {
  if (absl::Status s = ValidateConfigPath("path", request.path(), false);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckValueSize(request.value()); !s.ok()) return s;
  ConfigWrite write{request.path(), request.value(), std::nullopt};
  if (request.has_expected_version()) {
    write.expected_version = request.expected_version().value();
  }
  absl::StatusOr<uint64_t> revision = CommitConfigWrite(write);
  if (!revision.ok()) return revision.status();
  v1::ConfigEntry entry;
  entry.set_path(request.path());
  entry.set_value(request.value());
  entry.set_version(*revision);
  return entry;
}

absl::StatusOr<v1::DeleteConfigResponse> CoordinatorCore::DeleteConfig(
    const v1::DeleteConfigRequest& request) {
  if (absl::Status s = ValidateConfigPath("path", request.path(), false);
      !s.ok()) {
    return s;
  }
  ConfigWrite write{request.path(), std::nullopt, std::nullopt};
  if (request.has_expected_version()) {
    write.expected_version = request.expected_version().value();
  }
  absl::StatusOr<uint64_t> revision = CommitConfigWrite(write);
  if (!revision.ok()) return revision.status();
  v1::DeleteConfigResponse response;
  response.set_revision(*revision);
  return response;
}

absl::StatusOr<v1::Deployment> CoordinatorCore::Deploy(
    const v1::DeployRequest& request) {
  absl::MutexLock lock(&control_mu_);
  absl::StatusOr<v1::Deployment> deployment = deployments_->Deploy(request);
  if (deployment.ok()) {
    spdlog::info("channel '{}' version {} deployed to group '{}'",
                 deployment->channel_name(), deployment->version(),
                 deployment->group());
  }
  return deployment;
}

absl::StatusOr<v1::Deployment> CoordinatorCore::Rollback(
    const v1::RollbackRequest& request) {
  absl::MutexLock lock(&control_mu_);
  absl::StatusOr<v1::Deployment> deployment = deployments_->Rollback(request);
  if (deployment.ok()) {
    spdlog::info("channel '{}' on group '{}' rolled back to version {} as {}",
                 deployment->channel_name(), deployment->group(),
                 request.version(), deployment->version());
  }
  return deployment;
}

absl::StatusOr<v1::UndeployResponse> CoordinatorCore::Undeploy(
    const v1::UndeployRequest& request) {
  absl::MutexLock lock(&control_mu_);
  absl::StatusOr<v1::UndeployResponse> response =
      deployments_->Undeploy(request);
  if (response.ok()) {
    spdlog::info("channel '{}' undeployed from group '{}'", request.channel(),
                 request.group());
  }
  return response;
}

absl::Status CoordinatorCore::ValidateWatchPrefix(absl::string_view prefix) {
  return ValidateConfigPath("prefix", prefix, true);
}

}  // namespace parley::coordinator
