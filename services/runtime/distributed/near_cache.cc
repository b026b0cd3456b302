#include "services/runtime/distributed/near_cache.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <list>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"

namespace parley::distributed {

struct NearCache::Shard {
  struct Node {
    std::string id;
    CachedSession session;
  };
  using List = std::list<Node>;
  using Index = absl::flat_hash_map<absl::string_view, List::iterator>;

  // A remembered invalidation of an id.
  struct Invalidation {
    uint64_t sequence;
    uint64_t version;
  };
  // The remembered invalidations of an id that no later one covers (one
  // with a higher sequence and at least its version): sequences ascend and
  // versions descend, so the first one after a ticket holds the highest
  // version invalidated since that ticket. Usually one or two entries.
  using Recent = absl::InlinedVector<Invalidation, 2>;

  Shard(size_t capacity, size_t max_recent)
      : capacity(capacity), max_recent(max_recent) {}

  // Drops the node of `it`.
  void EraseLocked(Index::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    List::iterator node = it->second;
    index.erase(it);
    lru.erase(node);
  }

  // Drops up to `most` least recently used copies that expired by
  // `now_ms`: sessions left without EndSession would otherwise stay until
  // the shard is full. A few per lookup keep up with any rate of new
  // sessions at a bounded cost.
  void DropExpiredLocked(int64_t now_ms, int most)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (int i = 0; i < most && !lru.empty(); ++i) {
      const CachedSession& oldest = lru.back().session;
      if (oldest.expire_time_ms == 0 || oldest.expire_time_ms > now_ms) return;
      EraseLocked(index.find(lru.back().id));
    }
  }

  // Remembers an invalidation of `id` at `version`, for inserts of tier
  // calls that started before it.
  void RecordLocked(absl::string_view id, uint64_t version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const uint64_t sequence = invalidations.load(std::memory_order_relaxed) + 1;
    auto it = recent.find(id);
    if (it == recent.end()) it = recent.try_emplace(std::string(id)).first;
    Recent& of_id = it->second;
    while (!of_id.empty() && of_id.back().version <= version) of_id.pop_back();
    of_id.push_back(Invalidation{sequence, version});
    order.emplace_back(sequence, it->first);
    while (order.size() > max_recent) {
      const auto& [oldest, oldest_id] = order.front();
      // The oldest remembered sequence overall is first in its id's list
      // unless a later invalidation already covered it.
      auto found = recent.find(oldest_id);
      if (found != recent.end() && found->second.front().sequence == oldest) {
        found->second.erase(found->second.begin());
        if (found->second.empty()) recent.erase(found);
      }
      forgotten = oldest;
      order.pop_front();
    }
    invalidations.store(sequence, std::memory_order_release);
  }

  // True if an insert of `version` for `id`, read by a tier call that took
  // `ticket`, may be stale.
  bool MaybeStaleLocked(absl::string_view id, uint64_t version,
                        uint64_t ticket) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (ticket == invalidations.load(std::memory_order_relaxed)) return false;
    if (ticket < forgotten) return true;  // What came since is not known.
    auto it = recent.find(id);
    if (it == recent.end()) return false;
    for (const Invalidation& invalidation : it->second) {
      if (invalidation.sequence > ticket) return invalidation.version > version;
    }
    return false;
  }

  void ClearLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    index.clear();
    lru.clear();
    recent.clear();
    order.clear();
    // Every ticket taken before this point is refused.
    forgotten = invalidations.load(std::memory_order_relaxed) + 1;
    invalidations.store(forgotten, std::memory_order_release);
  }

  const size_t capacity;
  const size_t max_recent;
  mutable absl::Mutex mu;
  // Most recently used first.
  List lru ABSL_GUARDED_BY(mu);
  // Keys point into the nodes' ids, which list nodes keep in place.
  Index index ABSL_GUARDED_BY(mu);
  // Remembered invalidations by id, and by sequence (oldest first), at
  // most max_recent.
  absl::flat_hash_map<std::string, Recent> recent ABSL_GUARDED_BY(mu);
  std::deque<std::pair<uint64_t, std::string>> order ABSL_GUARDED_BY(mu);
  // Invalidations up to this sequence are no longer remembered.
  uint64_t forgotten ABSL_GUARDED_BY(mu) = 0;
  // Sequence of the latest invalidation; written under `mu`, read without
  // it by Reserve.
  std::atomic<uint64_t> invalidations{0};
};

