#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_LIKE_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_LIKE_H_

#include "absl/strings/string_view.h"

namespace parley::expression::internal {

// SQL LIKE: whether all of `text` matches `pattern`, where '%' matches any
// run of characters and '_' exactly one; case-sensitive, no escapes.
bool LikeMatch(absl::string_view text, absl::string_view pattern);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_LIKE_H_
