#include "services/common/auth/authorizer.h"

#include <sys/stat.h>

#include <atomic>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/flags.h"
#include "spdlog/spdlog.h"

namespace parley::auth {
namespace {

constexpr absl::string_view kBearer = "Bearer ";
constexpr absl::Duration kReloadInterval = absl::Seconds(2);
constexpr int kMaxDenialLogsPerSecond = 10;

std::atomic<Authorizer*> g_authorizer{nullptr};

int64_t ModificationTimeNs(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 +
         info.st_mtim.tv_nsec;
}

std::vector<std::string> SplitNames(const std::string& names) {
  return absl::StrSplit(names, ',', absl::SkipEmpty());
}

bool NamedIn(const grpc::AuthContext& auth,
             const std::vector<std::string>& names) {
  if (names.empty()) return false;
  for (const char* property :
       {"x509_common_name", "x509_subject_alternative_name"}) {
    for (const grpc::string_ref& value : auth.FindPropertyValues(property)) {
      for (const std::string& name : names) {
        if (value == name) return true;
      }
    }
  }
  return false;
}

// Logs a denial, at most kMaxDenialLogsPerSecond a second.
void LogDenial(const grpc::ServerContextBase& context,
               absl::string_view principal, absl::string_view method,
               const absl::Status& status) {
  static std::atomic<int64_t> window{0};
  static std::atomic<int> count{0};
  int64_t second = absl::ToUnixSeconds(absl::Now());
  if (window.exchange(second) != second) count = 0;
  int n = ++count;
  if (n > kMaxDenialLogsPerSecond) return;
  spdlog::warn("denied {} to {} from {}: {}{}", std::string(method),
               principal.empty() ? std::string("(unauthenticated)")
                                 : std::string(principal),
               context.peer(), std::string(status.message()),
               n == kMaxDenialLogsPerSecond
                   ? " (further denials this second not logged)"
                   : "");
}

absl::string_view NeedName(Need need) {
  switch (need) {
    case Need::kAuthenticated:
      return "any principal";
    case Need::kMember:
      return "role admin, node or runtime:<group>";
    case Need::kNode:
      return "role admin or node";
    case Need::kAdmin:
      return "role admin";
    case Need::kClient:
      return "role admin, client or client:<group>";
  }
  return "";
}

std::string NeedNameForGroup(Need need, absl::string_view group) {
  switch (need) {
    case Need::kMember:
      return absl::StrCat("role admin, node or runtime:", group);
    case Need::kClient:
      return absl::StrCat("role admin, client or client:", group);
    default:
      return std::string(NeedName(need));
  }
}

bool Satisfies(const Principal& principal, Need need) {
  switch (need) {
    case Need::kAuthenticated:
      return true;
    case Need::kMember:
      return principal.member();
    case Need::kNode:
      return principal.admin || principal.node;
    case Need::kAdmin:
      return principal.admin;
    case Need::kClient:
      return principal.admin || principal.client ||
             !principal.client_groups.empty();
  }
  return false;
}

bool SatisfiesForGroup(const Principal& principal, Need need,
                       absl::string_view group) {
  switch (need) {
    case Need::kMember:
      return principal.MemberOf(group);
    case Need::kClient:
      return principal.ClientOf(group);
    default:
      return Satisfies(principal, need);
  }
}

}  // namespace

AuthOptions AuthOptionsFromFlags() {
  AuthOptions options;
  options.tokens_file = absl::GetFlag(FLAGS_auth_tokens_file);
  options.admin_cert_names =
      SplitNames(absl::GetFlag(FLAGS_auth_admin_cert_names));
  options.node_cert_names =
      SplitNames(absl::GetFlag(FLAGS_auth_node_cert_names));
  return options;
}

Authorizer::Authorizer(AuthOptions options) : options_(std::move(options)) {
  admin_cert_ = std::make_shared<const Principal>(
      Principal::Make("cert-admin", {"admin"}));
  node_cert_ =
      std::make_shared<const Principal>(Principal::Make("cert-node", {"node"}));
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::Create(
    AuthOptions options) {
  std::unique_ptr<Authorizer> authorizer(new Authorizer(std::move(options)));
  const std::string& path = authorizer->options_.tokens_file;
  authorizer->mtime_ns_ = ModificationTimeNs(path);
  absl::StatusOr<TokenTable> tokens = LoadTokensFile(path);
  if (!tokens.ok()) return tokens.status();
  {
    absl::MutexLock lock(&authorizer->mu_);
    authorizer->tokens_ =
        std::make_shared<const TokenTable>(*std::move(tokens));
  }
  Authorizer* self = authorizer.get();
  authorizer->reloader_ = std::thread([self] {
    while (!self->stop_.WaitForNotificationWithTimeout(kReloadInterval)) {
      self->ReloadIfChanged();
    }
  });
  return authorizer;
}

Authorizer::~Authorizer() {
  stop_.Notify();
  if (reloader_.joinable()) reloader_.join();
}

void Authorizer::ReloadIfChanged() {
  int64_t mtime = ModificationTimeNs(options_.tokens_file);
  if (mtime == mtime_ns_) return;
  mtime_ns_ = mtime;
  absl::StatusOr<TokenTable> tokens = LoadTokensFile(options_.tokens_file);
  if (!tokens.ok()) {
    spdlog::error("keeping the previous tokens: {}",
                  tokens.status().ToString());
    return;
  }
  spdlog::info("re-read {} ({} tokens)", options_.tokens_file, tokens->size());
  auto table = std::make_shared<const TokenTable>(*std::move(tokens));
  absl::MutexLock lock(&mu_);
  tokens_ = std::move(table);
}

absl::StatusOr<std::shared_ptr<const Principal>> Authorizer::Authenticate(
    const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto header = metadata.find("authorization");
  if (header != metadata.end()) {
    absl::string_view value(header->second.data(), header->second.size());
    if (!absl::ConsumePrefix(&value, kBearer)) {
      return absl::UnauthenticatedError(
          "the authorization metadata is not 'Bearer <token>'");
    }
    std::shared_ptr<const TokenTable> tokens;
    {
      absl::ReaderMutexLock lock(&mu_);
      tokens = tokens_;
    }
    auto found = tokens->find(std::string(value));
    if (found == tokens->end()) {
      return absl::UnauthenticatedError("unknown bearer token");
    }
    return found->second;
  }
  if (!options_.admin_cert_names.empty() || !options_.node_cert_names.empty()) {
    std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
    if (auth != nullptr && auth->IsPeerAuthenticated()) {
      if (NamedIn(*auth, options_.admin_cert_names)) return admin_cert_;
      if (NamedIn(*auth, options_.node_cert_names)) return node_cert_;
    }
  }
  return absl::UnauthenticatedError(
      "no credentials: send 'authorization: Bearer <token>' metadata or a "
      "client certificate named in --auth_admin_cert_names");
}

void InstallAuthorizer(std::unique_ptr<Authorizer> authorizer) {
  delete g_authorizer.exchange(authorizer.release());
}

bool AuthEnabled() {
  return g_authorizer.load(std::memory_order_acquire) != nullptr;
}

absl::StatusOr<std::shared_ptr<const Principal>> CallerOf(
    const grpc::ServerContextBase& context, absl::string_view method) {
  const Authorizer* authorizer = g_authorizer.load(std::memory_order_acquire);
  if (authorizer == nullptr) return nullptr;
  absl::StatusOr<std::shared_ptr<const Principal>> principal =
      authorizer->Authenticate(context);
  if (!principal.ok()) LogDenial(context, "", method, principal.status());
  return principal;
}

absl::Status Require(const grpc::ServerContextBase& context, Need need,
                     absl::string_view method) {
  if (g_authorizer.load(std::memory_order_acquire) == nullptr) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::shared_ptr<const Principal>> principal =
      CallerOf(context, method);
  if (!principal.ok()) return principal.status();
  if (Satisfies(**principal, need)) return absl::OkStatus();
  absl::Status denied = absl::PermissionDeniedError(
      absl::StrCat("principal '", (*principal)->name, "' may not call ", method,
                   ": it needs ", NeedName(need)));
  LogDenial(context, (*principal)->name, method, denied);
  return denied;
}

absl::Status RequireForGroup(const grpc::ServerContextBase& context, Need need,
                             absl::string_view group,
                             absl::string_view method) {
  if (g_authorizer.load(std::memory_order_acquire) == nullptr) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::shared_ptr<const Principal>> principal =
      CallerOf(context, method);
  if (!principal.ok()) return principal.status();
  if (SatisfiesForGroup(**principal, need, group)) return absl::OkStatus();
  absl::Status denied = absl::PermissionDeniedError(absl::StrCat(
      "principal '", (*principal)->name, "' may not call ", method,
      " for group '", group, "': it needs ", NeedNameForGroup(need, group)));
  LogDenial(context, (*principal)->name, method, denied);
  return denied;
}

absl::Status CheckNamespace(const Principal* principal,
                            const grpc::ServerContextBase& context,
                            absl::string_view ns, bool write,
                            absl::string_view method) {
  if (principal == nullptr || principal->MayAccessNamespace(ns, write)) {
    return absl::OkStatus();
  }
  absl::Status denied = absl::PermissionDeniedError(
      absl::StrCat("principal '", principal->name, "' may not ",
                   write ? "write" : "read", " namespace '", ns, "'"));
  LogDenial(context, principal->name, method, denied);
  return denied;
}

absl::Status RequireNamespace(const grpc::ServerContextBase& context,
                              absl::string_view ns, bool write,
                              absl::string_view method) {
  if (g_authorizer.load(std::memory_order_acquire) == nullptr) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::shared_ptr<const Principal>> principal =
      CallerOf(context, method);
  if (!principal.ok()) return principal.status();
  return CheckNamespace(principal->get(), context, ns, write, method);
}

}  // namespace parley::auth
