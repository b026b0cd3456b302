#ifndef PARLEY_SERVICES_RUNTIME_CHANNEL_PROBLEMS_H_
#define PARLEY_SERVICES_RUNTIME_CHANNEL_PROBLEMS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace parley::channel {

// The problems found while validating a channel, so that a deployment
// reports all of them at once rather than one per attempt.
class Problems {
 public:
  // At most this many problems are listed; the rest are only counted.
  static constexpr int kMaxListed = 50;

  // Records one problem, e.g. "offer 'X' defined twice".
  void Add(std::string problem);

  // Records `status`'s message after "<context>: " (for expression errors,
  // which carry their line and column).
  void Add(absl::string_view context, const absl::Status& status);

  // Whether nothing has been recorded.
  bool empty() const { return total_ == 0; }

  // The number of problems recorded.
  int size() const { return total_; }

  // OK if empty, else INVALID_ARGUMENT naming `channel_name` and listing the
  // problems, one per line.
  absl::Status ToStatus(absl::string_view channel_name) const;

 private:
  std::vector<std::string> listed_;
  int total_ = 0;
};

// "" if `name` is a valid element name (non-empty; letters, digits, '_',
// '-', '.' and ' '; no leading or trailing space), else what is wrong.
std::string CheckElementName(absl::string_view name);

// "" if `name` is a valid field name (a letter, then letters, digits or
// '_'), else what is wrong.
std::string CheckFieldName(absl::string_view name);

}  // namespace parley::channel

#endif  // PARLEY_SERVICES_RUNTIME_CHANNEL_PROBLEMS_H_
