#include "services/common/auth/principal.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace parley::auth {
namespace {

bool Contains(const std::vector<std::string>& groups, absl::string_view group) {
  for (const std::string& mine : groups) {
    if (mine == group) return true;
  }
  return false;
}

}  // namespace

Principal Principal::Make(std::string name, std::vector<std::string> roles) {
  Principal principal;
  principal.name = std::move(name);
  for (const std::string& role : roles) {
    absl::string_view group = role;
    if (role == "admin") {
      principal.admin = true;
    } else if (role == "node") {
      principal.node = true;
    } else if (role == "client") {
      principal.client = true;
    } else if (absl::ConsumePrefix(&group, "runtime:") && !group.empty()) {
      principal.runtime_groups.emplace_back(group);
    } else if (absl::ConsumePrefix(&group, "client:") && !group.empty()) {
      principal.client_groups.emplace_back(group);
    }
  }
  principal.roles = std::move(roles);
  return principal;
}

bool Principal::MayAccessNamespace(absl::string_view ns, bool write) const {
  (void)write;  // runtime servers load profiles, so they write them too.
  if (admin || node) return true;
  if (runtime_groups.empty()) return false;
  if (absl::StartsWith(ns, "profiles.")) return true;
  absl::string_view group = ns;
  if (!absl::ConsumePrefix(&group, "sessions/") &&
      !absl::ConsumePrefix(&group, "history.")) {
    return false;
  }
  return Contains(runtime_groups, group);
}

bool Principal::MemberOf(absl::string_view group) const {
  return admin || node || Contains(runtime_groups, group);
}

bool Principal::ClientOf(absl::string_view group) const {
  return admin || client || Contains(client_groups, group);
}

}  // namespace parley::auth
