#ifndef PARLEY_SERVICES_RUNTIME_SESSION_LOCAL_SESSION_STORE_H_
#define PARLEY_SERVICES_RUNTIME_SESSION_LOCAL_SESSION_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/session/session_store.h"

namespace parley::session {

struct LocalSessionStoreOptions {
  // The most sessions kept; beyond it the least recently used one is
  // evicted. At least 1.
  int max_entries = 10000;
  // How long an untouched session lives (the group's session timeout).
  absl::Duration timeout = absl::Seconds(300);
  // Lock shards, to spread contention; at most max_entries are used.
  int num_shards = 16;
};

// Why a session left the store other than by Remove.
enum class RetireReason {
  // Idle for the timeout or longer.
  kExpired,
  // Evicted to stay within max_entries.
  kEvicted,
  // Replaced by Create(..., replace_existing = true).
  kReplaced,
};

// A session that left the store, for EndSession-style history logging.
struct RetiredSession {
  parley::v1::SessionState state;
  RetireReason reason;
};

// The sessions of a LOCAL-cache server group, in this server's memory,
// keyed by session id. Thread-safe. Time is passed in: a session is expired
// once `now - last access >= timeout`, and is then invisible to every call.
//
// Writes are compare-and-set on SessionState.version, which the store sets:
// a read returns the current version, and an update carrying another one
// fails with ABORTED (the caller re-reads and retries) -- the semantics the
// distributed store will have. Versions are unique across the store, so a
// session that is removed and re-created never reuses an old version.
//
// Capacity is split evenly over the shards and each shard evicts its own
// least recently used session, which approximates a store-wide LRU.
class LocalSessionStore : public SessionStore {
 public:
  explicit LocalSessionStore(const LocalSessionStoreOptions& options);
  ~LocalSessionStore() override;

  LocalSessionStore(const LocalSessionStore&) = delete;
  LocalSessionStore& operator=(const LocalSessionStore&) = delete;

  // Stores a new session (last accessed `now`) and returns its version.
  // ALREADY_EXISTS when a live session has the id and not
  // `replace_existing` (StartSession with rely_on_existing_session then
  // reuses it); INVALID_ARGUMENT for an empty id.
  absl::StatusOr<uint64_t> Create(parley::v1::SessionState state,
                                  bool replace_existing,
                                  absl::Time now) override;

  // A copy of the live session, marked as accessed `now` (last_access_time
  // set); NOT_FOUND when missing or expired.
  absl::StatusOr<parley::v1::SessionState> Get(absl::string_view session_id,
                                               absl::Time now) override;

  // Replaces the session with `state` when `state.version()` is the stored
  // one, marks it accessed `now` and returns the new version. ABORTED on a
  // version mismatch; NOT_FOUND when missing or expired.
  absl::StatusOr<uint64_t> Update(parley::v1::SessionState state,
                                  absl::Time now) override;

  // Takes the live session out (EndSession); NOT_FOUND when missing or
  // expired.
  absl::StatusOr<parley::v1::SessionState> Remove(absl::string_view session_id,
                                                  absl::Time now) override;

  // Takes out the sessions expired at `now` and returns them with those
  // retired since the last call (evicted, replaced, or found expired by
  // another call). Call it periodically: retired sessions are held until
  // then. Sessions whose accesses were passed out-of-order times may be
  // returned one call late.
  std::vector<RetiredSession> ExpireIdle(absl::Time now);

  // Changes the timeout (the group setting was updated); applies to every
  // session from now on.
  void SetTimeout(absl::Duration timeout);
  absl::Duration timeout() const;

  // Sessions held, expired ones not yet taken out included.
  size_t size() const;

 private:
  struct Shard;

  Shard& ShardFor(absl::string_view session_id) const;
  bool Expired(absl::Time last_access, absl::Time now) const;

  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<int64_t> timeout_nanos_;
  std::atomic<uint64_t> next_version_{1};
};

}  // namespace parley::session

#endif  // PARLEY_SERVICES_RUNTIME_SESSION_LOCAL_SESSION_STORE_H_
