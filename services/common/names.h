#ifndef PARLEY_SERVICES_COMMON_NAMES_H_
#define PARLEY_SERVICES_COMMON_NAMES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace parley {

// Checks a server group name: 1-63 characters of lower-case letters, digits
// and '-', starting with a letter and not ending with '-' (it appears in
// configuration paths, cache namespaces and Kubernetes object names).
// `field` names the request field in the error message.
absl::Status ValidateGroupName(absl::string_view field, absl::string_view name);

// Checks a member id: 1-63 characters of letters, digits, '.', '_', '-'.
absl::Status ValidateMemberId(absl::string_view field, absl::string_view id);

// Checks a host:port address: non-empty host, port 1-65535, at most 255
// characters in all.
absl::Status ValidateAddress(absl::string_view field,
                             absl::string_view address);

// Checks a hierarchical configuration path: 1-16 segments of letters,
// digits, '_', '.' and '-' joined by single '/', at most 512 characters, no
// leading or trailing '/'. When `allow_empty`, "" (the root) is accepted.
absl::Status ValidateConfigPath(absl::string_view field, absl::string_view path,
                                bool allow_empty);

}  // namespace parley

#endif  // PARLEY_SERVICES_COMMON_NAMES_H_
