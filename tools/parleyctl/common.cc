#include "tools/parleyctl/common.h"

#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "tools/parleyctl/errors.h"

namespace parley::parleyctl {

std::string FormatTime(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(time.seconds()),
                          absl::UTCTimeZone());
}

std::string CacheTypeName(v1::CacheType type) {
  return v1::CacheType_Name(type);
}

std::string NameValueText(const v1::NameValue& value) {
  switch (value.value_case()) {
    case v1::NameValue::kStringValue:
      return value.string_value();
    case v1::NameValue::kNumberValue:
      return Json::Number(value.number_value()).text();
    case v1::NameValue::kDatetimeValue:
      return FormatTime(value.datetime_value());
    case v1::NameValue::VALUE_NOT_SET:
      break;
  }
  return "NULL";
}

absl::Status GroupHint(absl::Status status, const std::string& group) {
  if (absl::IsNotFound(status) &&
      status.message().find("no server group") != absl::string_view::npos) {
    return WithHint(
        std::move(status),
        absl::StrCat("list the groups with `parleyctl groups list`, or create "
                     "it with `parleyctl groups create ",
                     group, "`"));
  }
  return status;
}

absl::StatusOr<std::vector<v1::Deployment>> ListDeploymentsChecked(
    Context& context, const std::string& channel) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::ListDeploymentsRequest request;
  request.set_group(context.options().group);
  request.set_channel(channel);
  absl::StatusOr<v1::ListDeploymentsResponse> listed =
      coordinator->Call(&v1::Deployments::Stub::ListDeployments, request);
  if (!listed.ok()) return GroupHint(listed.status(), context.options().group);
  std::map<std::string, uint64_t> active;
  for (const v1::Deployment& deployment : listed->deployments()) {
    active.emplace(deployment.channel_name(), 0);
  }
  for (auto& [name, version] : active) {
    v1::GetDeploymentRequest get;
    get.set_group(context.options().group);
    get.set_channel(name);
    absl::StatusOr<v1::Deployment> current =
        coordinator->Call(&v1::Deployments::Stub::GetDeployment, get);
    if (current.ok()) {
      version = current->version();
    } else if (!absl::IsNotFound(current.status())) {
      return current.status();
    }
  }
  std::vector<v1::Deployment> out(listed->deployments().begin(),
                                  listed->deployments().end());
  for (v1::Deployment& deployment : out) {
    deployment.set_active(active[deployment.channel_name()] ==
                          deployment.version());
  }
  return out;
}

absl::StatusOr<std::string> ResolveChannel(Context& context,
                                           const std::string& flag) {
  if (!flag.empty()) return flag;
  absl::StatusOr<std::vector<v1::Deployment>> listed =
      ListDeploymentsChecked(context, "");
  if (!listed.ok()) return listed.status();
  std::set<std::string> active;
  for (const v1::Deployment& deployment : *listed) {
    if (deployment.active()) active.insert(deployment.channel_name());
  }
  if (active.size() == 1) return *active.begin();
  if (active.empty()) {
    return WithHint(
        UsageError(absl::StrCat("no channel is deployed on group '",
                                context.options().group, "'")),
        "deploy one with `parleyctl deploy FILE`, or name it with --channel");
  }
  return UsageError(absl::StrCat(
      "group '", context.options().group, "' serves several channels (",
      absl::StrJoin(active, ", "), "); choose one with --channel"));
}

absl::StatusOr<v1::InteractiveChannel> ActiveChannel(
    Context& context, const std::string& channel) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::GetDeploymentRequest request;
  request.set_group(context.options().group);
  request.set_channel(channel);
  absl::StatusOr<v1::Deployment> deployment =
      coordinator->Call(&v1::Deployments::Stub::GetDeployment, request);
  if (!deployment.ok()) {
    absl::Status status =
        GroupHint(deployment.status(), context.options().group);
    if (absl::IsNotFound(status) && HintOf(status).empty()) {
      return WithHint(
          status,
          absl::StrCat("`parleyctl deployments list --group ",
                       context.options().group, "` shows what is deployed"));
    }
    return status;
  }
  return deployment->channel();
}

absl::StatusOr<std::vector<CacheNodeRef>> CacheNodes(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::ListMembersRequest members_request;
  members_request.set_role(v1::CACHE_NODE);
  absl::StatusOr<v1::MembershipView> members =
      coordinator->Call(&v1::Coordinator::Stub::ListMembers, members_request);
  if (!members.ok()) return members.status();
  absl::StatusOr<v1::PartitionTable> table =
      coordinator->Call(&v1::Coordinator::Stub::GetPartitionTable,
                        v1::GetPartitionTableRequest());
  if (!table.ok()) return table.status();
  std::map<std::string, std::string> nodes;
  for (const v1::CacheNodeAddress& node : table->nodes()) {
    nodes[node.id()] = node.address();
  }
  for (const v1::Member& member : members->members()) {
    nodes[member.id()] = member.address();
  }
  std::vector<CacheNodeRef> out;
  for (const auto& [id, address] : nodes) out.push_back({id, address});
  return out;
}

}  // namespace parley::parleyctl
