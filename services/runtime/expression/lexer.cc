#include "services/runtime/expression/lexer.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/expression/number_text.h"

namespace parley::expression::internal {
namespace {

struct Keyword {
  absl::string_view word;
  TokenKind kind;
};

constexpr Keyword kKeywords[] = {
    {"AND", TokenKind::kAnd},         {"OR", TokenKind::kOr},
    {"NOT", TokenKind::kNot},         {"IN", TokenKind::kIn},
    {"BETWEEN", TokenKind::kBetween}, {"IS", TokenKind::kIs},
    {"LIKE", TokenKind::kLike},       {"TRUE", TokenKind::kTrue},
    {"FALSE", TokenKind::kFalse},     {"NULL", TokenKind::kNull},
};

const Keyword* FindKeyword(absl::string_view word) {
  for (const Keyword& keyword : kKeywords) {
    if (absl::EqualsIgnoreCase(keyword.word, word)) return &keyword;
  }
  return nullptr;
}

bool IsIdentifierStart(char c) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_';
}

bool IsIdentifierChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '.';
}

// Walks the source keeping track of line and column.
class Lexer {
 public:
  explicit Lexer(absl::string_view source) : source_(source) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpace();
      Token token;
      token.location = location_;
      if (pos_ >= source_.size()) {
        tokens.push_back(std::move(token));
        return tokens;
      }
      absl::Status status = Next(token);
      if (!status.ok()) return status;
      tokens.push_back(std::move(token));
    }
  }

 private:
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < source_.size() ? source_[pos_ + ahead] : '\0';
  }

  // Consumes `n` bytes, counting columns in UTF-8 characters.
  void Advance(size_t n = 1) {
    for (size_t i = 0; i < n && pos_ < source_.size(); ++i, ++pos_) {
      const unsigned char c = static_cast<unsigned char>(source_[pos_]);
      if (c == '\n') {
        ++location_.line;
        location_.column = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++location_.column;
      }
    }
  }

  void SkipSpace() {
    while (pos_ < source_.size() &&
           absl::ascii_isspace(static_cast<unsigned char>(source_[pos_]))) {
      Advance();
    }
  }

  absl::Status Next(Token& token) {
    const char c = Peek();
    if (IsIdentifierStart(c)) return Word(token);
    if ((c >= '0' && c <= '9') ||
        (c == '.' && Peek(1) >= '0' && Peek(1) <= '9')) {
      return Number(token);
    }
    if (c == '\'') return String(token);
    return Symbol(token);
  }

  absl::Status Word(Token& token) {
    size_t end = pos_;
    while (end < source_.size() && IsIdentifierChar(source_[end])) ++end;
    token.text = std::string(source_.substr(pos_, end - pos_));
    const Keyword* keyword = FindKeyword(token.text);
    token.kind = keyword != nullptr ? keyword->kind : TokenKind::kIdentifier;
    Advance(end - pos_);
    return absl::OkStatus();
  }

  absl::Status Number(Token& token) {
    const size_t length = ScanNumber(source_.substr(pos_));
    token.kind = TokenKind::kNumber;
    token.text = std::string(source_.substr(pos_, length));
    const char after = Peek(length);
    if (IsIdentifierChar(after) || after == '\'') {
      size_t end = pos_ + length;
      while (end < source_.size() && (IsIdentifierChar(source_[end]))) ++end;
      return CompileError(location_,
                          absl::StrCat("malformed number '",
                                       source_.substr(pos_, end - pos_), "'"));
    }
    if (!ParseNumber(token.text, &token.number)) {
      return CompileError(
          location_, absl::StrCat("number '", token.text, "' is out of range"));
    }
    Advance(length);
    return absl::OkStatus();
  }

  absl::Status String(Token& token) {
    const SourceLocation start = location_;
    token.kind = TokenKind::kString;
    Advance();  // Opening quote.
    while (true) {
      if (pos_ >= source_.size()) {
        return CompileError(start,
                            "unterminated text: add the closing quote (')");
      }
      if (Peek() == '\'') {
        if (Peek(1) != '\'') break;
        token.text.push_back('\'');
        Advance(2);
        continue;
      }
      token.text.push_back(Peek());
      Advance();
    }
    Advance();  // Closing quote.
    return absl::OkStatus();
  }

  absl::Status Symbol(Token& token) {
    struct Operator {
      absl::string_view text;
      TokenKind kind;
    };
    // Longest first.
    static constexpr Operator kOperators[] = {
        {"||", TokenKind::kConcat},       {"<>", TokenKind::kNotEqual},
        {"!=", TokenKind::kNotEqual},     {"<=", TokenKind::kLessEqual},
        {">=", TokenKind::kGreaterEqual}, {"+", TokenKind::kPlus},
        {"-", TokenKind::kMinus},         {"*", TokenKind::kStar},
        {"/", TokenKind::kSlash},         {"%", TokenKind::kPercent},
        {"=", TokenKind::kEqual},         {"<", TokenKind::kLess},
        {">", TokenKind::kGreater},       {"(", TokenKind::kLeftParen},
        {")", TokenKind::kRightParen},    {",", TokenKind::kComma},
    };
    const absl::string_view rest = source_.substr(pos_);
    for (const Operator& op : kOperators) {
      if (absl::StartsWith(rest, op.text)) {
        token.kind = op.kind;
        token.text = std::string(op.text);
        Advance(op.text.size());
        return absl::OkStatus();
      }
    }
    size_t length = 1;
    while (pos_ + length < source_.size() &&
           (static_cast<unsigned char>(source_[pos_ + length]) & 0xC0) ==
               0x80) {
      ++length;
    }
    const absl::string_view character = rest.substr(0, length);
    if (character == "\"") {
      return CompileError(location_, "unexpected '\"'",
                          "; write text in single quotes");
    }
    return CompileError(location_,
                        absl::StrCat("unexpected character '", character, "'"));
  }

  absl::string_view source_;
  size_t pos_ = 0;
  SourceLocation location_;
};

}  // namespace

absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view source) {
  return Lexer(source).Run();
}

std::string DescribeToken(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of expression";
    case TokenKind::kNumber:
      return absl::StrCat("number ", token.text);
    case TokenKind::kString:
      return absl::StrCat("text '", token.text, "'");
    case TokenKind::kIdentifier:
      return absl::StrCat("name '", token.text, "'");
    default:
      return absl::StrCat("'", absl::AsciiStrToUpper(token.text), "'");
  }
}

bool IsKeyword(absl::string_view word) { return FindKeyword(word) != nullptr; }

bool IsIdentifier(absl::string_view name) {
  if (name.empty() || !IsIdentifierStart(name[0])) return false;
  for (char c : name) {
    if (!IsIdentifierChar(c)) return false;
  }
  return true;
}

}  // namespace parley::expression::internal
