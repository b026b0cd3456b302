#ifndef PARLEY_TOOLS_PARLEYCTL_COMMON_H_
#define PARLEY_TOOLS_PARLEYCTL_COMMON_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/timestamp.pb.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "proto/parley/v1/deployments.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "tools/parleyctl/context.h"
#include "tools/parleyctl/json.h"

namespace parley::parleyctl {

// "2026-01-02T03:04:05Z"; "" for an unset time.
std::string FormatTime(const google::protobuf::Timestamp& time);

// "LOCAL", "DISTRIBUTED", ...
std::string CacheTypeName(v1::CacheType type);

// A typed value as text for tables: strings as they are, numbers in their
// shortest form, datetimes in RFC 3339, "NULL" when unset.
std::string NameValueText(const v1::NameValue& value);

// Adds "does the group exist" hints to a failed group-scoped call.
absl::Status GroupHint(absl::Status status, const std::string& group);

// The channel a command works on: `flag` when set, else the only channel
// deployed on the group (a usage error naming the choices otherwise).
absl::StatusOr<std::string> ResolveChannel(Context& context,
                                           const std::string& flag);

// The group's deployments, each marked active exactly when GetDeployment
// names it the active version (ListDeployments' own flag is not trusted:
// after a coordinator restart it can be missing).
absl::StatusOr<std::vector<v1::Deployment>> ListDeploymentsChecked(
    Context& context, const std::string& channel);

// The active deployment of `channel` on the group, with its content.
absl::StatusOr<v1::InteractiveChannel> ActiveChannel(
    Context& context, const std::string& channel);

// A cache node: member id and address.
struct CacheNodeRef {
  std::string id;
  std::string address;
};

// The cache nodes the coordinator knows (live members and the nodes of the
// partition table), by id.
absl::StatusOr<std::vector<CacheNodeRef>> CacheNodes(Context& context);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_COMMON_H_
