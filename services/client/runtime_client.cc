#include "services/client/runtime_client.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <set>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/runtime.grpc.pb.h"
#include "services/client/channel_pool.h"
#include "services/client/routing.h"
#include "services/client/server_set.h"
#include "services/common/auth/tokens.h"
#include "services/common/grpc_status.h"
#include "services/coordinator/stream_follower.h"
#include "services/coordinator/watch_requests.h"
#include "spdlog/spdlog.h"

namespace parley {
namespace {

using client::ChannelPool;
using client::Routing;
using client::Server;
using client::ServerSet;

template <typename Request, typename Response>
using Rpc = grpc::Status (v1::InteractRuntime::Stub::*)(grpc::ClientContext*,
                                                        const Request&,
                                                        Response*);

absl::Status CheckOptions(const RuntimeClientOptions& options) {
  const bool coordinator = !options.coordinator_address.empty();
  const bool fixed = !options.static_addresses.empty();
  if (coordinator == fixed) {
    return absl::InvalidArgumentError(
        "set either coordinator_address and group, or static_addresses");
  }
  if (coordinator && options.group.empty()) {
    return absl::InvalidArgumentError(
        "a group is required with coordinator_address");
  }
  for (const std::string& address : options.static_addresses) {
    if (address.empty()) {
      return absl::InvalidArgumentError("static_addresses has an empty entry");
    }
  }
  if (options.default_deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("default_deadline must be positive");
  }
  if (options.retry.max_attempts < 1) {
    return absl::InvalidArgumentError(
        "retry.max_attempts must be at least 1 (retries are bounded)");
  }
  if (!options.auth_token.empty()) {
    if (absl::Status s = auth::CheckBearerToken(options.auth_token); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("auth_token: ", s.message()));
    }
  }
  return absl::OkStatus();
}

// Whether the failed server should be tried last for a while.
bool Demotes(const absl::Status& status, bool repeatable) {
  return absl::IsUnavailable(status) ||
         (absl::IsDeadlineExceeded(status) && repeatable);
}

}  // namespace

class RuntimeClient::Impl {
 public:
  explicit Impl(RuntimeClientOptions options)
      : options_(std::move(options)),
        authorization_(options_.auth_token.empty()
                           ? std::string()
                           : absl::StrCat("Bearer ", options_.auth_token)),
        channels_(options_.credentials) {}

  ~Impl() {
    // Before the server set and channels it updates go.
    if (follower_ != nullptr) follower_->Stop();
  }

