#include "services/client/server_set.h"

#include <algorithm>
#include <utility>

#include "services/client/rendezvous.h"

namespace parley::client {
namespace {

bool Counts(const v1::Member& member) {
  return member.role() == v1::RUNTIME_SERVER && !member.id().empty() &&
         !member.address().empty();
}

}  // namespace

void ServerSet::SetStatic(const std::vector<std::string>& addresses) {
  std::map<std::string, std::string> servers;
  for (const std::string& address : addresses) servers[address] = address;
  absl::MutexLock lock(&mu_);
  Replace(std::move(servers));
}

bool ServerSet::ApplyView(const v1::MembershipView& view) {
  std::map<std::string, std::string> servers;
  for (const v1::Member& member : view.members()) {
    if (Counts(member)) servers[member.id()] = member.address();
  }
  absl::MutexLock lock(&mu_);
  return Replace(std::move(servers));
}

bool ServerSet::Apply(const v1::MembershipEvent& event) {
  const v1::Member& member = event.member();
  switch (event.kind()) {
    case v1::MembershipEvent::FULL_VIEW:
      return ApplyView(event.view());
    case v1::MembershipEvent::JOINED:
    case v1::MembershipEvent::UPDATED: {
      absl::MutexLock lock(&mu_);
      std::map<std::string, std::string> servers = servers_;
      if (Counts(member)) {
        servers[member.id()] = member.address();
      } else {
        servers.erase(member.id());
      }
      return Replace(std::move(servers));
    }
    case v1::MembershipEvent::LEFT:
    case v1::MembershipEvent::EXPIRED: {
      absl::MutexLock lock(&mu_);
      std::map<std::string, std::string> servers = servers_;
      servers.erase(member.id());
      return Replace(std::move(servers));
    }
    default:
      return false;
  }
}

bool ServerSet::Replace(std::map<std::string, std::string> servers) {
  // A server that went, or moved to another address, starts afresh.
  for (auto it = demoted_until_.begin(); it != demoted_until_.end();) {
    auto now = servers.find(it->first);
    auto before = servers_.find(it->first);
    if (now == servers.end() || before == servers_.end() ||
        now->second != before->second) {
      it = demoted_until_.erase(it);
    } else {
      ++it;
    }
  }
  if (servers == servers_) return false;
  servers_ = std::move(servers);
  return true;
}

std::vector<Server> ServerSet::ForSession(absl::string_view key,
                                          absl::Time now) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> ids;
  ids.reserve(servers_.size());
  for (const auto& [id, address] : servers_) ids.push_back(id);
  std::vector<Server> ordered;
  ordered.reserve(ids.size());
  for (size_t i : RendezvousOrder(ids, key)) {
    ordered.push_back({ids[i], servers_.at(ids[i])});
  }
  return DemotedLast(std::move(ordered), now);
}

std::vector<Server> ServerSet::ForAny(uint64_t turn, absl::Time now) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<Server> ordered;
  ordered.reserve(servers_.size());
  for (const auto& [id, address] : servers_) ordered.push_back({id, address});
  if (!ordered.empty()) {
    std::rotate(ordered.begin(), ordered.begin() + turn % ordered.size(),
                ordered.end());
  }
  return DemotedLast(std::move(ordered), now);
}

std::vector<Server> ServerSet::DemotedLast(std::vector<Server> servers,
                                           absl::Time now) const {
  std::stable_partition(
      servers.begin(), servers.end(), [&](const Server& server) {
        auto it = demoted_until_.find(server.id);
        return it == demoted_until_.end() || it->second <= now;
      });
  return servers;
}

void ServerSet::Demote(const std::string& id, absl::Time until) {
  absl::MutexLock lock(&mu_);
  if (servers_.count(id) == 0) return;
  absl::Time& current = demoted_until_[id];
  current = std::max(current, until);
}

void ServerSet::Restore(const std::string& id) {
  {
    // The common case, under the shared lock: nothing to restore.
    absl::ReaderMutexLock lock(&mu_);
    if (demoted_until_.count(id) == 0) return;
  }
  absl::MutexLock lock(&mu_);
  demoted_until_.erase(id);
}

std::vector<Server> ServerSet::servers() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<Server> all;
  all.reserve(servers_.size());
  for (const auto& [id, address] : servers_) all.push_back({id, address});
  return all;
}

}  // namespace parley::client
