#ifndef PARLEY_SERVICES_COMMON_AUTH_PRINCIPAL_H_
#define PARLEY_SERVICES_COMMON_AUTH_PRINCIPAL_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace parley::auth {

// Who made a call, and what it may do. Roles: "admin" (everything),
// "node" (member calls and every cache namespace), "runtime:<group>"
// (member calls, the group's cache namespaces and profiles.*); any other
// role only authenticates.
struct Principal {
  std::string name;
  std::vector<std::string> roles;
  bool admin = false;
  bool node = false;
  // Groups named by runtime:<group> roles.
  std::vector<std::string> runtime_groups;

  // Builds the flags above from `roles`.
  static Principal Make(std::string name, std::vector<std::string> roles);

  // True for admin, node and runtime principals.
  bool member() const { return admin || node || !runtime_groups.empty(); }

  // Whether this principal may read (write=false) or write the cache-tier
  // namespace `ns`: admin and node everything; runtime:<g> sessions/<g>,
  // history.<g> and profiles.*; nobody else anything.
  bool MayAccessNamespace(absl::string_view ns, bool write) const;
};

}  // namespace parley::auth

#endif  // PARLEY_SERVICES_COMMON_AUTH_PRINCIPAL_H_
