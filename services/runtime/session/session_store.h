#ifndef PARLEY_SERVICES_RUNTIME_SESSION_SESSION_STORE_H_
#define PARLEY_SERVICES_RUNTIME_SESSION_SESSION_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/parley/v1/session_state.pb.h"

namespace parley::session {

// Where a server group keeps its visitor sessions: the server's memory
// (LOCAL cache type) or the cache tier (DISTRIBUTED). Thread-safe.
//
// Writes are compare-and-set on SessionState.version, which the store sets:
// a read returns the current version, and an update carrying another one
// fails with ABORTED, so the caller re-reads and re-applies its change and
// two servers never silently overwrite each other.
class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // Stores a new session (last accessed `now`) and returns its version.
  // ALREADY_EXISTS when a live session has the id and not
  // `replace_existing`; INVALID_ARGUMENT for an empty id.
  virtual absl::StatusOr<uint64_t> Create(parley::v1::SessionState state,
                                          bool replace_existing,
                                          absl::Time now) = 0;

  // The live session; NOT_FOUND when missing or expired.
  virtual absl::StatusOr<parley::v1::SessionState> Get(
      absl::string_view session_id, absl::Time now) = 0;

  // The live session as the store of record holds it, bypassing any cache
  // (a DISTRIBUTED store's near cache may lag another server's write until
  // its invalidation arrives); NOT_FOUND when missing or expired. For
  // decisions that must not rest on a stale copy, e.g. refusing an offer
  // tracking code another server just issued.
  virtual absl::StatusOr<parley::v1::SessionState> GetLatest(
      absl::string_view session_id, absl::Time now) {
    return Get(session_id, now);
  }

  // The live session for a change the caller writes back with Update: Get,
  // or GetLatest with `latest`. A store with a cache may hand over its
  // cached copy instead of copying it, and need not cache what it reads,
  // so until that Update succeeds the session's next read may go to the
  // store of record. NOT_FOUND when missing or expired.
  virtual absl::StatusOr<parley::v1::SessionState> GetForUpdate(
      absl::string_view session_id, absl::Time now, bool latest) {
    return latest ? GetLatest(session_id, now) : Get(session_id, now);
  }

  // Replaces the session with `state` when `state.version()` is the stored
  // one and returns the new version. ABORTED on a version mismatch;
  // NOT_FOUND when missing or expired.
  virtual absl::StatusOr<uint64_t> Update(parley::v1::SessionState state,
                                          absl::Time now) = 0;

  // Completions of the asynchronous calls below: run once, on the calling
  // thread before the call returns or later on a thread of the store's.
  using StateDone =
      std::function<void(absl::StatusOr<parley::v1::SessionState>)>;
  using VersionDone = std::function<void(absl::StatusOr<uint64_t>)>;

  // GetForUpdate completed through `done`, so that a store of record
  // across the network does not hold a thread while it answers. The
  // default runs GetForUpdate and `done` on the calling thread.
  virtual void GetForUpdateAsync(std::string session_id, absl::Time now,
                                 bool latest, StateDone done) {
    done(GetForUpdate(session_id, now, latest));
  }

  // Update completed through `done` (as GetForUpdateAsync).
  virtual void UpdateAsync(parley::v1::SessionState state, absl::Time now,
                           VersionDone done) {
    done(Update(std::move(state), now));
  }

  // Takes the live session out (EndSession); NOT_FOUND when missing or
  // expired.
  virtual absl::StatusOr<parley::v1::SessionState> Remove(
      absl::string_view session_id, absl::Time now) = 0;
};

}  // namespace parley::session

#endif  // PARLEY_SERVICES_RUNTIME_SESSION_SESSION_STORE_H_
