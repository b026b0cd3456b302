#ifndef PARLEY_SERVICES_CLIENT_RUNTIME_CLIENT_H_
#define PARLEY_SERVICES_CLIENT_RUNTIME_CLIENT_H_

// parley::RuntimeClient: the C++ client of Parley's runtime servers.
//
//   parley::RuntimeClientOptions options;
//   options.coordinator_address = "127.0.0.1:7400";
//   options.group = "default";
//   absl::StatusOr<std::unique_ptr<parley::RuntimeClient>> client =
//       parley::RuntimeClient::Connect(options);
//   if (!client.ok()) ...
//   parley::v1::GetOffersRequest request;
//   request.set_session_id("visit-1");
//   request.set_interaction_point("HomePageHero");
//   absl::StatusOr<parley::v1::GetOffersResponse> offers =
//       (*client)->GetOffers(request);
//
// Routing. Every call of a session goes to the same runtime server, chosen
// by rendezvous hashing of the session id over the group's servers (see
// services/client/rendezvous.h): it stays there while the group's
// membership stays the same; when a server joins, about 1/N of the
// sessions move to it; when one leaves, only its sessions move. GetVersion,
// TestRun and batches naming no session go to any server, in turn.
//
// Failover and retries. A failed call is sent again, to the session's next
// server in rendezvous order, after a backoff (RetryPolicy), up to
// retry.max_attempts attempts in all, when:
//   * the status is UNAVAILABLE, for every call: the server could not be
//     reached, was shutting down, or went away while the call was in
//     flight. In that last case the server may have carried the call out
//     before it went, and the call is carried out twice: a StartSession
//     starts the session afresh, a GetOffers presents offers twice (the
//     first presentations count toward suppression), a PostEvent runs its
//     actions twice (e.g. logs an acceptance twice), an EndSession answers
//     INVALID_SESSION_ID. Set CallOptions::max_attempts = 1 on a call that
//     must not be repeated.
//   * the status is DEADLINE_EXCEEDED or ABORTED, only for calls that are
//     safe to repeat even while the first attempt still runs: GetProfile,
//     SetDebug, GetVersion, TestRun, and batches made only of those. Other
//     calls return DEADLINE_EXCEEDED (they may or may not have taken
//     effect).
// Any other status, and every answer with a response (including business
// outcomes such as INVALID_SESSION_ID, which come back in the response's
// `status` and `advisory_messages`), is returned as it is. A server that
// was UNAVAILABLE, or missed the deadline of a call sent again, is tried
// last for `demotion` (until the coordinator drops it from the view).
//
// Sessions of a DISTRIBUTED group continue on the next server with their
// state, which lives in the cache tier. Sessions of a LOCAL group live in
// one server's memory: when their server goes, or a joining server takes
// them over, the next call answers INVALID_SESSION_ID and the session must
// be started again.
//
// Authorization. With auth_token set, every call carries it; a runtime
// server refuses calls without it (UNAUTHENTICATED) or with a token of
// another group or role (PERMISSION_DENIED). Neither is retried.
//
// Thread-safe: one client serves every thread of a process; it keeps one
// gRPC channel per runtime server.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/common/retry_policy.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace parley {

// Where a RuntimeClient finds runtime servers, and how it calls them.
struct RuntimeClientOptions {
  // host:port of the group coordinator, and the server group whose
  // runtime servers (RUNTIME_SERVER members) serve the calls; the client
  // follows the group's membership.
  std::string coordinator_address;
  std::string group;
  // Or, without a coordinator: a fixed list of runtime servers (host:port).
  std::vector<std::string> static_addresses;
  // For the coordinator and the runtime servers; insecure when null.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // With authorization on (docs/security.md): a bearer token, sent as
  // "authorization: Bearer <token>" metadata on every call to the
  // coordinator and the runtime servers, over plaintext or TLS. A
  // touchpoint uses a token of role client:<group> (or client); empty: no
  // token. One word of printable ASCII, else Connect is INVALID_ARGUMENT.
  std::string auth_token;
  // The deadline of each attempt of a call, unless the call sets its own.
  absl::Duration default_deadline = absl::Seconds(2);
  // Attempts per call in all (at least 1) and the backoff between them.
  RetryPolicy retry{absl::Milliseconds(50), absl::Seconds(1), 2.0, 3};
  // How long a server that failed a call is tried last.
  absl::Duration demotion = absl::Seconds(5);
  // How long Connect tries to read the group's membership.
  absl::Duration connect_timeout = absl::Seconds(5);
};

