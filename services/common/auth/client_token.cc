#include "services/common/auth/client_token.h"

#include <atomic>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/support/client_interceptor.h"
#include "services/common/auth/tokens.h"

namespace parley::auth {
namespace {

class TokenInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit TokenInterceptor(const std::string* header) : header_(header) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      std::multimap<std::string, std::string>* metadata =
          methods->GetSendInitialMetadata();
      if (metadata->count("authorization") == 0) {
        metadata->emplace("authorization", *header_);
      }
    }
    methods->Proceed();
  }

 private:
  const std::string* const header_;
};

class TokenInterceptorFactory
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit TokenInterceptorFactory(const std::string& token)
      : header_(absl::StrCat("Bearer ", token)) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new TokenInterceptor(&header_);
  }

 private:
  const std::string header_;
};

std::atomic<bool> g_installed{false};

}  // namespace

absl::Status SendTokenOnEveryCall(const std::string& token) {
  if (absl::Status valid = CheckBearerToken(token); !valid.ok()) return valid;
  if (g_installed.exchange(true)) {
    return absl::FailedPreconditionError(
        "a client token is already installed in this process");
  }
  // Lives as long as the process: gRPC keeps the pointer.
  grpc::experimental::RegisterGlobalClientInterceptorFactory(
      new TokenInterceptorFactory(token));
  return absl::OkStatus();
}

absl::Status SendTokenFromFile(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> token = ReadTokenFile(path);
  if (!token.ok()) return token.status();
  return SendTokenOnEveryCall(*token);
}

std::vector<
    std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
TokenInterceptors(const std::string& token) {
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      factories;
  factories.push_back(std::make_unique<TokenInterceptorFactory>(token));
  return factories;
}

}  // namespace parley::auth
