#include "services/runtime/distributed/distributed_session_store.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/runtime/distributed/session_codec.h"
#include "services/runtime/session/await.h"

namespace parley::distributed {
namespace {

using ::parley::v1::SessionState;

// An invalidation version above every real one: drops any copy.
constexpr uint64_t kAnyVersion = std::numeric_limits<uint64_t>::max();

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>((time - absl::FromUnixSeconds(seconds)) /
                                      absl::Nanoseconds(1)));
}

absl::Status NotFound(absl::string_view session_id) {
  return absl::NotFoundError(absl::StrCat("no session ", session_id));
}

// True when a failed write may nevertheless have been applied.
bool OutcomeUnknown(const absl::Status& status) {
  return !absl::IsAborted(status) && !absl::IsInvalidArgument(status);
}

}  // namespace

std::string SessionNamespace(absl::string_view group) {
  return absl::StrCat("sessions/", group);
}

DistributedSessionStore::DistributedSessionStore(
    cache::CacheClient* client, DistributedSessionStoreOptions options,
    NearCache* near_cache, InvalidationPublisher* publisher)
    : client_(client),
      options_(std::move(options)),
      ns_(SessionNamespace(options_.group)),
      near_cache_(near_cache),
      publisher_(publisher),
      timeout_ms_(0) {
  SetTimeout(options_.timeout);
}

void DistributedSessionStore::SetTimeout(absl::Duration timeout) {
  // The tier reads a time to live of 0 as "the namespace's default".
  timeout_ms_.store(std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout)),
                    std::memory_order_relaxed);
}

absl::Duration DistributedSessionStore::timeout() const {
  return absl::Milliseconds(timeout_ms_.load(std::memory_order_relaxed));
}

void DistributedSessionStore::Announce(absl::string_view session_id,
                                       uint64_t version) {
  if (publisher_ != nullptr) publisher_->Publish(ns_, session_id, version);
}

void DistributedSessionStore::InvalidateEverywhere(
    absl::string_view session_id) {
  if (near_cache_ != nullptr) near_cache_->Erase(session_id);
  Announce(session_id, kAnyVersion);
}

void DistributedSessionStore::WriteAsync(
    SessionState state, absl::Time now,
    std::optional<uint64_t> expected_version, VersionDone done) {
  state.clear_version();
  SetTimestamp(now, state.mutable_last_access_time());
  std::string value = EncodeSession(state, options_.compress);
  const int64_t ttl_ms = timeout_ms_.load(std::memory_order_relaxed);
  const NearCache::Ticket ticket =
      near_cache_ != nullptr ? near_cache_->Reserve(state.session_id()) : 0;
  // Shared with the near cache once stored; held by the completion until.
  auto stored = std::make_shared<SessionState>(std::move(state));
  // The tier's clock set the real expiry, no earlier than this.
  const int64_t expire_ms = absl::ToUnixMillis(now) + ttl_ms;
  client_->PutAsync(
      ns_, stored->session_id(), std::move(value),
      static_cast<uint64_t>(ttl_ms), expected_version,
      [this, stored, expire_ms, ticket,
       done = std::move(done)](absl::StatusOr<uint64_t> version) mutable {
        if (!version.ok()) {
          if (OutcomeUnknown(version.status())) {
            InvalidateEverywhere(stored->session_id());
          }
          return done(version.status());
        }
        stored->set_version(*version);
        Announce(stored->session_id(), *version);
        if (near_cache_ != nullptr) {
          const std::string id = stored->session_id();
          near_cache_->Insert(id, CachedSession{std::move(stored), expire_ms},
                              ticket);
        }
        done(version);
      });
}

absl::StatusOr<uint64_t> DistributedSessionStore::Write(
    SessionState state, absl::Time now,
    std::optional<uint64_t> expected_version) {
  return session::Await<absl::StatusOr<uint64_t>>([&](VersionDone done) {
    WriteAsync(std::move(state), now, expected_version, std::move(done));
  });
}

void DistributedSessionStore::ReadTierAsync(std::string session_id, bool cache,
                                            StateDone done) {
  const NearCache::Ticket ticket =
      near_cache_ != nullptr ? near_cache_->Reserve(session_id) : 0;
  const std::string key = session_id;
  client_->GetAsync(
      ns_, key,
      [this, session_id = std::move(session_id), cache, ticket,
       done = std::move(done)](absl::StatusOr<v1::GetResponse> read) {
        if (!read.ok()) return done(read.status());
        if (!read->found()) return done(NotFound(session_id));
        absl::StatusOr<SessionState> decoded =
            DecodeSession(read->entry().value(), session_id);
        if (!decoded.ok()) return done(decoded.status());
        SessionState& state = *decoded;
        state.set_version(read->entry().version());
        if (cache && near_cache_ != nullptr) {
          near_cache_->Insert(
              session_id,
              CachedSession{std::make_shared<const SessionState>(state),
                            read->entry().expire_time_ms()},
              ticket);
        }
        done(std::move(state));
      });
}

absl::StatusOr<SessionState> DistributedSessionStore::ReadTier(
    absl::string_view session_id, bool cache) {
  return session::Await<absl::StatusOr<SessionState>>([&](StateDone done) {
    ReadTierAsync(std::string(session_id), cache, std::move(done));
  });
}

