#ifndef PARLEY_SERVICES_COMMON_AUTH_AUTHORIZER_H_
#define PARLEY_SERVICES_COMMON_AUTH_AUTHORIZER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/server_context.h"
#include "services/common/auth/principal.h"
#include "services/common/auth/tokens.h"

namespace parley::auth {

// What a call needs.
enum class Need {
  kAuthenticated,  // any known principal
  kMember,         // admin, node or runtime:<group>
  kNode,           // admin or node
  kAdmin,          // admin
  kClient,         // admin, client or client:<group>
};

// Settings of server-side authorization (see docs/security.md).
struct AuthOptions {
  // The tokens file; empty turns authorization off.
  std::string tokens_file;
  // Subject CN or SAN DNS names of verified client certificates that are
  // admin, and that are node.
  std::vector<std::string> admin_cert_names;
  std::vector<std::string> node_cert_names;
};

// Reads AuthOptions from --auth_tokens_file, --auth_admin_cert_names and
// --auth_node_cert_names.
AuthOptions AuthOptionsFromFlags();

// Authenticates calls from their bearer token (metadata
// "authorization: Bearer <token>") or else their verified client
// certificate, and re-reads the tokens file when it changes.
class Authorizer {
 public:
  // Loads the tokens file; fails if it is unreadable or malformed.
  static absl::StatusOr<std::unique_ptr<Authorizer>> Create(
      AuthOptions options);
  ~Authorizer();

  // The caller of `context`, or UNAUTHENTICATED.
  absl::StatusOr<std::shared_ptr<const Principal>> Authenticate(
      const grpc::ServerContextBase& context) const;

  // Re-reads the tokens file if its modification time changed; keeps the
  // old table (and logs) if the new file is malformed.
  void ReloadIfChanged();

 private:
  explicit Authorizer(AuthOptions options);

  const AuthOptions options_;
  std::shared_ptr<const Principal> admin_cert_;
  std::shared_ptr<const Principal> node_cert_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TokenTable> tokens_ ABSL_GUARDED_BY(mu_);
  int64_t mtime_ns_ = 0;
  absl::Notification stop_;
  std::thread reloader_;
};

// Makes `authorizer` the process's (null turns authorization off). Set once
// at start-up, before serving.
void InstallAuthorizer(std::unique_ptr<Authorizer> authorizer);

// True when an authorizer is installed.
bool AuthEnabled();

// The caller of `context`: null when authorization is off,
// UNAUTHENTICATED (logged) when it has no known credentials.
absl::StatusOr<std::shared_ptr<const Principal>> CallerOf(
    const grpc::ServerContextBase& context, absl::string_view method);

// OK when the caller of `context` may call `method` (a full name such as
// "parley.v1.Coordinator/CreateGroup"), else UNAUTHENTICATED or
// PERMISSION_DENIED (logged). OK at the cost of one load when
// authorization is off.
absl::Status Require(const grpc::ServerContextBase& context, Need need,
                     absl::string_view method);

// Require for a call made for server group `group`: kMember then needs
// admin, node or runtime:<group> and kClient admin, client or
// client:<group>; the other needs do not depend on the group.
absl::Status RequireForGroup(const grpc::ServerContextBase& context, Need need,
                             absl::string_view group, absl::string_view method);

// OK when `principal` (null: authorization off) may read or write the
// cache namespace `ns`; PERMISSION_DENIED (logged) otherwise.
absl::Status CheckNamespace(const Principal* principal,
                            const grpc::ServerContextBase& context,
                            absl::string_view ns, bool write,
                            absl::string_view method);

// Require(kAuthenticated) then CheckNamespace, for one-namespace calls.
absl::Status RequireNamespace(const grpc::ServerContextBase& context,
                              absl::string_view ns, bool write,
                              absl::string_view method);

}  // namespace parley::auth

#endif  // PARLEY_SERVICES_COMMON_AUTH_AUTHORIZER_H_
