#ifndef PARLEY_SERVICES_COORDINATOR_GROUP_REGISTRY_H_
#define PARLEY_SERVICES_COORDINATOR_GROUP_REGISTRY_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/coordinator/config_store.h"

namespace parley::coordinator {

// Defaults of a new group's settings.
inline constexpr v1::CacheType kDefaultCacheType = v1::DISTRIBUTED;
inline constexpr uint32_t kDefaultSessionTimeoutSeconds = 300;
inline constexpr uint32_t kDefaultNearCacheMaxEntries = 10000;
inline constexpr uint32_t kDefaultSegmentationMaxWaitMs = 5000;

// Configuration path of a group's settings: "groups/<name>".
std::string GroupConfigPrefix(absl::string_view group);

// Server groups as a typed view over the configuration store, where each
// setting is an entry under groups/<name>/ (cache/type,
// session/timeout_seconds, near_cache/max_entries,
// segmentation/max_wait_ms, broadcast/channel, create_time). Broadcast
// channels are unique across groups. Thread-safe.
class GroupRegistry {
 public:
  // `config` is not owned and must outlive the registry.
  explicit GroupRegistry(ConfigStore* config) : config_(config) {}

  // Creates a group; ALREADY_EXISTS if the name or the requested channel is
  // taken (naming the group that holds the channel).
  absl::StatusOr<v1::ServerGroup> Create(const v1::CreateGroupRequest& request);

  // The group named `name`; NOT_FOUND if there is none.
  absl::StatusOr<v1::ServerGroup> Get(absl::string_view name) const;

  // Every group, by name.
  std::vector<v1::ServerGroup> List() const;

  // Applies the set fields of `request.settings` (and the channel).
  absl::StatusOr<v1::ServerGroup> Update(const v1::UpdateGroupRequest& request);

  // Removes the group and every configuration entry under groups/<name>/.
  // The caller checks that it has no live members.
  absl::Status Delete(absl::string_view name);

  // Checks a write made through the generic configuration calls: entries
  // under groups/<name>/ need an existing group, settings keep valid
  // values, and the channel and creation time change only through the
  // group calls.
  static absl::Status CheckConfigWrite(const ConfigStore::View& view,
                                       const ConfigWrite& write);

 private:
  ConfigStore* const config_;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_GROUP_REGISTRY_H_
