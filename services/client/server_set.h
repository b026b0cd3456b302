#ifndef PARLEY_SERVICES_CLIENT_SERVER_SET_H_
#define PARLEY_SERVICES_CLIENT_SERVER_SET_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/parley/v1/coordinator.pb.h"

namespace parley::client {

// A runtime server a call may go to.
struct Server {
  // Its member id (with a static list of addresses: the address).
  std::string id;
  // host:port.
  std::string address;

  bool operator==(const Server& other) const {
    return id == other.id && address == other.address;
  }
};

// The runtime servers of one group as a client sees them: the
// coordinator's membership view, or a fixed list; a server that failed a
// call is tried last for a while (demoted). Thread-safe.
class ServerSet {
 public:
  // Replaces the servers with `addresses`, each its own id.
  void SetStatic(const std::vector<std::string>& addresses);

  // Applies a membership view, or an event of WatchMembership; only
  // RUNTIME_SERVER members with an address count. True if the servers
  // changed.
  bool ApplyView(const v1::MembershipView& view);
  bool Apply(const v1::MembershipEvent& event);

  // Every server, in the order a call of session `key` tries them:
  // rendezvous order, with the servers demoted at `now` moved to the end.
  std::vector<Server> ForSession(absl::string_view key, absl::Time now) const;

  // Every server, for a call that any server may serve: starting at
  // position `turn` (modulo their number) of the id order, demoted servers
  // moved to the end.
  std::vector<Server> ForAny(uint64_t turn, absl::Time now) const;

  // Tries server `id` last until `until`.
  void Demote(const std::string& id, absl::Time until);
  // Ends the demotion of server `id`.
  void Restore(const std::string& id);

  // Every server, by id.
  std::vector<Server> servers() const;

 private:
  // Demoted servers moved to the end, the order otherwise kept.
  std::vector<Server> DemotedLast(std::vector<Server> servers,
                                  absl::Time now) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool Replace(std::map<std::string, std::string> servers)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  // Address by id.
  std::map<std::string, std::string> servers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> demoted_until_ ABSL_GUARDED_BY(mu_);
};

}  // namespace parley::client

#endif  // PARLEY_SERVICES_CLIENT_SERVER_SET_H_
