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
// client's --auth_token_file. Fails if it is unreadable or empty.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace parley::auth

#endif  // PARLEY_SERVICES_COMMON_AUTH_TOKENS_H_
