#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_UTF8_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_UTF8_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

// Character (code point) positions in UTF-8 text; invalid bytes count as one
// character each.
namespace parley::expression::internal {

// Byte length of the character starting at `text[pos]`.
size_t CharLength(absl::string_view text, size_t pos);

// Number of characters in `text`.
size_t CountChars(absl::string_view text);

// Byte offset `count` characters after byte offset `pos` (or text.size()).
size_t SkipChars(absl::string_view text, size_t pos, int64_t count);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_UTF8_H_
