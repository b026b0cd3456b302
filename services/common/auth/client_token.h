#ifndef PARLEY_SERVICES_COMMON_AUTH_CLIENT_TOKEN_H_
#define PARLEY_SERVICES_COMMON_AUTH_CLIENT_TOKEN_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/support/client_interceptor.h"

namespace parley::auth {

// Makes every call this process makes, on any channel (plaintext or TLS),
// carry "authorization: Bearer <token>" metadata, by a global client
// interceptor. Call once, before creating any channel. INVALID_ARGUMENT for
// a token that CheckBearerToken (tokens.h) refuses. A process-wide
// interceptor rather than call credentials because gRPC sends call
// credentials only over TLS.
absl::Status SendTokenOnEveryCall(const std::string& token);

// SendTokenOnEveryCall with the token read from `path` (--auth_token_file);
// does nothing when `path` is empty.
absl::Status SendTokenFromFile(const std::string& path);

// The same for one channel: pass the result to
// grpc::experimental::CreateCustomChannelWithInterceptors, and every call
// on that channel carries "authorization: Bearer <token>" metadata unless
// it sets its own. `token` must pass CheckBearerToken. For programs that
// call with a token of their own rather than the process's (e.g.
// parleyctl's --auth_token_file).
std::vector<
    std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
TokenInterceptors(const std::string& token);

}  // namespace parley::auth

#endif  // PARLEY_SERVICES_COMMON_AUTH_CLIENT_TOKEN_H_
