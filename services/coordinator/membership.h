#ifndef PARLEY_SERVICES_COORDINATOR_MEMBERSHIP_H_
#define PARLEY_SERVICES_COORDINATOR_MEMBERSHIP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/coordinator/durable_store.h"

namespace parley::coordinator {

// Lease times: the default when a member asks for none, and the bounds.
inline constexpr uint32_t kDefaultLeaseTtlSeconds = 5;
inline constexpr uint32_t kMaxLeaseTtlSeconds = 300;

// What a granted or renewed lease looks like.
struct Lease {
  uint64_t lease_id = 0;
  uint32_t ttl_seconds = 0;
  uint64_t membership_epoch = 0;
};

// Live members with leases. Every change bumps an epoch that only grows
// (also across restarts) and is delivered to watchers in order. Members are
// kept in the DurableStore so that a restarted coordinator keeps its view
// for one lease time while heartbeats resume. Thread-safe.
class Membership {
 public:
  using Clock = std::function<absl::Time()>;
  // Receives each change; runs under the membership lock, so it must not
  // call back into Membership.
  using WatchCallback = std::function<void(const v1::MembershipEvent&)>;

  // Loads members and the epoch from `store` (not owned). Loaded members
  // get a fresh lease deadline from `clock`.
  static absl::StatusOr<std::unique_ptr<Membership>> Load(DurableStore* store,
                                                          Clock clock);

  // Checks a member's fields (id, role, group presence, address, labels)
  // and the requested TTL. Group existence is the caller's business.
  static absl::Status Validate(const v1::Member& member, uint32_t ttl_seconds);

  // Adds or replaces (same id) a member with a new lease.
  absl::StatusOr<Lease> Join(const v1::Member& member, uint32_t ttl_seconds);

  // Renews a lease; NOT_FOUND if it lapsed or was replaced.
  absl::StatusOr<Lease> Heartbeat(absl::string_view member_id,
                                  uint64_t lease_id);

  // Removes a member holding `lease_id`.
  absl::Status Leave(absl::string_view member_id, uint64_t lease_id);

  // Removes every member whose lease has lapsed; returns how many.
  int ExpireLapsed();

  // Live members matching the filter (empty group / unspecified role: all).
  v1::MembershipView List(absl::string_view group, v1::MemberRole role) const;

  // Ids of the live members of `group`.
  std::vector<std::string> MembersOfGroup(absl::string_view group) const;

  // The live member `member_id`, if there is one.
  std::optional<v1::Member> Find(absl::string_view member_id) const;

  // Registers a watcher and fills `full_view` (a FULL_VIEW event) with the
  // matching members, atomically with the registration.
  uint64_t Watch(absl::string_view group, v1::MemberRole role,
                 WatchCallback callback, v1::MembershipEvent* full_view);

  // Stops calling watcher `id`.
  void Unwatch(uint64_t id);

 private:
  struct LiveMember {
    v1::Member member;
    uint64_t lease_id = 0;
    uint32_t ttl_seconds = 0;
    absl::Time deadline;
  };
  struct Watcher {
    std::string group;
    v1::MemberRole role;
    WatchCallback callback;
  };

  Membership(DurableStore* store, Clock clock)
      : store_(store), clock_(std::move(clock)) {}

  // Records a change durably, bumps the epoch and tells watchers. For a
  // re-join, `previous` is the replaced record: watchers it no longer
  // matches see LEFT, watchers it newly matches see JOINED.
  absl::Status CommitChange(v1::MembershipEvent::Kind kind,
                            const LiveMember& member, bool removed,
                            const v1::Member* previous)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static bool Matches(const v1::Member& member, absl::string_view group,
                      v1::MemberRole role);

  DurableStore* const store_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, LiveMember> members_ ABSL_GUARDED_BY(mu_);
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_watcher_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::BitGen lease_ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_MEMBERSHIP_H_
