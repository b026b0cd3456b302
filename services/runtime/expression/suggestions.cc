#include "services/runtime/expression/suggestions.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace parley::expression::internal {
namespace {

constexpr size_t kMaxSuggestions = 3;

// Levenshtein distance between lower-cased `a` and `b`.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const bool same =
          absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 1]);
      row[j] =
          std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

absl::string_view LastPart(absl::string_view name) {
  const size_t dot = name.rfind('.');
  return dot == absl::string_view::npos ? name : name.substr(dot + 1);
}

}  // namespace

std::vector<std::string> CloseMatches(
    absl::string_view name, const std::vector<std::string>& candidates) {
  const size_t allowed = std::max<size_t>(1, name.size() / 3);
  std::vector<std::pair<size_t, const std::string*>> scored;
  for (const std::string& candidate : candidates) {
    size_t distance = EditDistance(name, candidate);
    if (distance > allowed && absl::AsciiStrToLower(LastPart(candidate)) ==
                                  absl::AsciiStrToLower(LastPart(name))) {
      distance = allowed;
    }
    if (distance <= allowed) scored.emplace_back(distance, &candidate);
  }
  std::stable_sort(
      scored.begin(), scored.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> matches;
  for (const auto& [distance, candidate] : scored) {
    if (matches.size() == kMaxSuggestions) break;
    matches.push_back(*candidate);
  }
  return matches;
}

std::string DidYouMean(absl::string_view name,
                       const std::vector<std::string>& candidates) {
  const std::vector<std::string> matches = CloseMatches(name, candidates);
  if (matches.empty()) return "";
  return absl::StrCat("; did you mean '", absl::StrJoin(matches, "' or '"),
                      "'?");
}

}  // namespace parley::expression::internal
