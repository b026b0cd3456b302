#include "services/runtime/channel/problems.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace parley::channel {

void Problems::Add(std::string problem) {
  ++total_;
  if (static_cast<int>(listed_.size()) < kMaxListed) {
    listed_.push_back(std::move(problem));
  }
}

void Problems::Add(absl::string_view context, const absl::Status& status) {
  Add(absl::StrCat(context, ": ", status.message()));
}

absl::Status Problems::ToStatus(absl::string_view channel_name) const {
  if (total_ == 0) return absl::OkStatus();
  std::string message =
      absl::StrCat("channel '", channel_name, "' is invalid (", total_,
                   total_ == 1 ? " problem):\n" : " problems):\n",
                   absl::StrJoin(listed_, "\n"));
  if (total_ > static_cast<int>(listed_.size())) {
    absl::StrAppend(&message, "\n... and ", total_ - listed_.size(), " more");
  }
  return absl::InvalidArgumentError(message);
}

std::string CheckElementName(absl::string_view name) {
  if (name.empty()) return "name is empty";
  if (name.front() == ' ' || name.back() == ' ') {
    return "name has leading or trailing spaces";
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '-' && c != '.' && c != ' ') {
      return absl::StrCat("name has invalid character '",
                          absl::CHexEscape(absl::string_view(&c, 1)),
                          "' (use letters, digits, '_', '-', '.', ' ')");
    }
  }
  return "";
}

std::string CheckFieldName(absl::string_view name) {
  if (name.empty()) return "name is empty";
  if (!absl::ascii_isalpha(static_cast<unsigned char>(name.front()))) {
    return "name must start with a letter";
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return absl::StrCat("name has invalid character '",
                          absl::CHexEscape(absl::string_view(&c, 1)),
                          "' (use letters, digits and '_')");
    }
  }
  return "";
}

}  // namespace parley::channel
