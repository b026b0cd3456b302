#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_PROFILE_APPLY_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_PROFILE_APPLY_H_

#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/visitor_values.h"

namespace parley::engine {

// What a ProfileLookup returns.
using ProfileResult =
    absl::StatusOr<absl::optional<std::vector<v1::NameValue>>>;

// Replaces `state`'s profile with a loaded one. A failed load is a
// PROFILE_LOAD_FAILED advisory (ERROR) in `response`, `state` unchanged,
// and returns false; a missing profile is a PROFILE_NOT_FOUND advisory
// (WARNING) naming `audience_id`, and leaves the profile empty.
template <typename Response>
bool ApplyProfile(
    ProfileResult profile,
    const google::protobuf::RepeatedPtrField<v1::NameValue>& audience_id,
    Response& response, v1::SessionState& state) {
  if (!profile.ok()) {
    AddAdvisory(response, v1::PROFILE_LOAD_FAILED, v1::ERROR,
                "profile load failed", profile.status().message());
    return false;
  }
  state.clear_profile();
  if (!profile->has_value()) {
    AddAdvisory(response, v1::PROFILE_NOT_FOUND, v1::WARNING,
                "profile not found", AudienceIdText(audience_id));
    return true;
  }
  for (v1::NameValue& attribute : **profile) {
    *state.add_profile() = std::move(attribute);
  }
  return true;
}

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_PROFILE_APPLY_H_
