#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "services/runtime/expression/builtins.h"
#include "services/runtime/expression/utf8.h"

namespace parley::expression::internal {
namespace {

// Converts a NUMBER argument to a whole count, saturating.
int64_t ToCount(double number) {
  if (std::isnan(number)) return 0;
  if (number >= 1e15) return int64_t{1000000000000000};
  if (number <= -1e15) return -int64_t{1000000000000000};
  return static_cast<int64_t>(std::floor(number));
}

template <char (*kConvert)(unsigned char)>
Value MapAscii(const Value& text, StringArena& arena) {
  const absl::string_view in = text.string();
  char* out = arena.Allocate(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    out[i] = kConvert(static_cast<unsigned char>(in[i]));
  }
  return Value::String(absl::string_view(out, in.size()));
}

}  // namespace

Value Upper(const Value* args, int, StringArena& arena) {
  return MapAscii<absl::ascii_toupper>(args[0], arena);
}

Value Lower(const Value* args, int, StringArena& arena) {
  return MapAscii<absl::ascii_tolower>(args[0], arena);
}

Value Trim(const Value* args, int, StringArena&) {
  return Value::String(absl::StripAsciiWhitespace(args[0].string()));
}

Value Length(const Value* args, int, StringArena&) {
  return Value::Number(static_cast<double>(CountChars(args[0].string())));
}

Value Substr(const Value* args, int argc, StringArena&) {
  const absl::string_view text = args[0].string();
  // Characters before position 1 are cut from the length, as in SQL.
  int64_t start = ToCount(args[1].number());
  int64_t length =
      argc > 2 ? ToCount(args[2].number()) : static_cast<int64_t>(text.size());
  if (start < 1) {
    length -= 1 - start;
    start = 1;
  }
  if (length <= 0) return Value::String(absl::string_view());
  const size_t begin = SkipChars(text, 0, start - 1);
  const size_t end = SkipChars(text, begin, length);
  return Value::String(text.substr(begin, end - begin));
}

Value Contains(const Value* args, int, StringArena&) {
  return Value::Boolean(absl::StrContains(args[0].string(), args[1].string()));
}

Value StartsWith(const Value* args, int, StringArena&) {
  return Value::Boolean(absl::StartsWith(args[0].string(), args[1].string()));
}

Value EndsWith(const Value* args, int, StringArena&) {
  return Value::Boolean(absl::EndsWith(args[0].string(), args[1].string()));
}

}  // namespace parley::expression::internal
