#ifndef PARLEY_SERVICES_COMMON_AUTH_CLIENT_TOKEN_H_
#define PARLEY_SERVICES_COMMON_AUTH_CLIENT_TOKEN_H_

#include <string>

#include "absl/status/status.h"

namespace parley::auth {

// Makes every call this process makes, on any channel (plaintext or TLS),
// carry "authorization: Bearer <token>" metadata, by a global client
// interceptor. Call once, before creating any channel. A process-wide
// interceptor rather than call credentials because gRPC sends call
// credentials only over TLS.
absl::Status SendTokenOnEveryCall(const std::string& token);

// SendTokenOnEveryCall with the token read from `path` (--auth_token_file);
// does nothing when `path` is empty.
absl::Status SendTokenFromFile(const std::string& path);

}  // namespace parley::auth

#endif  // PARLEY_SERVICES_COMMON_AUTH_CLIENT_TOKEN_H_
