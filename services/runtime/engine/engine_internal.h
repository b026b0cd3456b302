#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_INTERNAL_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_INTERNAL_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/debug_log.h"
#include "services/runtime/engine/engine.h"

namespace parley::engine {
namespace internal {

// How often a call re-reads and re-applies its session change when a
// concurrent call wrote the session first (compare-and-set ABORTED).
inline constexpr int kMaxWriteAttempts = 5;

// INVALID_ARGUMENT unless `session_id` has 1 to kMaxSessionIdLength
// characters.
inline absl::Status CheckSessionId(absl::string_view session_id) {
  if (session_id.empty() || session_id.size() > kMaxSessionIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "session_id must have 1 to ", kMaxSessionIdLength, " characters"));
  }
  return absl::OkStatus();
}

}  // namespace internal

template <typename Response, typename Prepare, typename Change>
class SessionEngine::SessionChange {
 public:
  // With `blocking`, the store's blocking calls are used, so that every
  // step runs on the calling thread (ChangeSession: a change that may block,
  // e.g. on a profile lookup, must not run on a thread of the store's).
  SessionChange(SessionEngine* engine, std::string session_id, Prepare prepare,
                Change change, bool* written, Completion<Response> done,
                bool blocking)
      : engine_(engine),
        blocking_(blocking),
        session_id_(std::move(session_id)),
        prepare_(std::move(prepare)),
        change_(std::move(change)),
        written_(written),
        done_(std::move(done)) {
    if (written_ != nullptr) *written_ = false;
  }

  // Reads the session for the next attempt; the object deletes itself once
  // it has called `done`.
  void Attempt() {
    ++attempt_;
    now_ = engine_->Now();
    if (blocking_) {
      return OnRead(engine_->store_->GetForUpdate(session_id_, now_, latest_));
    }
    engine_->store_->GetForUpdateAsync(
        session_id_, now_, latest_,
        [this](absl::StatusOr<v1::SessionState> state) {
          OnRead(std::move(state));
        });
  }

 private:
  void OnRead(absl::StatusOr<v1::SessionState> state) {
    debug_segments_.reset();
    response_ = Response();
    response_.set_session_id(session_id_);
    prepare_(response_);
    absl::optional<LiveSession> live;
    if (absl::Status s = engine_->LoadLiveSession(session_id_, std::move(state),
                                                  response_, &live);
        !s.ok()) {
      return Finish(s);
    }
    if (!live.has_value()) return Finish(std::move(response_));
    const absl::StatusOr<bool> write = change_(*live, response_, now_);
    if (!write.ok()) return Finish(write.status());
    // Only a debug session pays for the copy.
    if (live->state.debug() && DebugLogOn()) {
      debug_segments_ = DebugSegments(live->state);
    }
    if (!*write) {
      if (!latest_ && response_.status() == v1::ERROR) {
        latest_ = true;
        return Attempt();
      }
      return Finish(std::move(response_));
    }
    if (blocking_) {
      return OnStored(engine_->store_->Update(std::move(live->state), now_));
    }
    engine_->store_->UpdateAsync(
        std::move(live->state), now_,
        [this](absl::StatusOr<uint64_t> stored) { OnStored(stored); });
  }

  void OnStored(const absl::StatusOr<uint64_t>& stored) {
    if (absl::IsAborted(stored.status()) &&
        attempt_ < internal::kMaxWriteAttempts) {
      latest_ = true;
      return Attempt();
    }
    if (absl::IsNotFound(stored.status())) {
      Response ended;
      ended.set_session_id(session_id_);
      AddAdvisory(ended, v1::INVALID_SESSION_ID, v1::ERROR,
                  "session ended during the call", session_id_);
      return Finish(std::move(ended));
    }
    if (!stored.ok()) return Finish(stored.status());
    if (written_ != nullptr) *written_ = true;
    Finish(std::move(response_));
  }

  void Finish(absl::StatusOr<Response> result) {
    if (debug_segments_.has_value() && result.ok()) {
      LogDebugCall(session_id_, *debug_segments_, *result);
    }
    Completion<Response> done = std::move(done_);
    delete this;
    done(std::move(result));
  }

  SessionEngine* const engine_;
  const bool blocking_;
  const std::string session_id_;
  Prepare prepare_;
  Change change_;
  bool* const written_;
  Completion<Response> done_;
  int attempt_ = 0;
  bool latest_ = false;
  absl::Time now_;
  Response response_;
  // Set while the changed session has its debug flag: what the log shows.
  absl::optional<std::string> debug_segments_;
};

template <typename Response, typename Prepare, typename Change>
void SessionEngine::ChangeSessionAsync(std::string session_id, Prepare prepare,
                                       Change change, bool* written,
                                       Completion<Response> done) {
  (new SessionChange<Response, Prepare, Change>(
       this, std::move(session_id), std::move(prepare), std::move(change),
       written, std::move(done), /*blocking=*/false))
      ->Attempt();
}

template <typename Response, typename Prepare, typename Change>
absl::StatusOr<Response> SessionEngine::ChangeSession(
    const std::string& session_id, Prepare prepare, Change change,
    bool* written) {
  absl::StatusOr<Response> result = absl::UnknownError("not run");
  // Finished before Attempt returns: every step runs on this thread.
  (new SessionChange<Response, Prepare, Change>(
       this, session_id, std::move(prepare), std::move(change), written,
       [&result](absl::StatusOr<Response> done) { result = std::move(done); },
       /*blocking=*/true))
      ->Attempt();
  return result;
}

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_INTERNAL_H_
