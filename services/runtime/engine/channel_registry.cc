#include "services/runtime/engine/channel_registry.h"

#include <utility>

#include "absl/strings/ascii.h"

namespace parley::engine {

void ChannelRegistry::Set(
    absl::string_view name,
    std::shared_ptr<const channel::CompiledChannel> channel, uint64_t version) {
  ActiveChannel active{std::move(channel), version};
  absl::MutexLock lock(&mu_);
  by_lower_name_[absl::AsciiStrToLower(name)] = std::move(active);
}

void ChannelRegistry::Remove(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  by_lower_name_.erase(absl::AsciiStrToLower(name));
}

ActiveChannel ChannelRegistry::Find(absl::string_view name) const {
  const std::string key = absl::AsciiStrToLower(name);
  absl::MutexLock lock(&mu_);
  auto it = by_lower_name_.find(key);
  return it == by_lower_name_.end() ? ActiveChannel{} : it->second;
}

}  // namespace parley::engine