absl::StatusOr<uint64_t> DistributedSessionStore::Create(SessionState state,
                                                         bool replace_existing,
                                                         absl::Time now) {
  if (state.session_id().empty()) {
    return absl::InvalidArgumentError("empty session id");
  }
  const std::string id = state.session_id();
  // Expected version 0: the tier's "must not exist (or is expired)".
  absl::StatusOr<uint64_t> version =
      Write(std::move(state), now,
            replace_existing ? std::nullopt : std::optional<uint64_t>(0));
  if (absl::IsAborted(version.status())) {
    return absl::AlreadyExistsError(absl::StrCat("session ", id, " exists"));
  }
  return version;
}

absl::StatusOr<SessionState> DistributedSessionStore::Get(
    absl::string_view session_id, absl::Time now) {
  if (session_id.empty()) return NotFound(session_id);
  if (near_cache_ != nullptr) {
    if (std::optional<CachedSession> hit =
            near_cache_->Lookup(session_id, absl::ToUnixMillis(now))) {
      return *hit->state;
    }
  }
  return ReadTier(session_id, /*cache=*/true);
}

absl::StatusOr<SessionState> DistributedSessionStore::GetLatest(
    absl::string_view session_id, absl::Time now) {
  if (session_id.empty()) return NotFound(session_id);
  return ReadTier(session_id, /*cache=*/true);
}

void DistributedSessionStore::GetForUpdateAsync(std::string session_id,
                                                absl::Time now, bool latest,
                                                StateDone done) {
  if (session_id.empty()) return done(NotFound(session_id));
  if (!latest && near_cache_ != nullptr) {
    if (std::optional<CachedSession> taken =
            near_cache_->Take(session_id, absl::ToUnixMillis(now))) {
      // Out of the cache, a copy no reader still holds can be moved.
      if (taken->state.use_count() == 1) {
        return done(
            std::move(*std::const_pointer_cast<SessionState>(taken->state)));
      }
      return done(*taken->state);
    }
  }
  ReadTierAsync(std::move(session_id), /*cache=*/false, std::move(done));
}

absl::StatusOr<SessionState> DistributedSessionStore::GetForUpdate(
    absl::string_view session_id, absl::Time now, bool latest) {
  return session::Await<absl::StatusOr<SessionState>>([&](StateDone done) {
    GetForUpdateAsync(std::string(session_id), now, latest, std::move(done));
  });
}

void DistributedSessionStore::UpdateAsync(SessionState state, absl::Time now,
                                          VersionDone done) {
  if (state.session_id().empty()) return done(NotFound(state.session_id()));
  std::string id = state.session_id();
  const uint64_t expected = state.version();
  if (expected == 0) {
    // The tier reads 0 as "must not exist"; no stored session is at 0.
    return ReadTierAsync(
        id, /*cache=*/true,
        [id, done = std::move(done)](absl::StatusOr<SessionState> current) {
          if (!current.ok()) return done(current.status());
          done(
              absl::AbortedError(absl::StrCat("session ", id, " is at version ",
                                              current->version(), ", not 0")));
        });
  }
  WriteAsync(std::move(state), now, expected,
             [this, id = std::move(id), expected,
              done = std::move(done)](absl::StatusOr<uint64_t> version) {
               if (!absl::IsAborted(version.status())) return done(version);
               // Whatever copy this server holds is stale: the caller re-reads
               // the tier's. Tell "changed" from "gone".
               if (near_cache_ != nullptr) near_cache_->Erase(id);
               ReadTierAsync(id, /*cache=*/true,
                             [id, expected, aborted = version.status(),
                              done](absl::StatusOr<SessionState> current) {
                               if (absl::IsNotFound(current.status())) {
                                 return done(current.status());
                               }
                               if (!current.ok()) return done(aborted);
                               done(absl::AbortedError(absl::StrCat(
                                   "session ", id, " is at version ",
                                   current->version(), ", not ", expected)));
                             });
             });
}

absl::StatusOr<uint64_t> DistributedSessionStore::Update(SessionState state,
                                                         absl::Time now) {
  return session::Await<absl::StatusOr<uint64_t>>([&](VersionDone done) {
    UpdateAsync(std::move(state), now, std::move(done));
  });
}

absl::StatusOr<SessionState> DistributedSessionStore::Remove(
    absl::string_view session_id, absl::Time now) {
  if (session_id.empty()) return NotFound(session_id);
  // A cached copy that the compare-and-set delete accepts was current.
  std::optional<SessionState> candidate;
  if (near_cache_ != nullptr) {
    if (std::optional<CachedSession> hit =
            near_cache_->Lookup(session_id, absl::ToUnixMillis(now))) {
      candidate = *hit->state;
    }
  }
  for (int attempt = 0; attempt < std::max(1, options_.max_remove_attempts);
       ++attempt) {
    if (!candidate.has_value()) {
      absl::StatusOr<SessionState> current =
          ReadTier(session_id, /*cache=*/false);
      if (!current.ok()) {
        if (absl::IsNotFound(current.status()) && near_cache_ != nullptr) {
          near_cache_->Erase(session_id);
        }
        return current.status();
      }
      candidate = *std::move(current);
    }
    absl::StatusOr<v1::DeleteResponse> deleted =
        client_->Delete(ns_, session_id, candidate->version());
    if (near_cache_ != nullptr) near_cache_->Erase(session_id);
    if (deleted.ok()) {
      if (!deleted->existed()) return NotFound(session_id);
      Announce(session_id, deleted->version());
      return *std::move(candidate);
    }
    if (!absl::IsAborted(deleted.status())) {
      if (OutcomeUnknown(deleted.status())) InvalidateEverywhere(session_id);
      return deleted.status();
    }
    candidate.reset();  // Changed meanwhile: read it again.
  }
  return absl::AbortedError(absl::StrCat("session ", session_id,
                                         " kept changing while being removed"));
}

}  // namespace parley::distributed