NearCache::NearCache(const NearCacheOptions& options)
    : capacity_(options.max_entries) {
  if (capacity_ == 0) return;
  const size_t num_shards = std::max<size_t>(
      1, std::min<size_t>(static_cast<size_t>(std::max(1, options.num_shards)),
                          capacity_));
  shards_.reserve(num_shards);
  for (size_t i = 0; i < num_shards; ++i) {
    // Shard capacities sum to max_entries exactly.
    shards_.push_back(std::make_unique<Shard>(
        capacity_ / num_shards + (i < capacity_ % num_shards ? 1 : 0),
        static_cast<size_t>(std::max(1, options.recent_invalidations))));
  }
}

NearCache::~NearCache() = default;

NearCache::Shard& NearCache::ShardFor(absl::string_view id) const {
  // Salted so the shard does not correlate with the map's own hash bits.
  const size_t hash =
      absl::Hash<std::pair<absl::string_view, uint32_t>>()({id, 0x4ea7u});
  return *shards_[hash % shards_.size()];
}

std::optional<CachedSession> NearCache::Lookup(absl::string_view id,
                                               int64_t now_ms) {
  return Find(id, now_ms, /*take=*/false);
}

std::optional<CachedSession> NearCache::Take(absl::string_view id,
                                             int64_t now_ms) {
  return Find(id, now_ms, /*take=*/true);
}

std::optional<CachedSession> NearCache::Find(absl::string_view id,
                                             int64_t now_ms, bool take) {
  std::optional<CachedSession> found;
  if (!shards_.empty() && enabled()) {
    Shard& shard = ShardFor(id);
    absl::MutexLock lock(&shard.mu);
    shard.DropExpiredLocked(now_ms, /*most=*/2);
    auto it = shard.index.find(id);
    if (it != shard.index.end()) {
      CachedSession& session = it->second->session;
      // An expired copy expired in the tier too: nothing a later insert
      // could race with.
      const bool expired =
          session.expire_time_ms != 0 && session.expire_time_ms <= now_ms;
      if (expired || take) {
        if (!expired) found = std::move(session);
        shard.EraseLocked(it);
      } else {
        shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
        found = session;
      }
    }
  }
  (found.has_value() ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return found;
}

NearCache::Ticket NearCache::Reserve(absl::string_view id) const {
  if (shards_.empty()) return 0;
  return ShardFor(id).invalidations.load(std::memory_order_acquire);
}

bool NearCache::Insert(absl::string_view id, CachedSession session,
                       Ticket ticket) {
  if (shards_.empty() || session.state == nullptr) return false;
  Shard& shard = ShardFor(id);
  absl::MutexLock lock(&shard.mu);
  if (!enabled() || shard.MaybeStaleLocked(id, session.version(), ticket)) {
    return false;
  }
  if (auto it = shard.index.find(id); it != shard.index.end()) {
    Shard::Node& node = *it->second;
    if (node.session.version() > session.version()) return false;
    node.session = std::move(session);
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return true;
  }
  while (shard.lru.size() >= shard.capacity) {
    shard.EraseLocked(shard.index.find(shard.lru.back().id));
  }
  shard.lru.push_front(Shard::Node{std::string(id), std::move(session)});
  shard.index.emplace(shard.lru.front().id, shard.lru.begin());
  return true;
}

bool NearCache::Evict(absl::string_view id, uint64_t version) {
  if (shards_.empty()) return false;
  Shard& shard = ShardFor(id);
  absl::MutexLock lock(&shard.mu);
  // Even with no copy here, a tier read in flight may be about to insert
  // an older one.
  shard.RecordLocked(id, version);
  auto it = shard.index.find(id);
  if (it == shard.index.end() || it->second->session.version() >= version) {
    return false;
  }
  shard.EraseLocked(it);
  return true;
}

void NearCache::Erase(absl::string_view id) {
  if (shards_.empty()) return;
  Shard& shard = ShardFor(id);
  absl::MutexLock lock(&shard.mu);
  shard.RecordLocked(id, std::numeric_limits<uint64_t>::max());
  if (auto it = shard.index.find(id); it != shard.index.end()) {
    shard.EraseLocked(it);
  }
}

void NearCache::Clear() {
  for (const std::unique_ptr<Shard>& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    shard->ClearLocked();
  }
}

void NearCache::Enable() {
  // Tickets taken before this clear never insert, so nothing read while
  // the cache was disabled gets in.
  Clear();
  enabled_.store(true, std::memory_order_release);
}

void NearCache::Disable() {
  enabled_.store(false, std::memory_order_release);
  Clear();
}

size_t NearCache::size() const {
  size_t total = 0;
  for (const std::unique_ptr<Shard>& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    total += shard->lru.size();
  }
  return total;
}

}  // namespace parley::distributed
