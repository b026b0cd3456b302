#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/channel_registry.h"
#include "services/runtime/engine/history.h"
#include "services/runtime/session/session_store.h"
#include "services/runtime/session/treatment_code.h"

namespace parley::engine {

// The longest session id StartSession accepts.
inline constexpr int kMaxSessionIdLength = 256;

// Offers of earlier GetOffers calls a session keeps so that events may
// still name them by treatment code (SessionState.earlier_presentations).
inline constexpr int kMaxEarlierPresentations = 100;

// The current time, milliseconds since the Unix epoch.
using Clock = std::function<int64_t()>;

// Loads a visitor's profile attributes for an audience level and the
// visitor's audience-ID fields; nullopt when the visitor has no profile.
using ProfileLookup =
    std::function<absl::StatusOr<absl::optional<std::vector<v1::NameValue>>>(
        absl::string_view audience_level,
        const google::protobuf::RepeatedPtrField<v1::NameValue>& audience_id)>;

// The version GetVersion reports as api_version.
inline constexpr char kRuntimeApiVersion[] = "1";

// The most interaction points one GetOffersForMultipleInteractionPoints
// call may request; more is INVALID_ARGUMENT.
inline constexpr int kMaxInteractionPointsPerCall = 100;

// The most commands one ExecuteBatch call may carry; more is
// INVALID_ARGUMENT.
inline constexpr int kMaxBatchCommands = 1000;

// Completes an asynchronous engine call: runs once, with the response or
// the failure the blocking form returns.
template <typename Response>
using Completion = std::function<void(absl::StatusOr<Response>)>;

// The runtime server's domain core for the LOCAL cache type: the classic
// Interact runtime calls over sessions in a SessionStore (memory or cache
// tier) and the deployed channels. No network. Thread-safe.
//
// Problems a classic client expects are reported in the response (status
// and advisory messages); the returned absl::Status is an error only for a
// malformed request (INVALID_ARGUMENT: e.g. an empty or too long session
// id, in every call that names a session) or an internal failure.
//
// Calls that change a session read it, apply their change and write it
// back once, compare-and-set; when a concurrent call wrote it first, the
// change is re-applied to a fresh read (up to a few attempts).
class SessionEngine {
 public:
  // `store` must outlive the engine. `history` may be null (no logging).
  SessionEngine(session::SessionStore* store, Clock clock,
                ProfileLookup profiles, HistorySink history = nullptr);

  SessionEngine(const SessionEngine&) = delete;
  SessionEngine& operator=(const SessionEngine&) = delete;

  // Deploys `channel` as interactive channel `name` (any case), replacing
  // the active deployment; later calls serve from it, sessions included.
  void SetChannel(absl::string_view name,
                  std::shared_ptr<const channel::CompiledChannel> channel,
                  uint64_t version);

  // Undeploys channel `name`; calls for its sessions then fail with
  // INVALID_INTERACTIVE_CHANNEL.
  void RemoveChannel(absl::string_view name);

  // Starts (or, with rely_on_existing_session, reuses) a session: checks
  // the channel, audience level and audience ID, loads the profile, applies
  // the parameters and segments the visitor.
  absl::StatusOr<v1::StartSessionResponse> StartSession(
      const v1::StartSessionRequest& request);

  // Returns the best offers for an interaction point, each with a new
  // treatment code, and records them as presented in the session (they
  // become its last recommended offers).
  absl::StatusOr<v1::GetOffersResponse> GetOffers(
      const v1::GetOffersRequest& request);

  // GetOffers without holding the calling thread while the session store
  // answers: `done` runs on the calling thread or on one of the store's
  // (e.g. the cache tier client's). `request` must outlive `done`'s call.
  void GetOffersAsync(const v1::GetOffersRequest& request,
                      Completion<v1::GetOffersResponse> done);

  // GetOffers for several interaction points in one session write, in the
  // requests' (priority) order, one offer list per request. An offer given
  // to an earlier interaction point of the call is not given again to one
  // requested with NO_DUPLICATION; offer_attribute_filter keeps only offers
  // having every listed attribute (name ignoring case) with an equal value
  // of the same type. Presentations count as the call goes, so suppression
  // (maximum presentations) also applies between its interaction points.
  // All or nothing: an unknown interaction point or a filter entry without
  // a name or value is an ERROR advisory, and nothing is served or stored.
  // More than kMaxInteractionPointsPerCall requests is INVALID_ARGUMENT.
  absl::StatusOr<v1::GetOffersForMultipleInteractionPointsResponse>
  GetOffersForMultipleInteractionPoints(
      const v1::GetOffersForMultipleInteractionPointsRequest& request);

  // GetOffersForMultipleInteractionPoints, completed as GetOffersAsync.
  void GetOffersForMultipleInteractionPointsAsync(
      const v1::GetOffersForMultipleInteractionPointsRequest& request,
      Completion<v1::GetOffersForMultipleInteractionPointsResponse> done);

  // Runs an event's actions: re-segmentation and contact, acceptance or
  // rejection logging (offers named by the UACIOfferTrackingCode parameter,
  // a treatment code of the last recommended offers) to the HistorySink.
  absl::StatusOr<v1::PostEventResponse> PostEvent(
      const v1::PostEventRequest& request);

