#ifndef PARLEY_SERVICES_RUNTIME_DISTRIBUTED_DISTRIBUTED_SESSION_STORE_H_
#define PARLEY_SERVICES_RUNTIME_DISTRIBUTED_DISTRIBUTED_SESSION_STORE_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cache_node/cache_client.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/distributed/invalidation_publisher.h"
#include "services/runtime/distributed/near_cache.h"
#include "services/runtime/session/session_store.h"

namespace parley::distributed {

// The cache-tier namespace of a group's sessions: "sessions/<group>", the
// one the tier gives the group's session timeout as default time to live.
std::string SessionNamespace(absl::string_view group);

struct DistributedSessionStoreOptions {
  // The server group; its sessions live in SessionNamespace(group).
  std::string group;
  // How long an unwritten session lives (the group's session timeout).
  absl::Duration timeout = absl::Seconds(300);
  // Get-then-delete rounds Remove tries while other servers keep updating
  // the session.
  int max_remove_attempts = 5;
  // Sessions stored LZ4-compressed from kMinCompressedSessionBytes
  // (session_codec.h). Off while servers of releases before compression
  // still serve the group: they cannot read compressed sessions.
  bool compress = true;
};

// The sessions of a DISTRIBUTED-cache server group, in the cache tier:
// each session is one entry keyed by session id, its value the serialized
// SessionState, and SessionState.version is the entry's version. Every
// write is a compare-and-set in the tier, so servers of the group never
// silently overwrite each other. Thread-safe.
//
// Expiry: every write (Create, Update) sets the entry's time to live to
// the timeout, so a session lives `timeout` after its last write. Reads do
// not extend it: the tier's Touch gives the entry a new version, which
// would fail the reader's next compare-and-set. (The engine writes the
// session on every GetOffers and PostEvent.) last_access_time is set to
// `now` on every write and read back as stored: the time of the last
// write, from which the timeout runs.
//
// Reads are served from the optional near cache when it holds the session
// and otherwise from the tier (and then cached). After a successful write
// the new state is cached here and an invalidation is queued on the
// optional publisher (asynchronously: the write is acknowledged before it
// is broadcast). Another server may therefore read an older version until
// the invalidation arrives there; an update based on it fails with
// ABORTED (and drops the stale copy), so the caller's re-read gets the
// current session from the tier.
class DistributedSessionStore : public session::SessionStore {
 public:
  // `client` must outlive the store, and so must `near_cache` and
  // `publisher` (each may be null: no near cache, no broadcast).
  DistributedSessionStore(cache::CacheClient* client,
                          DistributedSessionStoreOptions options,
                          NearCache* near_cache = nullptr,
                          InvalidationPublisher* publisher = nullptr);

  DistributedSessionStore(const DistributedSessionStore&) = delete;
  DistributedSessionStore& operator=(const DistributedSessionStore&) = delete;

  // Stores a new session (last accessed `now`) and returns its version.
  // ALREADY_EXISTS when a live session has the id and not
  // `replace_existing`; INVALID_ARGUMENT for an empty id.
  absl::StatusOr<uint64_t> Create(v1::SessionState state, bool replace_existing,
                                  absl::Time now) override;

  // The live session; NOT_FOUND when missing or expired.
  absl::StatusOr<v1::SessionState> Get(absl::string_view session_id,
                                       absl::Time now) override;

  // The tier's copy of the live session, never the near cache's (which it
  // refreshes).
  absl::StatusOr<v1::SessionState> GetLatest(absl::string_view session_id,
                                             absl::Time now) override;

  // The live session for a change written back with Update: the near
  // cache's copy is taken out rather than copied (and without `latest`
  // only), and a tier read is not cached; the Update caches the new
  // version. NOT_FOUND when missing or expired.
  absl::StatusOr<v1::SessionState> GetForUpdate(absl::string_view session_id,
                                                absl::Time now,
                                                bool latest) override;

  // GetForUpdate without holding the calling thread: a near-cache copy is
  // handed over on the calling thread, a tier read completes on the cache
  // client's.
  void GetForUpdateAsync(std::string session_id, absl::Time now, bool latest,
                         StateDone done) override;

  // Update without holding the calling thread; `done` runs on the cache
  // client's thread.
  void UpdateAsync(v1::SessionState state, absl::Time now,
                   VersionDone done) override;

  // Replaces the session with `state` (last accessed `now`) when
  // `state.version()` is the stored one and returns the new version.
  // ABORTED on a version mismatch; NOT_FOUND when missing or expired.
  absl::StatusOr<uint64_t> Update(v1::SessionState state,
                                  absl::Time now) override;

  // Takes the live session out (EndSession); NOT_FOUND when missing or
  // expired.
  absl::StatusOr<v1::SessionState> Remove(absl::string_view session_id,
                                          absl::Time now) override;

  // Changes the timeout (the group setting was updated); applies to writes
  // from now on.
  void SetTimeout(absl::Duration timeout);
  absl::Duration timeout() const;

  // The cache-tier namespace of the sessions.
  const std::string& ns() const { return ns_; }

 private:
  // Writes `state` (version cleared, last access `now`) with the given
  // compare-and-set and, on success, caches and announces it; then `done`.
  void WriteAsync(v1::SessionState state, absl::Time now,
                  std::optional<uint64_t> expected_version, VersionDone done);
  // The session as the tier holds it (cached when `cache`), or NOT_FOUND
  // when missing, to `done`.
  void ReadTierAsync(std::string session_id, bool cache, StateDone done);
  // The blocking forms of the two above.
  absl::StatusOr<uint64_t> Write(v1::SessionState state, absl::Time now,
                                 std::optional<uint64_t> expected_version);
  absl::StatusOr<v1::SessionState> ReadTier(absl::string_view session_id,
                                            bool cache);
  // After a write failed with an unknown outcome: drops every server's
  // copy of the session.
  void InvalidateEverywhere(absl::string_view session_id);
  // Announces that the session changed at `version`.
  void Announce(absl::string_view session_id, uint64_t version);

  cache::CacheClient* const client_;
  const DistributedSessionStoreOptions options_;
  const std::string ns_;
  NearCache* const near_cache_;
  InvalidationPublisher* const publisher_;
  std::atomic<int64_t> timeout_ms_;
};

}  // namespace parley::distributed

#endif  // PARLEY_SERVICES_RUNTIME_DISTRIBUTED_DISTRIBUTED_SESSION_STORE_H_
