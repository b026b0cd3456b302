#include "services/runtime/session/local_session_store.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/runtime/session/lru_list.h"

namespace parley::session {
namespace {

using ::parley::v1::SessionState;

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>((time - absl::FromUnixSeconds(seconds)) /
                                      absl::Nanoseconds(1)));
}

struct Entry : LruNode {
  SessionState state;
  absl::Time last_access;
};

// A copy of the entry's session with its last access time filled in.
SessionState Export(const Entry& entry) {
  SessionState state = entry.state;
  SetTimestamp(entry.last_access, state.mutable_last_access_time());
  return state;
}

absl::Status NotFound(absl::string_view session_id) {
  return absl::NotFoundError(absl::StrCat("no session ", session_id));
}

}  // namespace

struct LocalSessionStore::Shard {
  explicit Shard(size_t capacity) : capacity(capacity) {}

  // Moves the entry into `retired` and frees it.
  void Retire(absl::node_hash_map<std::string, Entry>::iterator it,
              RetireReason reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    lru.Remove(&it->second);
    retired.push_back({Export(it->second), reason});
    entries.erase(it);
  }

  const size_t capacity;
  mutable absl::Mutex mu;
  absl::node_hash_map<std::string, Entry> entries ABSL_GUARDED_BY(mu);
  LruList lru ABSL_GUARDED_BY(mu);
  std::vector<RetiredSession> retired ABSL_GUARDED_BY(mu);
};

LocalSessionStore::LocalSessionStore(const LocalSessionStoreOptions& options)
    : timeout_nanos_(absl::ToInt64Nanoseconds(options.timeout)) {
  const int max_entries = std::max(1, options.max_entries);
  const int num_shards = std::max(1, std::min(options.num_shards, max_entries));
  shards_.reserve(num_shards);
  for (int i = 0; i < num_shards; ++i) {
    // Shard capacities sum to max_entries exactly.
    shards_.push_back(std::make_unique<Shard>(
        max_entries / num_shards + (i < max_entries % num_shards ? 1 : 0)));
  }
}

LocalSessionStore::~LocalSessionStore() = default;

LocalSessionStore::Shard& LocalSessionStore::ShardFor(
    absl::string_view session_id) const {
  // Salted so the shard does not correlate with the map's own hash bits.
  const size_t hash = absl::Hash<std::pair<absl::string_view, uint32_t>>()(
      {session_id, 0x5e55u});
  return *shards_[hash % shards_.size()];
}

bool LocalSessionStore::Expired(absl::Time last_access, absl::Time now) const {
  return now - last_access >= timeout();
}

void LocalSessionStore::SetTimeout(absl::Duration timeout) {
  timeout_nanos_.store(absl::ToInt64Nanoseconds(timeout),
                       std::memory_order_relaxed);
}

absl::Duration LocalSessionStore::timeout() const {
  return absl::Nanoseconds(timeout_nanos_.load(std::memory_order_relaxed));
}

absl::StatusOr<uint64_t> LocalSessionStore::Create(SessionState state,
                                                   bool replace_existing,
                                                   absl::Time now) {
  if (state.session_id().empty()) {
    return absl::InvalidArgumentError("empty session id");
  }
  Shard& shard = ShardFor(state.session_id());
  absl::MutexLock lock(&shard.mu);
  if (auto it = shard.entries.find(state.session_id());
      it != shard.entries.end()) {
    if (Expired(it->second.last_access, now)) {
      shard.Retire(it, RetireReason::kExpired);
    } else if (replace_existing) {
      shard.Retire(it, RetireReason::kReplaced);
    } else {
      return absl::AlreadyExistsError(
          absl::StrCat("session ", state.session_id(), " exists"));
    }
  }
  while (shard.entries.size() >= shard.capacity) {
    const Entry& oldest = *static_cast<const Entry*>(shard.lru.back());
    shard.Retire(shard.entries.find(oldest.state.session_id()),
                 Expired(oldest.last_access, now) ? RetireReason::kExpired
                                                  : RetireReason::kEvicted);
  }
  const uint64_t version = next_version_.fetch_add(1);
  state.set_version(version);
  state.clear_last_access_time();
  std::string key = state.session_id();
  Entry& entry = shard.entries[std::move(key)];
  entry.state = std::move(state);
  entry.last_access = now;
  shard.lru.PushFront(&entry);
  return version;
}

absl::StatusOr<SessionState> LocalSessionStore::Get(
    absl::string_view session_id, absl::Time now) {
  Shard& shard = ShardFor(session_id);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.entries.find(session_id);
  if (it == shard.entries.end()) return NotFound(session_id);
  Entry& entry = it->second;
  if (Expired(entry.last_access, now)) {
    shard.Retire(it, RetireReason::kExpired);
    return NotFound(session_id);
  }
  entry.last_access = std::max(entry.last_access, now);
  shard.lru.MoveToFront(&entry);
  return Export(entry);
}

absl::StatusOr<uint64_t> LocalSessionStore::Update(SessionState state,
                                                   absl::Time now) {
  Shard& shard = ShardFor(state.session_id());
  absl::MutexLock lock(&shard.mu);
  auto it = shard.entries.find(state.session_id());
  if (it == shard.entries.end()) return NotFound(state.session_id());
  Entry& entry = it->second;
  if (Expired(entry.last_access, now)) {
    shard.Retire(it, RetireReason::kExpired);
    return NotFound(state.session_id());
  }
  if (state.version() != entry.state.version()) {
    return absl::AbortedError(
        absl::StrCat("session ", state.session_id(), " is at version ",
                     entry.state.version(), ", not ", state.version()));
  }
  const uint64_t version = next_version_.fetch_add(1);
  state.set_version(version);
  state.clear_last_access_time();
  entry.state = std::move(state);
  entry.last_access = std::max(entry.last_access, now);
  shard.lru.MoveToFront(&entry);
  return version;
}

absl::StatusOr<SessionState> LocalSessionStore::Remove(
    absl::string_view session_id, absl::Time now) {
  Shard& shard = ShardFor(session_id);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.entries.find(session_id);
  if (it == shard.entries.end()) return NotFound(session_id);
  if (Expired(it->second.last_access, now)) {
    shard.Retire(it, RetireReason::kExpired);
    return NotFound(session_id);
  }
  SessionState state = Export(it->second);
  shard.lru.Remove(&it->second);
  shard.entries.erase(it);
  return state;
}

std::vector<RetiredSession> LocalSessionStore::ExpireIdle(absl::Time now) {
  std::vector<RetiredSession> out;
  for (const std::unique_ptr<Shard>& shard_ptr : shards_) {
    Shard& shard = *shard_ptr;
    absl::MutexLock lock(&shard.mu);
    // Least recently used first: stop at the first live session.
    while (LruNode* node = shard.lru.back()) {
      const Entry& entry = *static_cast<const Entry*>(node);
      if (!Expired(entry.last_access, now)) break;
      shard.Retire(shard.entries.find(entry.state.session_id()),
                   RetireReason::kExpired);
    }
    for (RetiredSession& retired : shard.retired) {
      out.push_back(std::move(retired));
    }
    shard.retired.clear();
  }
  return out;
}

size_t LocalSessionStore::size() const {
  size_t total = 0;
  for (const std::unique_ptr<Shard>& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    total += shard->entries.size();
  }
  return total;
}

}  // namespace parley::session
