#include "services/runtime/expression/utf8.h"

namespace parley::expression::internal {

size_t CharLength(absl::string_view text, size_t pos) {
  const unsigned char lead = static_cast<unsigned char>(text[pos]);
  size_t length = 1;
  if (lead >= 0xF0) {
    length = 4;
  } else if (lead >= 0xE0) {
    length = 3;
  } else if (lead >= 0xC0) {
    length = 2;
  }
  // Stop early at a byte that does not continue the character.
  size_t n = 1;
  while (n < length && pos + n < text.size() &&
         (static_cast<unsigned char>(text[pos + n]) & 0xC0) == 0x80) {
    ++n;
  }
  return n;
}

size_t CountChars(absl::string_view text) {
  size_t count = 0;
  for (size_t pos = 0; pos < text.size(); pos += CharLength(text, pos)) {
    ++count;
  }
  return count;
}

size_t SkipChars(absl::string_view text, size_t pos, int64_t count) {
  while (count > 0 && pos < text.size()) {
    pos += CharLength(text, pos);
    --count;
  }
  return pos < text.size() ? pos : text.size();
}

}  // namespace parley::expression::internal
