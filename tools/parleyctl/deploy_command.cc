// parleyctl deploy FILE: deploys a channel file (JSON or YAML) to a group.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/message_differencer.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "tools/parleyctl/channel_file.h"
#include "tools/parleyctl/command.h"
#include "tools/parleyctl/common.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/problem_locator.h"

namespace parley::parleyctl {
namespace {

// The coordinator's "channel 'x' is invalid (N problems):" and one problem
// per line, each problem prefixed with where the file defines what it
// names ("shop.json:57:7: treatment rule 'X': ...").
absl::Status LocateProblems(const absl::Status& status,
                            const ChannelFile& file) {
  std::vector<std::string> lines = absl::StrSplit(status.message(), '\n');
  std::string message = lines.front();
  for (size_t i = 1; i < lines.size(); ++i) {
    const SourcePosition at = LocateProblem(file.document, lines[i]);
    absl::StrAppend(&message, "\n  ");
    if (at.known()) {
      absl::StrAppend(&message, file.path, ":", at.line, ":", at.column, ": ");
    }
    absl::StrAppend(&message, lines[i]);
  }
  return WithHint(
      absl::InvalidArgumentError(message),
      absl::StrCat("fix the problems in ", file.path, " and deploy it again"));
}

absl::Status RunDeploy(Context& context) {
  const std::string path = context.positional()[0];
  absl::StatusOr<ChannelFile> file = ReadChannelFile(path);
  if (!file.ok()) {
    if (HintOf(file.status()).empty()) {
      return WithHint(file.status(),
                      absl::StrCat("fix ", path, " and deploy it again"));
    }
    return file.status();
  }
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  const std::string& group = context.options().group;

  if (!context.args().GetBool("force")) {
    v1::GetDeploymentRequest active_request;
    active_request.set_group(group);
    active_request.set_channel(file->channel.name());
    absl::StatusOr<v1::Deployment> active = coordinator->Call(
        &v1::Deployments::Stub::GetDeployment, active_request);
    if (active.ok() && active->active() &&
        google::protobuf::util::MessageDifferencer::Equals(active->channel(),
                                                           file->channel)) {
      active->clear_channel();
      if (context.json()) {
        context.PrintJson(ProtoToJson(*active));
      } else {
        context.out() << "Channel '" << active->channel_name() << "' version "
                      << active->version() << " is already active on group '"
                      << group << "' with this content; nothing deployed "
                      << "(--force deploys it as a new version).\n";
      }
      return absl::OkStatus();
    }
    if (!active.ok() && !absl::IsNotFound(active.status())) {
      return active.status();
    }
  }

  v1::DeployRequest request;
  request.set_group(group);
  *request.mutable_channel() = file->channel;
  request.set_comment(context.args().Get("comment", ""));
  absl::StatusOr<v1::Deployment> deployed =
      coordinator->Call(&v1::Deployments::Stub::Deploy, request);
  if (!deployed.ok()) {
    if (absl::IsInvalidArgument(deployed.status()) &&
        deployed.status().message().find(" is invalid (") !=
            absl::string_view::npos) {
      return LocateProblems(deployed.status(), *file);
    }
    return GroupHint(deployed.status(), group);
  }
  deployed->clear_channel();
  if (context.json()) {
    context.PrintJson(ProtoToJson(*deployed));
  } else {
    context.out() << "Deployed channel '" << deployed->channel_name()
                  << "' version " << deployed->version() << " to group '"
                  << group << "'.\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddDeployCommands(std::vector<Command>& commands) {
  Command deploy;
  deploy.name = "deploy";
  deploy.arguments = "FILE";
  deploy.summary = "Deploy a channel from a JSON or YAML file to the group";
  deploy.details =
      "FILE holds one parley.v1.InteractiveChannel in the protobuf JSON\n"
      "mapping (deploy/demo/demo_channel.json is an example), as JSON or as\n"
      "YAML (.yaml, .yml) with the same fields. The coordinator validates\n"
      "the channel as the runtime compiles it and lists every problem; each\n"
      "is printed with the line and column in FILE of what it names, e.g.\n"
      "  shop.yaml:57:18: treatment rule 'GoldHero': eligibility: ...\n"
      "Deploying the content that is already active does nothing unless\n"
      "--force is given.\n";
  deploy.options = {
      {"comment", "TEXT", "kept with the version (at most 4096 bytes)", ""},
      {"force", "", "deploy even if the active version has this content", ""},
  };
  deploy.min_args = deploy.max_args = 1;
  deploy.run = RunDeploy;
  commands.push_back(std::move(deploy));
}

}  // namespace parley::parleyctl
