#ifndef PARLEY_SERVICES_COORDINATOR_DEPLOYMENT_STORE_H_
#define PARLEY_SERVICES_COORDINATOR_DEPLOYMENT_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/parley/v1/deployments.pb.h"
#include "services/coordinator/durable_store.h"

namespace parley::coordinator {

// Largest serialized channel accepted: gRPC's default 4 MiB message limit
// less room for the rest of the message.
inline constexpr size_t kMaxDeployedChannelBytes = 4 * 1024 * 1024 - 64 * 1024;
// Largest deployment comment accepted.
inline constexpr size_t kMaxDeploymentCommentBytes = 4096;

// The channels deployed to server groups, with their version history,
// durable in a DurableStore under "deploy/":
//   deploy/v/<group>/<channel>/<version, 20 digits>  a Deployment (content
//                                                    included, active unset)
//   deploy/active/<group>/<channel>                  the active version
//   deploy/revision                                  the change counter
// Every change is one synchronous atomic write. Versions count from 1 per
// group and channel and are never reused, even after Undeploy. Channel
// names are case-sensitive. Thread-safe.
class DeploymentStore {
 public:
  // Checks that a server group exists (NOT_FOUND naming it otherwise).
  using GroupChecker = std::function<absl::Status(absl::string_view group)>;
  // Receives each change of a watched group, under the store's lock.
  using WatchCallback = std::function<void(const v1::DeploymentEvent&)>;
  using Clock = std::function<absl::Time()>;

  // Loads the deployments kept in `store` (not owned; must outlive this).
  // `group_exists` is consulted by every call naming a group.
  static absl::StatusOr<std::unique_ptr<DeploymentStore>> Load(
      DurableStore* store, GroupChecker group_exists,
      Clock clock = [] { return absl::Now(); });

  // Compiles request.channel() as the runtime would (INVALID_ARGUMENT with
  // the compiler's full message, nothing stored), then stores it as the
  // channel's next version and makes it active.
  absl::StatusOr<v1::Deployment> Deploy(const v1::DeployRequest& request);

  // Every version of the group's channels (or of one channel), ordered by
  // channel name then version.
  absl::StatusOr<v1::ListDeploymentsResponse> List(
      const v1::ListDeploymentsRequest& request) const;

  // One version with its content; version 0 is the active one (NOT_FOUND
  // when none is active). NOT_FOUND for an unknown version.
  absl::StatusOr<v1::Deployment> Get(
      const v1::GetDeploymentRequest& request) const;

  // Deploys the stored content of request.version() again as a new version
  // that records it in rolled_back_from.
  absl::StatusOr<v1::Deployment> Rollback(const v1::RollbackRequest& request);

  // Makes the channel inactive on the group, keeping its history. NOT_FOUND
  // when the channel was never deployed there; FAILED_PRECONDITION when it
  // was but is not active now.
  absl::StatusOr<v1::UndeployResponse> Undeploy(
      const v1::UndeployRequest& request);

  // Deletes every stored version of the group's channels (the group is
  // being deleted, so a new group of that name starts with none).
  // FAILED_PRECONDITION while a channel of the group is active.
  absl::Status ForgetGroup(absl::string_view group);

  // Whether any channel is active on `group`.
  bool HasActive(absl::string_view group) const;

  // Checks a WatchDeployments request.
  absl::Status ValidateWatch(absl::string_view group) const;

  // Registers `callback` for the changes of `group` and fills `snapshot`
  // with its active deployments now, atomically with the registration. The
  // callback runs under the store's lock: it must not call back into the
  // store. Returns an id for Unwatch.
  uint64_t Watch(absl::string_view group, WatchCallback callback,
                 v1::DeploymentEvent* snapshot);

  // Stops calling the watcher registered as `id`.
  void Unwatch(uint64_t id);

 private:
  // group, channel name.
  using ChannelKey = std::pair<std::string, std::string>;
  struct ChannelState {
    // Every version, without content, by version.
    std::map<uint64_t, v1::Deployment> versions;
    // The active version with content, or null.
    std::shared_ptr<const v1::Deployment> active;
  };
  struct Watcher {
    std::string group;
    WatchCallback callback;
  };

  DeploymentStore(DurableStore* store, GroupChecker group_exists, Clock clock)
      : store_(store),
        group_exists_(std::move(group_exists)),
        clock_(std::move(clock)) {}

  // Checks the group name and that the group exists.
  absl::Status CheckGroup(absl::string_view group) const;
  // Stores `channel` as the next version of its channel on `group`.
  absl::StatusOr<v1::Deployment> Commit(const std::string& group,
                                        const v1::InteractiveChannel& channel,
                                        const std::string& comment,
                                        uint64_t rolled_back_from);
  // Reads one stored version with its content.
  absl::StatusOr<v1::Deployment> ReadVersionLocked(const ChannelKey& key,
                                                   uint64_t version) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void NotifyLocked(const v1::DeploymentEvent& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  DurableStore* const store_;
  const GroupChecker group_exists_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  std::map<ChannelKey, ChannelState> channels_ ABSL_GUARDED_BY(mu_);
  uint64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_watcher_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_DEPLOYMENT_STORE_H_
