#ifndef PARLEY_SERVICES_COMMON_AUTH_PRINCIPAL_H_
#define PARLEY_SERVICES_COMMON_AUTH_PRINCIPAL_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace parley::auth {

// Who made a call, and what it may do. Roles: "admin" (everything),
// "node" (member calls for any group and every cache namespace),
// "runtime:<group>" (member calls for the group, its cache namespaces and
// profiles.*), "client:<group>" (the interaction calls of the group's
// runtime servers), "client" (those of every group); any other role only
// authenticates.
struct Principal {
  std::string name;
  std::vector<std::string> roles;
  bool admin = false;
  bool node = false;
  // Role "client": a touchpoint of every group.
  bool client = false;
  // Groups named by runtime:<group> roles.
  std::vector<std::string> runtime_groups;
  // Groups named by client:<group> roles.
  std::vector<std::string> client_groups;

  // Builds the flags above from `roles`.
  static Principal Make(std::string name, std::vector<std::string> roles);

  // True for admin, node and runtime principals.
  bool member() const { return admin || node || !runtime_groups.empty(); }

  // Whether this principal may take part in server group `group`'s
  // membership and broadcast: admin, node or runtime:<group>.
  bool MemberOf(absl::string_view group) const;

  // Whether this principal may make the interaction calls of `group`'s
  // runtime servers: admin, client or client:<group>.
  bool ClientOf(absl::string_view group) const;

  // Whether this principal may read (write=false) or write the cache-tier
  // namespace `ns`: admin and node everything; runtime:<g> sessions/<g>,
  // history.<g> and profiles.*; nobody else anything.
  bool MayAccessNamespace(absl::string_view ns, bool write) const;
};

}  // namespace parley::auth

#endif  // PARLEY_SERVICES_COMMON_AUTH_PRINCIPAL_H_
