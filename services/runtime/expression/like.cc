#include "services/runtime/expression/like.h"

#include "services/runtime/expression/utf8.h"

namespace parley::expression::internal {

bool LikeMatch(absl::string_view text, absl::string_view pattern) {
  // Greedy matching that backtracks to the last '%' only, which is enough
  // for '%' (any run) and keeps the cost at O(text * pattern) worst case.
  size_t t = 0;
  size_t p = 0;
  size_t star_p = absl::string_view::npos;
  size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_t = t;
    } else if (p < pattern.size() && pattern[p] == '_') {
      ++p;
      t += CharLength(text, t);
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star_p != absl::string_view::npos) {
      p = star_p;
      star_t += CharLength(text, star_t);
      t = star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

}  // namespace parley::expression::internal
