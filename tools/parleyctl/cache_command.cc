// parleyctl cache stats|drain: the cache tier's nodes.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "tools/parleyctl/command.h"
#include "tools/parleyctl/common.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/table.h"

namespace parley::parleyctl {
namespace {

// Draining hands partitions over: allow it more than one call's --timeout.
constexpr absl::Duration kMinDrainTimeout = absl::Minutes(2);

absl::Status RunStats(Context& context) {
  std::vector<CacheNodeRef> nodes;
  if (context.positional().empty()) {
    absl::StatusOr<std::vector<CacheNodeRef>> known = CacheNodes(context);
    if (!known.ok()) return known.status();
    nodes = *std::move(known);
    if (nodes.empty()) {
      return WithHint(absl::NotFoundError("no cache nodes have joined"),
                      "start cache nodes (scripts/up starts three), or give "
                      "their addresses");
    }
  } else {
    for (const std::string& address : context.positional()) {
      nodes.push_back({"", address});
    }
  }
  const bool partitions = context.args().GetBool("partitions");
  Json json_nodes = Json::Array();
  Table table({"node", "address", "epoch", "primaries", "backups", "keys",
               "bytes", "gets", "puts", "deletes", "forwards", "errors",
               "max lag"});
  Table partition_table(
      {"node", "partition", "role", "last version", "replication lag"});
  int unreachable = 0;
  absl::Status last_error;
  for (const CacheNodeRef& node : nodes) {
    absl::StatusOr<Endpoint> endpoint =
        context.Server("cache node", node.address);
    if (!endpoint.ok()) return endpoint.status();
    absl::StatusOr<v1::StatsResponse> stats =
        endpoint->Call(&v1::CacheNode::Stub::Stats, v1::StatsRequest());
    Json& entry = json_nodes.Append(Json::Object());
    entry.Set("address", Json::String(node.address));
    if (!stats.ok()) {
      ++unreachable;
      last_error = stats.status();
      entry.Set("id", Json::String(node.id));
      entry.Set("error", Json::String(std::string(stats.status().message())));
      table.AddRow({node.id, node.address, "UNREACHABLE"});
      continue;
    }
    if (!partitions) stats->clear_partitions();
    entry.Set("stats", ProtoToJson(*stats));
    uint64_t max_lag = 0;
    for (const v1::PartitionStats& p : stats->partitions()) {
      max_lag = std::max(max_lag, p.replication_lag());
      partition_table.AddRow({stats->node_id(), absl::StrCat(p.partition()),
                              p.role(), absl::StrCat(p.last_version()),
                              absl::StrCat(p.replication_lag())});
    }
    table.AddRow(
        {stats->node_id(), node.address, absl::StrCat(stats->table_epoch()),
         absl::StrCat(stats->primaries()), absl::StrCat(stats->backups()),
         absl::StrCat(stats->keys_estimate()),
         HumanBytes(static_cast<double>(stats->bytes_estimate())),
         absl::StrCat(stats->gets()), absl::StrCat(stats->puts()),
         absl::StrCat(stats->deletes()), absl::StrCat(stats->forwards()),
         absl::StrCat(stats->errors()),
         partitions ? absl::StrCat(max_lag) : ""});
  }
  if (context.json()) {
    Json out = Json::Object();
    out.Set("nodes", std::move(json_nodes));
    context.PrintJson(out);
  } else {
    context.out() << table.Render();
    if (partitions) context.out() << "\n" << partition_table.Render();
  }
  if (unreachable > 0) {
    return AlreadyReported(WithHint(
        absl::UnavailableError(absl::StrCat(
            unreachable, unreachable == 1 ? " cache node" : " cache nodes",
            " did not answer: ", last_error.message())),
        "check the nodes with `parleyctl status`"));
  }
  return absl::OkStatus();
}

absl::Status RunDrain(Context& context) {
  const std::string target = context.positional()[0];
  CacheNodeRef node{"", target};
  if (!absl::StrContains(target, ":")) {
    absl::StatusOr<std::vector<CacheNodeRef>> known = CacheNodes(context);
    if (!known.ok()) return known.status();
    node.address.clear();
    std::vector<std::string> ids;
    for (const CacheNodeRef& candidate : *known) {
      ids.push_back(candidate.id);
      if (candidate.id == target) node = candidate;
    }
    if (node.address.empty()) {
      return WithHint(
          absl::NotFoundError(absl::StrCat("no cache node '", target, "'")),
          absl::StrCat("the cache nodes are: ",
                       ids.empty() ? "none" : absl::StrJoin(ids, ", "),
                       " (`parleyctl cache stats` shows them)"));
    }
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      context.ChannelTo(node.address);
  if (!channel.ok()) return channel.status();
  const Endpoint endpoint(
      "cache node", node.address, *channel,
      std::max(context.options().timeout, kMinDrainTimeout));
  v1::DrainRequest request;
  request.set_keep_running(context.args().GetBool("keep_running"));
  absl::StatusOr<v1::DrainResponse> drained =
      endpoint.Call(&v1::CacheNode::Stub::Drain, request);
  if (!drained.ok()) {
    if (absl::IsFailedPrecondition(drained.status())) {
      return WithHint(drained.status(),
                      "the other nodes must be able to take the partitions; "
                      "`parleyctl status` shows the tier");
    }
    return drained.status();
  }
  if (context.json()) {
    Json out = Json::Object();
    out.Set("node", Json::String(node.id));
    out.Set("address", Json::String(node.address));
    out.Set(
        "partitions_handed_over",
        Json::Number(static_cast<int64_t>(drained->partitions_handed_over())));
    out.Set("keep_running", Json::Bool(request.keep_running()));
    context.PrintJson(out);
  } else {
    context.out() << "Drained cache node "
                  << (node.id.empty()
                          ? node.address
                          : absl::StrCat(node.id, " (", node.address, ")"))
                  << ": handed over " << drained->partitions_handed_over()
                  << " partitions; "
                  << (request.keep_running()
                          ? "it left the tier and keeps running.\n"
                          : "it left the tier and stops.\n");
  }
  return absl::OkStatus();
}

}  // namespace

void AddCacheCommands(std::vector<Command>& commands) {
  Command stats;
  stats.name = "cache stats";
  stats.arguments = "[ADDRESS...]";
  stats.summary = "Counters of cache nodes (all of them by default)";
  stats.details =
      "Without addresses, asks every cache node the coordinator knows.\n"
      "Exits 3 when a node does not answer (the others are still shown).\n";
  stats.options = {{"partitions", "", "also list each node's partitions", ""}};
  stats.max_args = kAnyNumber;
  stats.run = RunStats;
  commands.push_back(std::move(stats));

  Command drain;
  drain.name = "cache drain";
  drain.arguments = "NODE_ID|ADDRESS";
  drain.summary = "Hand a cache node's partitions to the others and stop it";
  drain.details =
      "The node hands each partition it holds to the other nodes, leaves the\n"
      "tier and stops (unless --keep_running). Waits for the handover (at\n"
      "least 2 minutes, or --timeout if longer).\n";
  drain.options = {{"keep_running", "", "leave the tier but keep running", ""}};
  drain.min_args = drain.max_args = 1;
  drain.run = RunDrain;
  commands.push_back(std::move(drain));
}

}  // namespace parley::parleyctl
