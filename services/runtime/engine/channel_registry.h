#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_CHANNEL_REGISTRY_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_CHANNEL_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/runtime/channel/compiled_channel.h"

namespace parley::engine {

// A channel as currently deployed.
struct ActiveChannel {
  std::shared_ptr<const channel::CompiledChannel> channel;
  uint64_t version = 0;
};

// The active deployment of each interactive channel, by name ignoring ASCII
// case. Set and Remove swap atomically: a call that already looked a
// channel up keeps serving from what it got. Thread-safe.
class ChannelRegistry {
 public:
  // Makes `channel` the active deployment of `name` (replacing any).
  void Set(absl::string_view name,
           std::shared_ptr<const channel::CompiledChannel> channel,
           uint64_t version);

  // Undeploys `name`; no-op when unknown.
  void Remove(absl::string_view name);

  // The active deployment of `name`; a null channel when unknown.
  ActiveChannel Find(absl::string_view name) const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ActiveChannel> by_lower_name_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_CHANNEL_REGISTRY_H_
