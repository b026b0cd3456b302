#include "services/common/auth/principal.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace parley::auth {

Principal Principal::Make(std::string name, std::vector<std::string> roles) {
  Principal principal;
  principal.name = std::move(name);
  for (const std::string& role : roles) {
    absl::string_view group = role;
    if (role == "admin") {
      principal.admin = true;
    } else if (role == "node") {
      principal.node = true;
    } else if (absl::ConsumePrefix(&group, "runtime:") && !group.empty()) {
      principal.runtime_groups.emplace_back(group);
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
  for (const std::string& mine : runtime_groups) {
    if (group == mine) return true;
  }
  return false;
}

}  // namespace parley::auth
