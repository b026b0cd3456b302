#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_SUGGESTIONS_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_SUGGESTIONS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace parley::expression::internal {

// Up to three of `candidates` that `name` was probably meant to be (small
// edit distance ignoring case, or the same last '.'-separated part), closest
// first.
std::vector<std::string> CloseMatches(
    absl::string_view name, const std::vector<std::string>& candidates);

// "; did you mean 'A' or 'B'?" for the close matches, or "" if none.
std::string DidYouMean(absl::string_view name,
                       const std::vector<std::string>& candidates);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_SUGGESTIONS_H_
