#include "services/coordinator/membership.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/parley/v1/coordinator_state.pb.h"
#include "services/common/names.h"

namespace parley::coordinator {

namespace {

// The least time a lease restored at start-up lasts without a heartbeat.
constexpr absl::Duration kRestoredLeaseGrace = absl::Seconds(10);

constexpr absl::string_view kMemberPrefix = "member/";
constexpr absl::string_view kEpochKey = "meta/membership_epoch";
constexpr size_t kMaxLabels = 32;
constexpr size_t kMaxLabelKeyLength = 63;
constexpr size_t kMaxLabelValueLength = 256;

absl::Status LeaseNotLive(absl::string_view member_id, uint64_t lease_id) {
  return absl::NotFoundError(
      absl::StrCat("member '", member_id, "' holds no live lease ", lease_id,
                   " (it expired or was replaced); join again"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Membership>> Membership::Load(
    DurableStore* store, Clock clock) {
  std::unique_ptr<Membership> membership(
      new Membership(store, std::move(clock)));
  absl::MutexLock lock(&membership->mu_);
  absl::StatusOr<uint64_t> epoch = store->GetCounter(kEpochKey);
  if (!epoch.ok()) return epoch.status();
  membership->epoch_ = *epoch;
  const absl::Time now = membership->clock_();
  absl::Status corrupt;
  absl::Status scan = store->ScanPrefix(
      kMemberPrefix, [&](absl::string_view key, absl::string_view value) {
        v1::MemberRecord record;
        if (!record.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          corrupt = absl::DataLossError(
              absl::StrCat("member record '", key, "' is corrupt"));
          return;
        }
        LiveMember live;
        live.lease_id = record.lease_id();
        live.ttl_seconds = record.ttl_seconds();
        // A restart gives every restored lease at least kRestoredLeaseGrace:
        // members need a moment to reconnect and heartbeat, and cache nodes
        // whose leases all lapsed at once would leave the partition table
        // with no copy of anything.
        live.deadline = now + std::max(absl::Seconds(record.ttl_seconds()),
                                       kRestoredLeaseGrace);
        live.member = std::move(*record.mutable_member());
        std::string id = live.member.id();
        membership->members_.emplace(std::move(id), std::move(live));
      });
  if (!scan.ok()) return scan;
  if (!corrupt.ok()) return corrupt;
  return membership;
}

absl::Status Membership::Validate(const v1::Member& member,
                                  uint32_t ttl_seconds) {
  if (absl::Status s = ValidateMemberId("member.id", member.id()); !s.ok()) {
    return s;
  }
  switch (member.role()) {
    case v1::RUNTIME_SERVER:
      if (absl::Status s = ValidateGroupName("member.group", member.group());
          !s.ok()) {
        return s;
      }
      break;
    case v1::CACHE_NODE:
      if (!member.group().empty()) {
        return absl::InvalidArgumentError(
            "member.group must be empty for a CACHE_NODE: cache nodes serve "
            "every server group");
      }
      break;
    default:
      return absl::InvalidArgumentError(
          "member.role must be RUNTIME_SERVER or CACHE_NODE");
  }
  if (absl::Status s = ValidateAddress("member.address", member.address());
      !s.ok()) {
    return s;
  }
  if (member.labels_size() > static_cast<int>(kMaxLabels)) {
    return absl::InvalidArgumentError(
        absl::StrCat("member.labels holds more than ", kMaxLabels, " labels"));
  }
  for (const auto& [key, value] : member.labels()) {
    if (key.empty() || key.size() > kMaxLabelKeyLength ||
        value.size() > kMaxLabelValueLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("member.labels: keys need 1-", kMaxLabelKeyLength,
                       " characters and values at most ", kMaxLabelValueLength,
                       " (label '", key.substr(0, 80), "')"));
    }
  }
  if (ttl_seconds > kMaxLeaseTtlSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ttl_seconds must be at most ", kMaxLeaseTtlSeconds,
        " (0 means the default of ", kDefaultLeaseTtlSeconds, ")"));
  }
  return absl::OkStatus();
}

bool Membership::Matches(const v1::Member& member, absl::string_view group,
                         v1::MemberRole role) {
  return (group.empty() || member.group() == group) &&
         (role == v1::MEMBER_ROLE_UNSPECIFIED || member.role() == role);
}

absl::Status Membership::CommitChange(v1::MembershipEvent::Kind kind,
                                      const LiveMember& live, bool removed,
                                      const v1::Member* previous) {
  const uint64_t epoch = epoch_ + 1;
  std::vector<StoreMutation> mutations;
  std::string key = absl::StrCat(kMemberPrefix, live.member.id());
  if (removed) {
    mutations.push_back({std::move(key), std::nullopt});
  } else {
    v1::MemberRecord record;
    *record.mutable_member() = live.member;
    record.set_lease_id(live.lease_id);
    record.set_ttl_seconds(live.ttl_seconds);
    mutations.push_back({std::move(key), record.SerializeAsString()});
  }
  mutations.push_back({std::string(kEpochKey), absl::StrCat(epoch)});
  if (absl::Status s = store_->Write(mutations, /*sync=*/false); !s.ok()) {
    return s;
  }
  epoch_ = epoch;
  v1::MembershipEvent event;
  event.set_epoch(epoch);
  for (const auto& [id, watcher] : watchers_) {
    const bool sees_now = Matches(live.member, watcher.group, watcher.role);
    const bool saw_before =
        previous != nullptr && Matches(*previous, watcher.group, watcher.role);
    if (sees_now) {
      // A member that moved into this watcher's filter is new to it.
      event.set_kind(previous != nullptr && !saw_before
                         ? v1::MembershipEvent::JOINED
                         : kind);
      *event.mutable_member() = live.member;
    } else if (saw_before) {
      // It moved out of this watcher's filter (another group or role).
      event.set_kind(v1::MembershipEvent::LEFT);
      *event.mutable_member() = *previous;
    } else {
      continue;
    }
    watcher.callback(event);
  }
  return absl::OkStatus();
}

absl::StatusOr<Lease> Membership::Join(const v1::Member& member,
                                       uint32_t ttl_seconds) {
  if (absl::Status s = Validate(member, ttl_seconds); !s.ok()) return s;
  if (ttl_seconds == 0) ttl_seconds = kDefaultLeaseTtlSeconds;
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  LiveMember live;
  live.member = member;
  *live.member.mutable_join_time() = {};
  live.member.mutable_join_time()->set_seconds(absl::ToUnixSeconds(now));
  live.lease_id = absl::Uniform<uint64_t>(lease_ids_, 1, UINT64_MAX);
  live.ttl_seconds = ttl_seconds;
  live.deadline = now + absl::Seconds(ttl_seconds);
  auto existing = members_.find(member.id());
  const v1::Member* previous =
      existing == members_.end() ? nullptr : &existing->second.member;
  if (absl::Status s =
          CommitChange(previous != nullptr ? v1::MembershipEvent::UPDATED
                                           : v1::MembershipEvent::JOINED,
                       live, /*removed=*/false, previous);
      !s.ok()) {
    return s;
  }
  Lease lease{live.lease_id, ttl_seconds, epoch_};
  members_[member.id()] = std::move(live);
  return lease;
}

absl::StatusOr<Lease> Membership::Heartbeat(absl::string_view member_id,
                                            uint64_t lease_id) {
  if (absl::Status s = ValidateMemberId("member_id", member_id); !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  auto it = members_.find(std::string(member_id));
  if (it == members_.end() || it->second.lease_id != lease_id) {
    return LeaseNotLive(member_id, lease_id);
  }
  it->second.deadline = clock_() + absl::Seconds(it->second.ttl_seconds);
  return Lease{lease_id, it->second.ttl_seconds, epoch_};
}

absl::Status Membership::Leave(absl::string_view member_id, uint64_t lease_id) {
  if (absl::Status s = ValidateMemberId("member_id", member_id); !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  auto it = members_.find(std::string(member_id));
  if (it == members_.end() || it->second.lease_id != lease_id) {
    return LeaseNotLive(member_id, lease_id);
  }
  if (absl::Status s =
          CommitChange(v1::MembershipEvent::LEFT, it->second, true, nullptr);
      !s.ok()) {
    return s;
  }
  members_.erase(it);
  return absl::OkStatus();
}

int Membership::ExpireLapsed() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  int expired = 0;
  for (auto it = members_.begin(); it != members_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    if (!CommitChange(v1::MembershipEvent::EXPIRED, it->second, true, nullptr)
             .ok()) {
      ++it;  // Kept; retried on the next pass.
      continue;
    }
    it = members_.erase(it);
    ++expired;
  }
  return expired;
}

v1::MembershipView Membership::List(absl::string_view group,
                                    v1::MemberRole role) const {
  absl::MutexLock lock(&mu_);
  v1::MembershipView view;
  view.set_epoch(epoch_);
  for (const auto& [id, live] : members_) {
    if (Matches(live.member, group, role)) *view.add_members() = live.member;
  }
  return view;
}

std::vector<std::string> Membership::MembersOfGroup(
    absl::string_view group) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ids;
  for (const auto& [id, live] : members_) {
    if (live.member.group() == group) ids.push_back(id);
  }
  return ids;
}

std::optional<v1::Member> Membership::Find(absl::string_view member_id) const {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(std::string(member_id));
  if (it == members_.end()) return std::nullopt;
  return it->second.member;
}

uint64_t Membership::Watch(absl::string_view group, v1::MemberRole role,
                           WatchCallback callback,
                           v1::MembershipEvent* full_view) {
  absl::MutexLock lock(&mu_);
  full_view->Clear();
  full_view->set_kind(v1::MembershipEvent::FULL_VIEW);
  full_view->set_epoch(epoch_);
  v1::MembershipView* view = full_view->mutable_view();
  view->set_epoch(epoch_);
  for (const auto& [id, live] : members_) {
    if (Matches(live.member, group, role)) *view->add_members() = live.member;
  }
  uint64_t id = next_watcher_id_++;
  watchers_.emplace(id, Watcher{std::string(group), role, std::move(callback)});
  return id;
}

void Membership::Unwatch(uint64_t id) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(id);
}

}  // namespace parley::coordinator