  // Reads the membership once, then follows it.
  absl::Status Start() {
    if (options_.coordinator_address.empty()) {
      servers_.SetStatic(options_.static_addresses);
      return absl::OkStatus();
    }
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        options_.credentials != nullptr ? options_.credentials
                                        : grpc::InsecureChannelCredentials();
    coordinator_ = v1::Coordinator::NewStub(
        grpc::CreateChannel(options_.coordinator_address, credentials));
    if (absl::Status s = ReadMembership(); !s.ok()) return s;
    follower_ =
        std::make_unique<coordinator::StreamFollower<v1::MembershipEvent>>(
            absl::StrCat("membership of group '", options_.group, "'"),
            [this, request = coordinator::MembersOf(options_.group,
                                                    v1::RUNTIME_SERVER)](
                grpc::ClientContext* context,
                grpc::ClientReadReactor<v1::MembershipEvent>* reactor) {
              Authorize(*context);
              coordinator_->async()->WatchMembership(context, &request,
                                                     reactor);
            },
            [this](const v1::MembershipEvent& event) {
              if (servers_.Apply(event)) MembershipChanged();
            });
    follower_->Start();
    return absl::OkStatus();
  }

  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(Rpc<Request, Response> rpc,
                                const Request& request,
                                const CallOptions& call_options,
                                CallInfo* info) {
    const Routing routing = client::RoutingOf(request);
    if (!routing.any_server && routing.session_id.empty()) {
      return absl::InvalidArgumentError("session_id is required");
    }
    const absl::Duration deadline = call_options.deadline > absl::ZeroDuration()
                                        ? call_options.deadline
                                        : options_.default_deadline;
    RetryPolicy retry = options_.retry;
    if (call_options.max_attempts > 0) {
      retry.max_attempts = call_options.max_attempts;
    }
    const uint64_t turn = routing.any_server ? next_turn_++ : 0;
    CallInfo local_info;
    if (info == nullptr) info = &local_info;
    *info = CallInfo();
    std::set<std::string> tried;
    absl::Status status;
    std::optional<absl::BitGen> random;  // Seeded only for a retry.
    while (true) {
      ++info->attempts;
      const absl::Time now = absl::Now();
      std::vector<Server> order =
          routing.any_server ? servers_.ForAny(turn, now)
                             : servers_.ForSession(routing.session_id, now);
      // The first server this call has not tried yet; when it tried them
      // all, it starts over.
      auto next =
          std::find_if(order.begin(), order.end(),
                       [&](const Server& s) { return tried.count(s.id) == 0; });
      if (next == order.end() && !order.empty()) {
        tried.clear();
        next = order.begin();
      }
      if (next == order.end()) {
        status = NoServer();
      } else {
        tried.insert(next->id);
        info->server = next->address;
        Response response;
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(now + deadline));
        Authorize(context);
        status = FromGrpcStatus((channels_.Stub(next->address).get()->*rpc)(
            &context, request, &response));
        if (status.ok()) {
          servers_.Restore(next->id);
          return response;
        }
        if (Demotes(status, routing.repeatable)) {
          servers_.Demote(next->id, absl::Now() + options_.demotion);
        }
        status = absl::Status(
            status.code(), absl::StrCat("runtime server ", next->address, ": ",
                                        status.message()));
        if (!RetryPolicy::IsRetryable(status, routing.repeatable)) {
          return status;
        }
      }
      if (!retry.AllowsAnother(info->attempts)) return status;
      if (!random.has_value()) random.emplace();
      absl::SleepFor(retry.Backoff(info->attempts, *random));
    }
  }

  absl::StatusOr<std::string> ServerFor(absl::string_view session_id) const {
    if (session_id.empty()) {
      return absl::InvalidArgumentError("session_id is required");
    }
    std::vector<Server> order = servers_.ForSession(session_id, absl::Now());
    if (order.empty()) return NoServer();
    return order.front().address;
  }

  std::vector<std::string> Servers() const {
    std::vector<std::string> addresses;
    for (const Server& server : servers_.servers()) {
      addresses.push_back(server.address);
    }
    return addresses;
  }

 private:
  // Adds the bearer token, if any, to a call.
  void Authorize(grpc::ClientContext& context) const {
    if (!authorization_.empty()) {
      context.AddMetadata("authorization", authorization_);
    }
  }

  // ListMembers until it answers or connect_timeout passes.
  absl::Status ReadMembership() {
    const absl::Time give_up = absl::Now() + options_.connect_timeout;
    absl::BitGen random;
    RetryPolicy retry{absl::Milliseconds(100), absl::Seconds(1), 2.0, 0};
    for (int attempt = 1;; ++attempt) {
      v1::ListMembersRequest request;
      request.set_group(options_.group);
      request.set_role(v1::RUNTIME_SERVER);
      v1::MembershipView view;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(
          std::min(give_up, absl::Now() + options_.default_deadline)));
      Authorize(context);
      absl::Status status =
          FromGrpcStatus(coordinator_->ListMembers(&context, request, &view));
      if (status.ok()) {
        servers_.ApplyView(view);
        MembershipChanged();
        return absl::OkStatus();
      }
      const absl::Duration pause = retry.Backoff(attempt, random);
      if (!RetryPolicy::IsRetryable(status, /*idempotent=*/true) ||
          absl::Now() + pause >= give_up) {
        return absl::Status(
            status.code(),
            absl::StrCat("cannot read the members of group '", options_.group,
                         "' from coordinator ", options_.coordinator_address,
                         ": ", status.message()));
      }
      absl::SleepFor(pause);
    }
  }

  // Drops the channels of servers that went.
  void MembershipChanged() {
    std::vector<std::string> addresses = Servers();
    channels_.Retain(addresses);
    spdlog::debug("runtime servers of group '{}': {}", options_.group,
                  absl::StrJoin(addresses, ", "));
  }

  absl::Status NoServer() const {
    if (options_.coordinator_address.empty()) {
      return absl::UnavailableError("no runtime server address");
    }
    return absl::UnavailableError(
        absl::StrCat("group '", options_.group, "' has no runtime server"));
  }

  const RuntimeClientOptions options_;
  // "Bearer <token>", or empty without a token.
  const std::string authorization_;
  ServerSet servers_;
  ChannelPool channels_;
  std::unique_ptr<v1::Coordinator::Stub> coordinator_;
  std::atomic<uint64_t> next_turn_{0};
  // Last: stopped first.
  std::unique_ptr<coordinator::StreamFollower<v1::MembershipEvent>> follower_;
};

