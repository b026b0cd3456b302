#include "tools/parleyctl/context.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/common/auth/client_token.h"
#include "services/common/auth/tokens.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/health.h"

namespace parley::parleyctl {

const std::vector<OptionSpec>& GlobalOptionSpecs() {
  static const auto* specs = new std::vector<OptionSpec>{
      {"coordinator", "HOST:PORT", "the coordinator", "127.0.0.1:7400"},
      {"runtime", "HOST:PORT", "a runtime server, for runtime-side commands",
       "a live runtime server of --group; 127.0.0.1:7601 if the "
       "coordinator does not answer"},
      {"group", "NAME", "the server group", "default"},
      {"json", "", "print JSON for scripts instead of tables", ""},
      {"timeout", "DURATION", "deadline of each call (10s, 500ms, 2m)", "10s"},
      {"tls_ca_file", "FILE", "PEM CA that verifies the servers (enables TLS)",
       ""},
      {"tls_cert_file", "FILE", "PEM client certificate for mutual TLS", ""},
      {"tls_key_file", "FILE", "PEM key of --tls_cert_file", ""},
      {"auth_token_file", "FILE",
       "a file holding a bearer token, sent on every call; needed when the "
       "servers have authorization on (an admin token for changes)",
       ""},
      {"help", "", "show help", ""},
  };
  return *specs;
}

absl::StatusOr<GlobalOptions> GlobalOptionsFromArgs(const ParsedArgs& args) {
  GlobalOptions options;
  options.coordinator = args.Get("coordinator", options.coordinator);
  options.runtime = args.Get("runtime", "");
  options.group = args.Get("group", options.group);
  options.json = args.GetBool("json");
  absl::StatusOr<absl::Duration> timeout =
      args.GetDuration("timeout", options.timeout);
  if (!timeout.ok()) return timeout.status();
  options.timeout = *timeout;
  options.tls.ca_file = args.Get("tls_ca_file", "");
  options.tls.cert_file = args.Get("tls_cert_file", "");
  options.tls.key_file = args.Get("tls_key_file", "");
  if (args.Has("auth_token_file")) {
    options.auth_token_file = args.Get("auth_token_file", "");
    if (options.auth_token_file.empty()) {
      return UsageError(
          "--auth_token_file is empty; give a FILE holding the token");
    }
    absl::StatusOr<std::string> token =
        auth::ReadTokenFile(options.auth_token_file);
    if (!token.ok()) return UsageError(token.status().message());
    options.auth_token = *std::move(token);
  }
  if (options.coordinator.empty()) {
    return UsageError("--coordinator is empty; give HOST:PORT");
  }
  if (options.group.empty()) return UsageError("--group is empty");
  return options;
}

Context::Context(GlobalOptions options, ParsedArgs args, std::ostream& out,
                 std::ostream& err, bool stderr_is_tty)
    : options_(std::move(options)),
      args_(std::move(args)),
      out_(out),
      err_(err),
      stderr_is_tty_(stderr_is_tty) {}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Context::ChannelTo(
    const std::string& address) {
  auto it = channels_.find(address);
  if (it != channels_.end()) return it->second;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(options_.tls);
  if (!credentials.ok()) {
    return UsageError(
        absl::StrCat("TLS options: ", credentials.status().message()));
  }
  grpc::ChannelArguments arguments;
  // A separate connection per address, so a slow node does not hold others.
  arguments.SetInt("grpc.use_local_subchannel_pool", 1);
  std::shared_ptr<grpc::Channel> channel =
      options_.auth_token.empty()
          ? grpc::CreateCustomChannel(address, *credentials, arguments)
          : grpc::experimental::CreateCustomChannelWithInterceptors(
                address, *credentials, arguments,
                auth::TokenInterceptors(options_.auth_token));
  channels_[address] = channel;
  return channel;
}

absl::StatusOr<Endpoint> Context::Server(const std::string& role,
                                         const std::string& address) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ChannelTo(address);
  if (!channel.ok()) return channel.status();
  return Endpoint(role, address, *channel, options_.timeout);
}

absl::StatusOr<Endpoint> Context::Coordinator() {
  return Server("coordinator", options_.coordinator);
}

absl::StatusOr<Endpoint> Context::Runtime() {
  if (!options_.runtime.empty()) {
    return Server("runtime server", options_.runtime);
  }
  if (runtime_address_.empty()) {
    absl::StatusOr<Endpoint> coordinator = Coordinator();
    if (!coordinator.ok()) return coordinator.status();
    v1::ListMembersRequest request;
    request.set_group(options_.group);
    request.set_role(v1::RUNTIME_SERVER);
    absl::StatusOr<v1::MembershipView> view =
        coordinator->Call(&v1::Coordinator::Stub::ListMembers, request);
    if (absl::IsUnauthenticated(view.status()) ||
        absl::IsPermissionDenied(view.status())) {
      return view.status();
    }
    if (!view.ok()) {
      // No coordinator to ask: the local cluster's first runtime server.
      runtime_address_ = kFallbackRuntime;
      runtime_role_ = absl::StrCat(
          "runtime server (the coordinator did not answer: ",
          view.status().message(), "; the default, or pass --runtime)");
    } else if (view->members_size() == 0) {
      return WithHint(
          absl::NotFoundError(absl::StrCat("no runtime server of group '",
                                           options_.group, "' is live")),
          "`parleyctl status` lists the groups and their members; start a "
          "runtime server in the group, or pass --runtime=HOST:PORT");
    } else {
      std::vector<v1::Member> members(view->members().begin(),
                                      view->members().end());
      std::sort(members.begin(), members.end(),
                [](const v1::Member& a, const v1::Member& b) {
                  return a.id() < b.id();
                });
      runtime_address_ = members.front().address();
      runtime_role_ = absl::StrCat("runtime server ", members.front().id());
      for (const v1::Member& member : members) {
        absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
            ChannelTo(member.address());
        if (channel.ok() &&
            CheckHealth(*channel, absl::Seconds(2)) == "SERVING") {
          runtime_address_ = member.address();
          runtime_role_ = absl::StrCat("runtime server ", member.id());
          break;
        }
      }
    }
  }
  return Server(runtime_role_, runtime_address_);
}

void Context::PrintJson(const Json& json) { out_ << json.Serialize(true); }

}  // namespace parley::parleyctl
