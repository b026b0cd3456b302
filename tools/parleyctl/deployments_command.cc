// parleyctl deployments list|get|rollback|undeploy: a group's channel
// versions.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "tools/parleyctl/command.h"
#include "tools/parleyctl/common.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/table.h"

namespace parley::parleyctl {
namespace {

const OptionSpec kChannelOption = {"channel", "NAME", "the channel",
                                   "the only channel deployed on the group"};

absl::Status Hint(absl::Status status, Context& context) {
  status = GroupHint(std::move(status), context.options().group);
  if ((absl::IsNotFound(status) || absl::IsFailedPrecondition(status)) &&
      HintOf(status).empty()) {
    return WithHint(std::move(status),
                    "`parleyctl deployments list` shows the group's channels "
                    "and versions");
  }
  return status;
}

void PrintDeployment(Context& context, v1::Deployment deployment,
                     const std::string& what) {
  deployment.clear_channel();
  if (context.json()) {
    context.PrintJson(ProtoToJson(deployment));
    return;
  }
  context.out() << what << " channel '" << deployment.channel_name()
                << "' version " << deployment.version() << " on group '"
                << deployment.group() << "'";
  if (deployment.rolled_back_from() != 0) {
    context.out() << " (the content of version "
                  << deployment.rolled_back_from() << ")";
  }
  context.out() << ".\n";
}

absl::Status RunList(Context& context) {
  absl::StatusOr<std::vector<v1::Deployment>> checked =
      ListDeploymentsChecked(context, context.args().Get("channel", ""));
  if (!checked.ok()) return Hint(checked.status(), context);
  const bool only_active = context.args().GetBool("active");
  v1::ListDeploymentsResponse listed_response;
  for (const v1::Deployment& deployment : *checked) {
    if (!only_active || deployment.active()) {
      *listed_response.add_deployments() = deployment;
    }
  }
  const v1::ListDeploymentsResponse* listed = &listed_response;
  if (context.json()) {
    context.PrintJson(ProtoToJson(*listed));
    return absl::OkStatus();
  }
  if (listed->deployments().empty()) {
    context.out() << "Nothing is deployed on group '" << context.options().group
                  << "'; deploy a channel with `parleyctl deploy FILE`.\n";
    return absl::OkStatus();
  }
  Table table({"channel", "version", "active", "deployed", "rolled back from",
               "comment"});
  for (const v1::Deployment& d : listed->deployments()) {
    table.AddRow(
        {d.channel_name(), absl::StrCat(d.version()), d.active() ? "yes" : "",
         FormatTime(d.deploy_time()),
         d.rolled_back_from() ? absl::StrCat(d.rolled_back_from()) : "",
         d.comment()});
  }
  context.out() << table.Render();
  return absl::OkStatus();
}

absl::Status RunGet(Context& context) {
  absl::StatusOr<std::string> channel =
      ResolveChannel(context, context.args().Get("channel", ""));
  if (!channel.ok()) return channel.status();
  absl::StatusOr<uint64_t> version = context.args().GetUint("version", 0);
  if (!version.ok()) return version.status();
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::GetDeploymentRequest request;
  request.set_group(context.options().group);
  request.set_channel(*channel);
  request.set_version(*version);
  absl::StatusOr<v1::Deployment> deployment =
      coordinator->Call(&v1::Deployments::Stub::GetDeployment, request);
  if (!deployment.ok()) return Hint(deployment.status(), context);
  if (context.json()) {
    context.PrintJson(ProtoToJson(*deployment));
    return absl::OkStatus();
  }
  // The channel as a deployable file, in the JSON names deploy files use.
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(deployment->channel(), &text)
           .ok()) {
    return absl::InternalError("cannot print the channel as JSON");
  }
  absl::StatusOr<Json> json = ParseJson(text);
  if (!json.ok()) return json.status();
  context.out() << json->Serialize(true);
  return absl::OkStatus();
}

absl::Status RunRollback(Context& context) {
  absl::StatusOr<std::string> channel =
      ResolveChannel(context, context.args().Get("channel", ""));
  if (!channel.ok()) return channel.status();
  ParsedArgs version_arg;
  version_arg.SetForTest("version", context.positional()[0]);
  absl::StatusOr<uint64_t> version = version_arg.GetUint("version", 0);
  if (!version.ok() || *version == 0) {
    return UsageError(
        absl::StrCat("VERSION is a version number (see "
                     "`parleyctl deployments list`), not '",
                     context.positional()[0], "'"));
  }
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::RollbackRequest request;
  request.set_group(context.options().group);
  request.set_channel(*channel);
  request.set_version(*version);
  request.set_comment(context.args().Get("comment", ""));
  absl::StatusOr<v1::Deployment> deployed =
      coordinator->Call(&v1::Deployments::Stub::Rollback, request);
  if (!deployed.ok()) return Hint(deployed.status(), context);
  PrintDeployment(context, *std::move(deployed), "Deployed");
  return absl::OkStatus();
}

absl::Status RunUndeploy(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::UndeployRequest request;
  request.set_group(context.options().group);
  request.set_channel(context.positional()[0]);
  absl::StatusOr<v1::UndeployResponse> undeployed =
      coordinator->Call(&v1::Deployments::Stub::Undeploy, request);
  if (!undeployed.ok()) return Hint(undeployed.status(), context);
  if (context.json()) {
    Json out = Json::Object();
    out.Set("group", Json::String(request.group()));
    out.Set("channel", Json::String(request.channel()));
    out.Set("version", Json::Number(undeployed->version()));
    context.PrintJson(out);
  } else {
    context.out() << "Undeployed channel '" << request.channel()
                  << "' (version " << undeployed->version() << ") from group '"
                  << request.group()
                  << "'; its versions are kept (`parleyctl deployments "
                     "rollback VERSION --channel "
                  << request.channel() << "` serves one again).\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddDeploymentsCommands(std::vector<Command>& commands) {
  Command list;
  list.name = "deployments list";
  list.summary = "List the group's channel versions";
  list.options = {{"channel", "NAME", "only this channel's versions", ""},
                  {"active", "", "only the versions being served", ""}};
  list.run = RunList;
  commands.push_back(std::move(list));

  Command get;
  get.name = "deployments get";
  get.summary = "Print a deployed channel (the active version by default)";
  get.details =
      "Prints the channel as a deployable JSON file; with --json, the whole\n"
      "deployment record.\n";
  get.options = {kChannelOption,
                 {"version", "N", "this version", "the active one"}};
  get.run = RunGet;
  commands.push_back(std::move(get));

  Command rollback;
  rollback.name = "deployments rollback";
  rollback.arguments = "VERSION";
  rollback.summary = "Deploy an earlier version's content again";
  rollback.details =
      "The content of VERSION becomes a new version, which is served.\n";
  rollback.options = {kChannelOption,
                      {"comment", "TEXT", "kept with the new version", ""}};
  rollback.min_args = rollback.max_args = 1;
  rollback.run = RunRollback;
  commands.push_back(std::move(rollback));

  Command undeploy;
  undeploy.name = "deployments undeploy";
  undeploy.arguments = "CHANNEL";
  undeploy.summary = "Stop serving a channel on the group (versions are kept)";
  undeploy.min_args = undeploy.max_args = 1;
  undeploy.run = RunUndeploy;
  commands.push_back(std::move(undeploy));
}

}  // namespace parley::parleyctl
