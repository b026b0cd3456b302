// parleyctl status: members by group with their health, cache nodes and the
// partition table's epoch and balance.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "tools/parleyctl/command.h"
#include "tools/parleyctl/common.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/health.h"
#include "tools/parleyctl/table.h"

namespace parley::parleyctl {
namespace {

constexpr absl::Duration kHealthTimeout = absl::Seconds(2);

struct NodeLoad {
  std::string address;
  int primaries = 0;
  int replicas = 0;
  bool live = false;
};

std::string Health(Context& context, const std::string& address) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      context.ChannelTo(address);
  if (!channel.ok()) return "UNREACHABLE";
  return CheckHealth(*channel,
                     std::min(kHealthTimeout, context.options().timeout));
}

absl::Status RunStatus(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  absl::StatusOr<v1::ListGroupsResponse> groups = coordinator->Call(
      &v1::Coordinator::Stub::ListGroups, v1::ListGroupsRequest());
  if (!groups.ok()) return groups.status();
  absl::StatusOr<v1::MembershipView> members = coordinator->Call(
      &v1::Coordinator::Stub::ListMembers, v1::ListMembersRequest());
  if (!members.ok()) return members.status();
  absl::StatusOr<v1::PartitionTable> table =
      coordinator->Call(&v1::Coordinator::Stub::GetPartitionTable,
                        v1::GetPartitionTableRequest());
  if (!table.ok()) return table.status();

  std::vector<v1::Member> sorted(members->members().begin(),
                                 members->members().end());
  std::sort(sorted.begin(), sorted.end(),
            [](const v1::Member& a, const v1::Member& b) {
              return std::tie(a.group(), a.id()) < std::tie(b.group(), b.id());
            });
  int unhealthy = 0;

  // Runtime servers by group.
  std::map<std::string, v1::CacheType> cache_types;
  for (const v1::ServerGroup& group : groups->groups()) {
    cache_types[group.name()] = group.settings().cache_type();
  }
  std::map<std::string, std::vector<std::pair<v1::Member, std::string>>>
      by_group;
  for (const auto& [name, type] : cache_types) by_group[name];
  std::map<std::string, NodeLoad> nodes;
  for (const v1::Member& member : sorted) {
    if (member.role() == v1::CACHE_NODE) {
      nodes[member.id()].address = member.address();
      nodes[member.id()].live = true;
      continue;
    }
    const std::string health = Health(context, member.address());
    if (health != "SERVING") ++unhealthy;
    by_group[member.group()].emplace_back(member, health);
  }

  // Partition table balance.
  for (const v1::CacheNodeAddress& node : table->nodes()) {
    if (nodes[node.id()].address.empty()) {
      nodes[node.id()].address = node.address();
    }
  }
  int without_primary = 0;
  int under_replicated = 0;
  // Partitions none of whose replicas is live: the coordinator keeps them
  // on those nodes, unavailable, until one comes back.
  int waiting = 0;
  size_t live_nodes = 0;
  for (const auto& [id, load] : nodes) live_nodes += load.live ? 1 : 0;
  const int wanted = static_cast<int>(
      std::min<size_t>(table->replication_factor(), live_nodes));
  for (const v1::PartitionReplicas& partition : table->partitions()) {
    if (partition.replicas_size() == 0) {
      ++without_primary;
    } else {
      ++nodes[partition.replicas(0)].primaries;
    }
    bool any_live = false;
    for (const std::string& replica : partition.replicas()) {
      ++nodes[replica].replicas;
      any_live = any_live || nodes[replica].live;
    }
    if (partition.replicas_size() > 0 && !any_live) ++waiting;
    if (partition.replicas_size() < wanted) ++under_replicated;
  }
  int min_primaries = 0;
  int max_primaries = 0;
  bool first = true;
  Json json_nodes = Json::Array();
  Table node_table(
      {"cache node", "address", "health", "primaries", "replicas"});
  for (const auto& [id, load] : nodes) {
    const std::string health =
        load.live ? Health(context, load.address) : "NOT_A_MEMBER";
    if (health != "SERVING") ++unhealthy;
    if (load.live) {
      min_primaries =
          first ? load.primaries : std::min(min_primaries, load.primaries);
      max_primaries = std::max(max_primaries, load.primaries);
      first = false;
    }
    node_table.AddRow({id, load.address, health, absl::StrCat(load.primaries),
                       absl::StrCat(load.replicas)});
    Json& node = json_nodes.Append(Json::Object());
    node.Set("id", Json::String(id));
    node.Set("address", Json::String(load.address));
    node.Set("health", Json::String(health));
    node.Set("primaries", Json::Number(load.primaries));
    node.Set("replicas", Json::Number(load.replicas));
  }
  const bool balanced = max_primaries - min_primaries <= 1 &&
                        without_primary == 0 && under_replicated == 0 &&
                        waiting == 0;

  if (context.json()) {
    Json out = Json::Object();
    Json& coordinator_json = out.Set("coordinator", Json::Object());
    coordinator_json.Set("address", Json::String(coordinator->address()));
    coordinator_json.Set("health",
                         Json::String(Health(context, coordinator->address())));
    Json& groups_json = out.Set("groups", Json::Array());
    for (const auto& [name, list] : by_group) {
      Json& group = groups_json.Append(Json::Object());
      group.Set("name", Json::String(name));
      group.Set("cache_type", Json::String(CacheTypeName(cache_types[name])));
      Json& members_json = group.Set("members", Json::Array());
      for (const auto& [member, health] : list) {
        Json& entry = members_json.Append(Json::Object());
        entry.Set("id", Json::String(member.id()));
        entry.Set("address", Json::String(member.address()));
        entry.Set("health", Json::String(health));
        entry.Set("join_time", Json::String(FormatTime(member.join_time())));
      }
    }
    out.Set("cache_nodes", std::move(json_nodes));
    Json& partitions = out.Set("partition_table", Json::Object());
    partitions.Set("epoch", Json::Number(table->epoch()));
    partitions.Set(
        "partition_count",
        Json::Number(static_cast<int64_t>(table->partition_count())));
    partitions.Set(
        "replication_factor",
        Json::Number(static_cast<int64_t>(table->replication_factor())));
    partitions.Set("min_primaries_per_node", Json::Number(min_primaries));
    partitions.Set("max_primaries_per_node", Json::Number(max_primaries));
    partitions.Set("partitions_without_primary", Json::Number(without_primary));
    partitions.Set("under_replicated", Json::Number(under_replicated));
    partitions.Set("waiting_for_replicas", Json::Number(waiting));
    partitions.Set("balanced", Json::Bool(balanced));
    out.Set("unhealthy", Json::Number(unhealthy));
    context.PrintJson(out);
  } else {
    std::ostream& out = context.out();
    out << "Coordinator " << coordinator->address() << " (membership epoch "
        << members->epoch() << ")\n\n";
    Table member_table({"group", "cache type", "member", "address", "health"});
    for (const auto& [name, list] : by_group) {
      if (list.empty()) {
        member_table.AddRow(
            {name, CacheTypeName(cache_types[name]), "-", "-", "no members"});
      }
      for (const auto& [member, health] : list) {
        member_table.AddRow({name, CacheTypeName(cache_types[name]),
                             member.id(), member.address(), health});
      }
    }
    if (by_group.empty()) {
      out << "No server groups; create one with `parleyctl groups create "
             "NAME`.\n";
    } else {
      out << member_table.Render();
    }
    out << "\n";
    if (nodes.empty()) {
      out << "No cache nodes have joined.\n";
    } else {
      out << node_table.Render();
    }
    out << "\nPartition table: epoch " << table->epoch() << ", "
        << table->partition_count() << " partitions, replication factor "
        << table->replication_factor() << "\n";
    out << "Balance: " << min_primaries << "-" << max_primaries
        << " primaries per node, " << without_primary
        << " partitions without a primary, " << under_replicated
        << " under-replicated: " << (balanced ? "balanced" : "NOT balanced")
        << "\n";
    if (waiting > 0) {
      out << waiting
          << " partition(s) wait for one of their cache nodes (none is live) "
             "to come back; calls for their keys get UNAVAILABLE meanwhile\n";
    }
  }
  if (unhealthy > 0) {
    return AlreadyReported(WithHint(
        absl::FailedPreconditionError(absl::StrCat(
            unhealthy, unhealthy == 1 ? " member is" : " members are",
            " not serving")),
        "look at the members' logs (scripts/up keeps them in .parley/logs); "
        "a runtime server serves once its group exists and its deployments "
        "are loaded"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddStatusCommands(std::vector<Command>& commands) {
  Command status;
  status.name = "status";
  status.summary =
      "Cluster status: members by group, health, cache nodes, partition table";
  status.details =
      "Lists every server group with its runtime servers and their\n"
      "grpc.health.v1 status, every cache node with the partitions it is\n"
      "primary and replica for, and the partition table's epoch and balance\n"
      "(balanced: primaries per node differ by at most one and every\n"
      "partition has its replicas on live nodes). Exits 1 when a member is\n"
      "not serving.\n";
  status.run = RunStatus;
  commands.push_back(std::move(status));
}

}  // namespace parley::parleyctl
