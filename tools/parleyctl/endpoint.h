#ifndef PARLEY_TOOLS_PARLEYCTL_ENDPOINT_H_
#define PARLEY_TOOLS_PARLEYCTL_ENDPOINT_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace parley::parleyctl {

// One server parleyctl talks to: what it is (for messages), its address and
// a channel. The thin layer between commands and gRPC: unary calls get the
// deadline from --timeout and errors that say which server failed.
class Endpoint {
 public:
  // `role` names the server in messages, e.g. "coordinator".
  Endpoint(std::string role, std::string address,
           std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : role_(std::move(role)),
        address_(std::move(address)),
        channel_(std::move(channel)),
        timeout_(timeout) {}

  const std::string& role() const { return role_; }
  const std::string& address() const { return address_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  absl::Duration timeout() const { return timeout_; }

  // Calls a unary method of a generated stub, e.g.
  // Call(&v1::Coordinator::Stub::ListGroups, request).
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                   Response*),
      const Request& request) const {
    Stub stub(channel_);
    grpc::ClientContext context;
    SetDeadline(context, timeout_);
    Response response;
    const grpc::Status status = (stub.*method)(&context, request, &response);
    if (!status.ok()) return Describe(status);
    return response;
  }

  // The status of a failed call, saying which server failed; an
  // unreachable server gets a hint on what to check. (A refused caller's
  // hint, which depends on --auth_token_file, is RunCli's.)
  absl::Status Describe(const grpc::Status& status) const;

  // Sets a deadline `timeout` from now (none for an infinite duration).
  static void SetDeadline(grpc::ClientContext& context, absl::Duration timeout);

 private:
  std::string role_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration timeout_;
};

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_ENDPOINT_H_
