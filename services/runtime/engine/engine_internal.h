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
absl::StatusOr<Response> SessionEngine::ChangeSession(
    const std::string& session_id, Prepare prepare, Change change,
    bool* written) {
  if (written != nullptr) *written = false;
  bool latest = false;
  for (int attempt = 1;; ++attempt) {
    Response response;
    response.set_session_id(session_id);
    prepare(response);
    const absl::Time now = Now();
    absl::optional<LiveSession> live;
    if (absl::Status s = LoadLiveSession(
            session_id, store_->GetForUpdate(session_id, now, latest), response,
            &live);
        !s.ok()) {
      return s;
    }
    if (!live.has_value()) return response;
    const absl::StatusOr<bool> write = change(*live, response, now);
    if (!write.ok()) return write.status();
    if (!*write) {
      if (!latest && response.status() == v1::ERROR) {
        latest = true;
        continue;
      }
      return response;
    }

    const absl::StatusOr<uint64_t> stored =
        store_->Update(std::move(live->state), now);
    if (absl::IsAborted(stored.status()) &&
        attempt < internal::kMaxWriteAttempts) {
      latest = true;
      continue;
    }
    if (absl::IsNotFound(stored.status())) {
      Response ended;
      ended.set_session_id(session_id);
      AddAdvisory(ended, v1::INVALID_SESSION_ID, v1::ERROR,
                  "session ended during the call", session_id);
      return ended;
    }
    if (!stored.ok()) return stored.status();
    if (written != nullptr) *written = true;
    return response;
  }
}

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_INTERNAL_H_
