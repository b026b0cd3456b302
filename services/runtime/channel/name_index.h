#ifndef PARLEY_SERVICES_RUNTIME_CHANNEL_NAME_INDEX_H_
#define PARLEY_SERVICES_RUNTIME_CHANNEL_NAME_INDEX_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace parley::channel {

// Maps names to indices ignoring ASCII case, as the classic runtime treats
// channel, interaction point and event names.
class NameIndex {
 public:
  // Adds `name` -> `index`; false (and no change) if the name, in any case,
  // is already present.
  bool Add(absl::string_view name, int index) {
    return map_.emplace(absl::AsciiStrToLower(name), index).second;
  }

  // The index of `name` in any case, or -1.
  int Find(absl::string_view name) const {
    auto it = map_.find(absl::AsciiStrToLower(name));
    return it == map_.end() ? -1 : it->second;
  }

 private:
  absl::flat_hash_map<std::string, int> map_;  // By lower-case name.
};

}  // namespace parley::channel

#endif  // PARLEY_SERVICES_RUNTIME_CHANNEL_NAME_INDEX_H_
