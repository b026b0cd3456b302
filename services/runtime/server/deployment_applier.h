#ifndef PARLEY_SERVICES_RUNTIME_SERVER_DEPLOYMENT_APPLIER_H_
#define PARLEY_SERVICES_RUNTIME_SERVER_DEPLOYMENT_APPLIER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "proto/parley/v1/deployments.pb.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/engine/engine.h"

namespace parley::runtime {

// Applies the coordinator's deployment events for one server group to a
// SessionEngine: compiles each newly active channel version and swaps it in
// atomically, removes undeployed channels, and on a SNAPSHOT (the first
// event of every watch, also after a reconnect) makes the engine's channels
// exactly the snapshot's. Thread-safe.
class DeploymentApplier {
 public:
  // `engine` is not owned and must outlive the applier.
  explicit DeploymentApplier(engine::SessionEngine* engine) : engine_(engine) {}

  // Applies one event. A channel that does not compile (the coordinator
  // validated it with the same compiler, so this means a version skew) is
  // logged and leaves the previous version active.
  void Apply(const v1::DeploymentEvent& event);

  // True once a SNAPSHOT was applied: the server serves the group's
  // current deployments.
  bool loaded() const;

  // The active version of `channel` (any case); 0 when none.
  uint64_t ActiveVersion(absl::string_view channel) const;

  // The compiled active version of `channel` (any case); null when none.
  std::shared_ptr<const channel::CompiledChannel> Find(
      absl::string_view channel) const;

 private:
  struct Active {
    std::string name;
    uint64_t version = 0;
    std::shared_ptr<const channel::CompiledChannel> compiled;
  };

  // Compiles and activates one deployment; false when it does not compile.
  bool Activate(const v1::Deployment& deployment)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  engine::SessionEngine* const engine_;
  mutable absl::Mutex mu_;
  // By lower-cased channel name.
  absl::flat_hash_map<std::string, Active> active_ ABSL_GUARDED_BY(mu_);
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace parley::runtime

#endif  // PARLEY_SERVICES_RUNTIME_SERVER_DEPLOYMENT_APPLIER_H_
