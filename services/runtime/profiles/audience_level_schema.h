#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_AUDIENCE_LEVEL_SCHEMA_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_AUDIENCE_LEVEL_SCHEMA_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/runtime/channel/compiled_channel.h"

namespace parley::profiles {

// The interactive channel deployed as `name` (any case) on this server's
// group, or null when none is.
using ChannelFinder =
    std::function<std::shared_ptr<const channel::CompiledChannel>(
        absl::string_view name)>;

// The schema of a compiled audience level, as the profile loader takes it.
v1::AudienceLevel ToAudienceLevel(const channel::CompiledAudienceLevel& level);

// The schema of audience level `level_name` of the channel deployed as
// `channel_name`. INVALID_ARGUMENT when a name is empty, NOT_FOUND when the
// channel is not deployed or has no such level; messages say what to fix.
absl::StatusOr<v1::AudienceLevel> ResolveAudienceLevel(
    const ChannelFinder& find_channel, absl::string_view channel_name,
    absl::string_view level_name);

// Checks `given` against the level's audience-ID fields and returns them in
// the level's order, named as the level names them, ready for AudienceKey.
// Names match ignoring case; a value of the field's type is taken as is and
// a string value for another type is parsed as a CSV field would be.
// INVALID_ARGUMENT naming the first missing, unknown, repeated or mistyped
// field.
absl::StatusOr<std::vector<v1::NameValue>> NormalizeAudienceId(
    const v1::AudienceLevel& level,
    const google::protobuf::RepeatedPtrField<v1::NameValue>& given);

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_AUDIENCE_LEVEL_SCHEMA_H_