  // Switches the session to another audience level and audience ID
  // (checked as StartSession does), reloads the profile, merges the
  // parameters and re-segments with every flowchart of the new level. The
  // session's offer history and last recommended offers are kept.
  absl::StatusOr<v1::SetAudienceResponse> SetAudience(
      const v1::SetAudienceRequest& request);

  // The session's profile attributes, then its persistent parameters.
  absl::StatusOr<v1::GetProfileResponse> GetProfile(
      const v1::GetProfileRequest& request);

  // Turns the session's debug flag on or off.
  absl::StatusOr<v1::SetDebugResponse> SetDebug(
      const v1::SetDebugRequest& request);

  // The API version (kRuntimeApiVersion) and Parley's release version.
  absl::StatusOr<v1::GetVersionResponse> GetVersion(
      const v1::GetVersionRequest& request);

  // Ends the session.
  absl::StatusOr<v1::EndSessionResponse> EndSession(
      const v1::EndSessionRequest& request);

  // Runs the commands in order, each as its own call; a command with an
  // empty session_id uses the batch's. One command's problem does not stop
  // the batch, and the batch's status is the worst of its results':
  //  - a command naming no method gets a result with only a
  //    COMMAND_METHOD_UNRECOGNIZED advisory (ERROR);
  //  - a command the call rejects with an absl::Status (e.g. still no
  //    session id) gets its method's response with the session id and an
  //    ERROR advisory whose detail is that status: INVALID_PARAMETER for
  //    INVALID_ARGUMENT, ADVISORY_CODE_UNSPECIFIED for anything else.
  // So the returned absl::Status is an error only for more than
  // kMaxBatchCommands commands (INVALID_ARGUMENT).
  absl::StatusOr<v1::ExecuteBatchResponse> ExecuteBatch(
      const v1::ExecuteBatchRequest& request);

  // Runs a flowchart of a deployed channel, or of a channel supplied with
  // the request, over test rows without touching any session; see
  // RunFlowchartTest (test_run.h).
  absl::StatusOr<v1::TestRunResponse> TestRun(
      const v1::TestRunRequest& request);

 private:
  // A live session and the channel deployed under its name.
  struct LiveSession {
    v1::SessionState state;
    ActiveChannel channel;
  };

  absl::Time Now() const;

  // Reads session `session_id` with its channel, lets `change` update it
  // and stores it, re-running on a fresh read when a concurrent call wrote
  // the session first (up to internal::kMaxWriteAttempts). Each attempt
  // starts from a fresh response with the session id, passed to
  // `prepare(Response&)` (e.g. to echo request fields). `change(
  // LiveSession&, Response&, absl::Time now)` returns whether to store the
  // session (false: return the response unchanged, e.g. after an error
  // advisory) or a failure. A vanished session or channel is an advisory in
  // the response. A change refused with an ERROR advisory is tried once
  // more on the store's latest copy, so a refusal never rests on a cached
  // copy that lags another server's write (e.g. a treatment code that
  // server just issued). `written`, if set, tells whether the session was
  // stored.
  // Defined in engine_internal.h.
  template <typename Response, typename Prepare, typename Change>
  absl::StatusOr<Response> ChangeSession(const std::string& session_id,
                                         Prepare prepare, Change change,
                                         bool* written = nullptr);

  // ChangeSession completed through `done` instead of blocking while the
  // store answers (`written`, if set, must live until `done` runs). `change`
  // may run on a thread of the store's, so it must not block (ChangeSession
  // runs every step on the calling thread instead).
  template <typename Response, typename Prepare, typename Change>
  void ChangeSessionAsync(std::string session_id, Prepare prepare,
                          Change change, bool* written,
                          Completion<Response> done);

  // One ChangeSessionAsync call's state between its store calls.
  template <typename Response, typename Prepare, typename Change>
  class SessionChange;

  // Puts session `session_id`, as the store returned it in `state`, and
  // its channel into `live`; when either is gone, adds the advisory
  // (INVALID_SESSION_ID or INVALID_INTERACTIVE_CHANNEL) to `response` and
  // leaves `live` empty. Fails only on store errors.
  template <typename Response>
  absl::Status LoadLiveSession(const std::string& session_id,
                               absl::StatusOr<v1::SessionState> state,
                               Response& response,
                               absl::optional<LiveSession>* live) const;

  session::SessionStore* const store_;
  const Clock clock_;
  const ProfileLookup profiles_;
  const HistorySink history_;
  ChannelRegistry channels_;
  session::TreatmentCodeGenerator treatment_codes_;
};

template <typename Response>
absl::Status SessionEngine::LoadLiveSession(
    const std::string& session_id, absl::StatusOr<v1::SessionState> state,
    Response& response, absl::optional<LiveSession>* live) const {
  live->reset();
  if (absl::IsNotFound(state.status())) {
    AddAdvisory(response, v1::INVALID_SESSION_ID, v1::ERROR,
                "unknown or expired session", session_id);
    return absl::OkStatus();
  }
  if (!state.ok()) return state.status();
  ActiveChannel active = channels_.Find(state->interactive_channel());
  if (active.channel == nullptr) {
    AddAdvisory(response, v1::INVALID_INTERACTIVE_CHANNEL, v1::ERROR,
                "interactive channel no longer deployed",
                state->interactive_channel());
    return absl::OkStatus();
  }
  live->emplace(LiveSession{std::move(*state), std::move(active)});
  return absl::OkStatus();
}

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_H_
