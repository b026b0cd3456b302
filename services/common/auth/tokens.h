#ifndef PARLEY_SERVICES_COMMON_AUTH_TOKENS_H_
#define PARLEY_SERVICES_COMMON_AUTH_TOKENS_H_

#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/auth/principal.h"

namespace parley::auth {

// Bearer token -> principal.
using TokenTable =
    std::unordered_map<std::string, std::shared_ptr<const Principal>>;

// Parses a tokens file: one `token principal role...` per line, blank
// lines and lines starting with '#' ignored. Fails naming the line on a
// line with fewer than three fields or a token given twice.
absl::StatusOr<TokenTable> ParseTokens(absl::string_view text);

// Reads and parses the file at `path`.
absl::StatusOr<TokenTable> LoadTokensFile(const std::string& path);

// Reads a file holding one token (surrounding whitespace dropped), as a
// client's --auth_token_file. Fails if it is unreadable or empty, or if the
// token is not one CheckBearerToken accepts.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Whether `token` can be sent as "authorization: Bearer <token>": not
// empty, printable ASCII without spaces (tokens files are split on
// whitespace; metadata values take no control characters).
// INVALID_ARGUMENT otherwise; the message does not quote the token.
absl::Status CheckBearerToken(absl::string_view token);

}  // namespace parley::auth

#endif  // PARLEY_SERVICES_COMMON_AUTH_TOKENS_H_
