#include "services/common/auth/tokens.h"

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace parley::auth {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view what) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", what, " '", path, "'"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<TokenTable> ParseTokens(absl::string_view text) {
  TokenTable table;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() < 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens line ", line_number, ": expected 'token principal role...'"));
    }
    std::string token = std::move(fields[0]);
    std::string name = std::move(fields[1]);
    fields.erase(fields.begin(), fields.begin() + 2);
    auto principal = std::make_shared<const Principal>(
        Principal::Make(std::move(name), std::move(fields)));
    if (!table.emplace(std::move(token), std::move(principal)).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens line ", line_number, ": the token is given twice"));
    }
  }
  return table;
}

absl::StatusOr<TokenTable> LoadTokensFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path, "--auth_tokens_file");
  if (!text.ok()) return text.status();
  absl::StatusOr<TokenTable> table = ParseTokens(*text);
  if (!table.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", table.status().message()));
  }
  return table;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path, "--auth_token_file");
  if (!text.ok()) return text.status();
  std::string token(absl::StripAsciiWhitespace(*text));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth_token_file '", path, "' is empty"));
  }
  if (absl::Status valid = CheckBearerToken(token); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth_token_file '", path, "': ", valid.message()));
  }
  return token;
}

absl::Status CheckBearerToken(absl::string_view token) {
  if (token.empty()) return absl::InvalidArgumentError("the token is empty");
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (c > 0x20 && c < 0x7f) continue;
    const char* what = "a non-ASCII byte";
    if (c == ' ' || c == '\t') {
      what = "a space";
    } else if (c == '\n' || c == '\r') {
      what = "a line break";
    } else if (c < 0x20 || c == 0x7f) {
      what = "a control character";
    }
    return absl::InvalidArgumentError(
        absl::StrCat("the token has ", what, " at position ", i + 1,
                     "; a token is one word of printable ASCII"));
  }
  return absl::OkStatus();
}

}  // namespace parley::auth
