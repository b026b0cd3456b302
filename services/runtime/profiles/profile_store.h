#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_STORE_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "cache_node/cache_client.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/runtime/profiles/profile_bulk_writer.h"
#include "services/runtime/profiles/profile_row_parser.h"

namespace parley::profiles {

// A visitor's stored attributes, or nullopt when the visitor has none.
using StoredProfile = absl::optional<std::vector<v1::NameValue>>;

// Visitor profiles in the cache tier: one namespace per audience level
// ("profiles.<level name in lower case>"), keyed by AudienceKey, valued by
// EncodeProfile, with no expiry. Thread-safe.
class ProfileStore {
 public:
  // `client` must outlive the store.
  explicit ProfileStore(cache::CacheClient* client);

  // The namespace of audience level `level` (any case).
  static std::string Namespace(absl::string_view level);

  // The profile of the visitor with `audience_id` (the level's audience-ID
  // fields in its order, as the engine passes them). Has the shape of
  // engine::ProfileLookup. A value that does not decode is DATA_LOSS.
  absl::StatusOr<StoredProfile> Lookup(
      absl::string_view level,
      const google::protobuf::RepeatedPtrField<v1::NameValue>& audience_id);

  // The same without blocking: `done` runs on a cache-client thread (or at
  // once for an invalid audience ID).
  void LookupAsync(absl::string_view level,
                   absl::Span<const v1::NameValue> audience_id,
                   std::function<void(absl::StatusOr<StoredProfile>)> done);

  // Stores one profile (overwriting any under the same key) and waits.
  absl::Status Store(absl::string_view level, const ProfileRow& row);

  // A writer for loading many profiles of `level`, at most `window` writes
  // in flight.
  std::unique_ptr<ProfileBulkWriter> NewBulkWriter(absl::string_view level,
                                                   int window = 256);

 private:
  cache::CacheClient* const client_;
};

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_STORE_H_
