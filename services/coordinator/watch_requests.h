#ifndef PARLEY_SERVICES_COORDINATOR_WATCH_REQUESTS_H_
#define PARLEY_SERVICES_COORDINATOR_WATCH_REQUESTS_H_

#include <string>

#include "proto/parley/v1/coordinator.pb.h"
#include "proto/parley/v1/deployments.pb.h"

namespace parley::coordinator {

// The requests of the coordinator's watches, built in one expression so
// that a StreamFollower's opener can own them.

// Configuration entries whose keys start with `prefix`.
inline v1::WatchConfigRequest WatchConfigUnder(const std::string& prefix) {
  v1::WatchConfigRequest request;
  request.set_prefix(prefix);
  return request;
}

// The deployments of server group `group`.
inline v1::WatchDeploymentsRequest WatchDeploymentsOf(
    const std::string& group) {
  v1::WatchDeploymentsRequest request;
  request.set_group(group);
  return request;
}

// The invalidation broadcasts of server group `group`.
inline v1::SubscribeRequest SubscribeTo(const std::string& group) {
  v1::SubscribeRequest request;
  request.set_group(group);
  return request;
}

// The members of server group `group` that have `role`.
inline v1::WatchMembershipRequest MembersOf(const std::string& group,
                                            v1::MemberRole role) {
  v1::WatchMembershipRequest request;
  request.set_group(group);
  request.set_role(role);
  return request;
}

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_WATCH_REQUESTS_H_
