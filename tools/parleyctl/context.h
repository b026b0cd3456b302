#ifndef PARLEY_TOOLS_PARLEYCTL_CONTEXT_H_
#define PARLEY_TOOLS_PARLEYCTL_CONTEXT_H_

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "services/common/tls.h"
#include "tools/parleyctl/args.h"
#include "tools/parleyctl/endpoint.h"
#include "tools/parleyctl/json.h"

namespace parley::parleyctl {

// The options every command accepts.
struct GlobalOptions {
  std::string coordinator = "127.0.0.1:7400";
  // Empty: a live runtime server of `group` (kFallbackRuntime when the
  // coordinator does not answer).
  std::string runtime;
  std::string group = "default";
  bool json = false;
  absl::Duration timeout = absl::Seconds(10);
  TlsFiles tls;
  // --auth_token_file, and the token read from it (sent on every call as
  // "authorization: Bearer <token>"); both empty without the option.
  std::string auth_token_file;
  std::string auth_token;
};

// The runtime server used when the coordinator names none.
inline constexpr char kFallbackRuntime[] = "127.0.0.1:7601";

// The global options' specs, for parsing and help.
const std::vector<OptionSpec>& GlobalOptionSpecs();

// Reads the global options from parsed arguments, and the token of
// --auth_token_file (usage errors for bad values and for a token file that
// is unreadable, empty or not one token).
absl::StatusOr<GlobalOptions> GlobalOptionsFromArgs(const ParsedArgs& args);

// What a running command has: its arguments, the global options, the
// servers it may talk to and where its output goes.
class Context {
 public:
  Context(GlobalOptions options, ParsedArgs args, std::ostream& out,
          std::ostream& err, bool stderr_is_tty);

  const GlobalOptions& options() const { return options_; }
  const ParsedArgs& args() const { return args_; }
  const std::vector<std::string>& positional() const {
    return args_.positional();
  }
  bool json() const { return options_.json; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  // Whether progress may be drawn on stderr.
  bool stderr_is_tty() const { return stderr_is_tty_; }

  // The coordinator (Coordinator and Deployments services).
  absl::StatusOr<Endpoint> Coordinator();
  // A runtime server of the group (InteractRuntime, Profiles, History):
  // --runtime, else a live (preferably serving) member of --group (NotFound
  // when it has none), else kFallbackRuntime when the coordinator does not
  // answer.
  absl::StatusOr<Endpoint> Runtime();
  // Any server by address, e.g. a cache node.
  absl::StatusOr<Endpoint> Server(const std::string& role,
                                  const std::string& address);
  // A channel to `address` with the TLS options and the token (shared per
  // address).
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelTo(
      const std::string& address);

  // Prints `json` on stdout.
  void PrintJson(const Json& json);

 private:
  GlobalOptions options_;
  ParsedArgs args_;
  std::ostream& out_;
  std::ostream& err_;
  bool stderr_is_tty_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::string runtime_address_;
  // How the runtime server was chosen, for messages.
  std::string runtime_role_;
};

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_CONTEXT_H_