// Settings of one call.
struct CallOptions {
  // The deadline of each attempt; zero: the client's default_deadline.
  absl::Duration deadline = absl::ZeroDuration();
  // Attempts in all; 0: the client's retry.max_attempts; 1: no retry.
  int max_attempts = 0;
};

// What became of one call.
struct CallInfo {
  // host:port of the runtime server that answered (the last one tried if
  // none did; empty if there was none to try).
  std::string server;
  // Attempts made.
  int attempts = 0;
};

// A client of a server group's runtime servers: the whole
// parley.v1.InteractRuntime API, each call routed by its session id, with
// failover (see the top of this file).
class RuntimeClient {
 public:
  // Checks `options`, reads the group's membership (retrying for up to
  // connect_timeout) and follows it from then on. INVALID_ARGUMENT for bad
  // options; UNAVAILABLE (or the coordinator's error, e.g. UNAUTHENTICATED
  // without a token it knows) if the membership could not be read. A group with
  // no runtime servers yet is not an error: calls fail UNAVAILABLE until one
  // joins.
  static absl::StatusOr<std::unique_ptr<RuntimeClient>> Connect(
      RuntimeClientOptions options);

  ~RuntimeClient();
  RuntimeClient(const RuntimeClient&) = delete;
  RuntimeClient& operator=(const RuntimeClient&) = delete;

  // The InteractRuntime calls (see proto/parley/v1/runtime.proto). A
  // session call with an empty session_id is INVALID_ARGUMENT. `info`, when
  // not null, receives which server answered.
  absl::StatusOr<v1::StartSessionResponse> StartSession(
      const v1::StartSessionRequest& request, const CallOptions& options = {},
      CallInfo* info = nullptr);
  absl::StatusOr<v1::GetOffersResponse> GetOffers(
      const v1::GetOffersRequest& request, const CallOptions& options = {},
      CallInfo* info = nullptr);
  absl::StatusOr<v1::GetOffersForMultipleInteractionPointsResponse>
  GetOffersForMultipleInteractionPoints(
      const v1::GetOffersForMultipleInteractionPointsRequest& request,
      const CallOptions& options = {}, CallInfo* info = nullptr);
  absl::StatusOr<v1::PostEventResponse> PostEvent(
      const v1::PostEventRequest& request, const CallOptions& options = {},
      CallInfo* info = nullptr);
  absl::StatusOr<v1::SetAudienceResponse> SetAudience(
      const v1::SetAudienceRequest& request, const CallOptions& options = {},
      CallInfo* info = nullptr);
  absl::StatusOr<v1::GetProfileResponse> GetProfile(
      const v1::GetProfileRequest& request, const CallOptions& options = {},
      CallInfo* info = nullptr);
  absl::StatusOr<v1::EndSessionResponse> EndSession(
      const v1::EndSessionRequest& request, const CallOptions& options = {},
      CallInfo* info = nullptr);
  absl::StatusOr<v1::SetDebugResponse> SetDebug(
      const v1::SetDebugRequest& request, const CallOptions& options = {},
      CallInfo* info = nullptr);
  // Any server.
  absl::StatusOr<v1::GetVersionResponse> GetVersion(
      const v1::GetVersionRequest& request = {},
      const CallOptions& options = {}, CallInfo* info = nullptr);
  // Routed by the batch's session_id, else by the first command naming a
  // session (any server if none does).
  absl::StatusOr<v1::ExecuteBatchResponse> ExecuteBatch(
      const v1::ExecuteBatchRequest& request, const CallOptions& options = {},
      CallInfo* info = nullptr);
  // Any server.
  absl::StatusOr<v1::TestRunResponse> TestRun(const v1::TestRunRequest& request,
                                              const CallOptions& options = {},
                                              CallInfo* info = nullptr);

  // host:port of the server the next call of `session_id` goes to first.
  // UNAVAILABLE when the group has no runtime server.
  absl::StatusOr<std::string> ServerFor(absl::string_view session_id) const;

  // host:port of every runtime server the client knows now.
  std::vector<std::string> Servers() const;

 private:
  class Impl;
  explicit RuntimeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley

#endif  // PARLEY_SERVICES_CLIENT_RUNTIME_CLIENT_H_