absl::StatusOr<std::unique_ptr<RuntimeClient>> RuntimeClient::Connect(
    RuntimeClientOptions options) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status s = impl->Start(); !s.ok()) return s;
  return std::unique_ptr<RuntimeClient>(new RuntimeClient(std::move(impl)));
}

RuntimeClient::RuntimeClient(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

RuntimeClient::~RuntimeClient() = default;

absl::StatusOr<v1::StartSessionResponse> RuntimeClient::StartSession(
    const v1::StartSessionRequest& request, const CallOptions& options,
    CallInfo* info) {
  return impl_->Call(&v1::InteractRuntime::Stub::StartSession, request, options,
                     info);
}

absl::StatusOr<v1::GetOffersResponse> RuntimeClient::GetOffers(
    const v1::GetOffersRequest& request, const CallOptions& options,
    CallInfo* info) {
  return impl_->Call(&v1::InteractRuntime::Stub::GetOffers, request, options,
                     info);
}

absl::StatusOr<v1::GetOffersForMultipleInteractionPointsResponse>
RuntimeClient::GetOffersForMultipleInteractionPoints(
    const v1::GetOffersForMultipleInteractionPointsRequest& request,
    const CallOptions& options, CallInfo* info) {
  return impl_->Call(
      &v1::InteractRuntime::Stub::GetOffersForMultipleInteractionPoints,
      request, options, info);
}

absl::StatusOr<v1::PostEventResponse> RuntimeClient::PostEvent(
    const v1::PostEventRequest& request, const CallOptions& options,
    CallInfo* info) {
  return impl_->Call(&v1::InteractRuntime::Stub::PostEvent, request, options,
                     info);
}

absl::StatusOr<v1::SetAudienceResponse> RuntimeClient::SetAudience(
    const v1::SetAudienceRequest& request, const CallOptions& options,
    CallInfo* info) {
  return impl_->Call(&v1::InteractRuntime::Stub::SetAudience, request, options,
                     info);
}

absl::StatusOr<v1::GetProfileResponse> RuntimeClient::GetProfile(
    const v1::GetProfileRequest& request, const CallOptions& options,
    CallInfo* info) {
  return impl_->Call(&v1::InteractRuntime::Stub::GetProfile, request, options,
                     info);
}

absl::StatusOr<v1::EndSessionResponse> RuntimeClient::EndSession(
    const v1::EndSessionRequest& request, const CallOptions& options,
    CallInfo* info) {
  return impl_->Call(&v1::InteractRuntime::Stub::EndSession, request, options,
                     info);
}

absl::StatusOr<v1::SetDebugResponse> RuntimeClient::SetDebug(
    const v1::SetDebugRequest& request, const CallOptions& options,
    CallInfo* info) {
  return impl_->Call(&v1::InteractRuntime::Stub::SetDebug, request, options,
                     info);
}

absl::StatusOr<v1::GetVersionResponse> RuntimeClient::GetVersion(
    const v1::GetVersionRequest& request, const CallOptions& options,
    CallInfo* info) {
  return impl_->Call(&v1::InteractRuntime::Stub::GetVersion, request, options,
                     info);
}

absl::StatusOr<v1::ExecuteBatchResponse> RuntimeClient::ExecuteBatch(
    const v1::ExecuteBatchRequest& request, const CallOptions& options,
    CallInfo* info) {
  return impl_->Call(&v1::InteractRuntime::Stub::ExecuteBatch, request, options,
                     info);
}

absl::StatusOr<v1::TestRunResponse> RuntimeClient::TestRun(
    const v1::TestRunRequest& request, const CallOptions& options,
    CallInfo* info) {
  return impl_->Call(&v1::InteractRuntime::Stub::TestRun, request, options,
                     info);
}

absl::StatusOr<std::string> RuntimeClient::ServerFor(
    absl::string_view session_id) const {
  return impl_->ServerFor(session_id);
}

std::vector<std::string> RuntimeClient::Servers() const {
  return impl_->Servers();
}

}  // namespace parley
