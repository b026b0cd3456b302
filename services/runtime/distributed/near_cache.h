#ifndef PARLEY_SERVICES_RUNTIME_DISTRIBUTED_NEAR_CACHE_H_
#define PARLEY_SERVICES_RUNTIME_DISTRIBUTED_NEAR_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/parley/v1/session_state.pb.h"

namespace parley::distributed {

struct NearCacheOptions {
  // The most sessions held; beyond it the least recently used one goes.
  // 0 disables the cache (every lookup misses, nothing is kept).
  size_t max_entries = 10000;
  // Lock shards, to spread contention; at most max_entries are used.
  int num_shards = 16;
  // Invalidations each shard remembers for inserts of tier calls still in
  // flight; a call that outlasts this many is not cached.
  int recent_invalidations = 1024;
};

// A session as the near cache holds it: parsed, with `version` set to the
// cache-tier entry's version, shared so a hit copies no state under a lock.
struct CachedSession {
  std::shared_ptr<const v1::SessionState> state;
  // Unix milliseconds when the tier expires the entry; 0: never.
  int64_t expire_time_ms = 0;

  uint64_t version() const { return state->version(); }
};

// A DISTRIBUTED-cache server's in-process copy of recently used sessions:
// a bounded LRU keyed by session id, split over lock shards (each shard
// evicts its own least recently used entry, which approximates a
// cache-wide LRU). Thread-safe.
//
// Staleness is repaired by invalidations: Evict(id, v) drops a copy older
// than version v. A copy at version v or newer is kept (tier versions of a
// key only grow, so it already reflects that write -- typically this
// server's own write echoed back by the broadcast).
//
// Tickets close the race between a tier read and an invalidation: take a
// ticket with Reserve() before the tier call, pass it to Insert(), and the
// insert is refused if an invalidation of that id newer than the value
// arrived in between (or if the shard's record of recent invalidations no
// longer reaches back to the ticket, or Clear/Disable ran) -- so a value
// read before an invalidation arrived can never be cached after it.
//
// The cache starts disabled; Enable() is called once its invalidation
// stream is live, Disable() when it drops.
class NearCache {
 public:
  // Taken before a tier call, for Insert.
  using Ticket = uint64_t;

  explicit NearCache(const NearCacheOptions& options);
  ~NearCache();

  NearCache(const NearCache&) = delete;
  NearCache& operator=(const NearCache&) = delete;

  // The cached session, marked most recently used; nothing when absent,
  // disabled, or expired at `now_ms` (an expired copy is dropped). Also
  // drops a few of the shard's least recently used copies that expired.
  std::optional<CachedSession> Lookup(absl::string_view id, int64_t now_ms);

  // Like Lookup, but removes the copy it returns: for a caller that changes
  // the session and writes it back (inserting the new version), so the
  // state need not be copied while the cache keeps the old one. Counted as
  // a hit or a miss like Lookup.
  std::optional<CachedSession> Take(absl::string_view id, int64_t now_ms);

  // A ticket for a tier call about `id` that starts now.
  Ticket Reserve(absl::string_view id) const;

  // Caches `session` under `id` unless the cache is disabled, the id was
  // invalidated above the session's version since `ticket` (or that cannot
  // be told any more), or a newer version is cached. True if it was
  // cached.
  bool Insert(absl::string_view id, CachedSession session, Ticket ticket);

  // Drops the copy of `id` if it is older than `version`. True if dropped.
  bool Evict(absl::string_view id, uint64_t version);

  // Drops the copy of `id`, whatever its version.
  void Erase(absl::string_view id);

  // Drops every copy.
  void Clear();

  // Drops every copy, then serves and accepts entries.
  void Enable();
  // Stops serving and accepting entries, then drops every copy.
  void Disable();
  bool enabled() const { return enabled_.load(std::memory_order_acquire); }

  // Copies held.
  size_t size() const;
  // The most copies held (max_entries).
  size_t capacity() const { return capacity_; }

  // Lookups that found a copy, and that did not, since construction.
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  struct Shard;

  Shard& ShardFor(absl::string_view id) const;
  // Lookup, or with `take` Take.
  std::optional<CachedSession> Find(absl::string_view id, int64_t now_ms,
                                    bool take);

  const size_t capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<bool> enabled_{false};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace parley::distributed

#endif  // PARLEY_SERVICES_RUNTIME_DISTRIBUTED_NEAR_CACHE_H_
