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

// The current time, milliseconds since the Unix epoch.
using Clock = std::function<int64_t()>;

// Loads a visitor's profile attributes for an audience level and the
// visitor's audience-ID fields; nullopt when the visitor has no profile.
using ProfileLookup =
    std::function<absl::StatusOr<absl::optional<std::vector<v1::NameValue>>>(
        absl::string_view audience_level,
        const google::protobuf::RepeatedPtrField<v1::NameValue>& audience_id)>;

// The runtime server's domain core for the LOCAL cache type: the classic
// Interact runtime calls (StartSession, GetOffers, PostEvent, EndSession)
// over sessions in a SessionStore (memory or cache tier) and the deployed
// channels. No network. Thread-safe.
//
// Problems a classic client expects are reported in the response (status
// and advisory messages); the returned absl::Status is an error only for a
// malformed request or an internal failure.
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
  // the parameters and segments the visitor. INVALID_ARGUMENT for an empty
  // or too long session id.
  absl::StatusOr<v1::StartSessionResponse> StartSession(
      const v1::StartSessionRequest& request);

  // Returns the best offers for an interaction point, each with a new
  // treatment code, and records them as presented in the session.
  absl::StatusOr<v1::GetOffersResponse> GetOffers(
      const v1::GetOffersRequest& request);

  // Runs an event's actions: re-segmentation and contact, acceptance or
  // rejection logging (offers named by the UACIOfferTrackingCode parameter,
  // a treatment code of the last recommended offers).
  absl::StatusOr<v1::PostEventResponse> PostEvent(
      const v1::PostEventRequest& request);

  // Ends the session.
  absl::StatusOr<v1::EndSessionResponse> EndSession(
      const v1::EndSessionRequest& request);

 private:
  // A live session and the channel deployed under its name.
  struct LiveSession {
    v1::SessionState state;
    ActiveChannel channel;
  };

  absl::Time Now() const;

  // Reads session `session_id` and its channel into `live`; when either is
  // gone, adds the advisory (INVALID_SESSION_ID or
  // INVALID_INTERACTIVE_CHANNEL) to `response` and leaves `live` empty.
  // Fails only on store errors.
  template <typename Response>
  absl::Status LoadLiveSession(const std::string& session_id, absl::Time now,
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
    const std::string& session_id, absl::Time now, Response& response,
    absl::optional<LiveSession>* live) const {
  live->reset();
  absl::StatusOr<v1::SessionState> state = store_->Get(session_id, now);
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
