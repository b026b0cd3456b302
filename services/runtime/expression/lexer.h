#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_LEXER_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_LEXER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/runtime/expression/compile_error.h"

// Splits expression source text into tokens.
namespace parley::expression::internal {

// What a token is.
enum class TokenKind {
  kNumber,
  kString,
  kIdentifier,
  kTrue,
  kFalse,
  kNull,
  kAnd,
  kOr,
  kNot,
  kIn,
  kBetween,
  kIs,
  kLike,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kConcat,
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kLeftParen,
  kRightParen,
  kComma,
  kEnd,
};

// One token with its position.
struct Token {
  TokenKind kind = TokenKind::kEnd;
  SourceLocation location;
  // The text as written; for kString, the unescaped contents.
  std::string text;
  // The value of a kNumber.
  double number = 0;
};

// The tokens of `source`, ending with a kEnd token, or a compile error for an
// unterminated string, a malformed number or a stray character.
absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view source);

// How a token is named in error messages: 'AND', number 12, end of expression.
std::string DescribeToken(const Token& token);

// Whether `word` (any case) is a reserved word that cannot name a variable.
bool IsKeyword(absl::string_view word);

// Whether `name` is spelled like an identifier: a letter or '_' followed by
// letters, digits, '_' and '.'.
bool IsIdentifier(absl::string_view name);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_LEXER_H_
