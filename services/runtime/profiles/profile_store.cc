#include "services/runtime/profiles/profile_store.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "cache_node/key_codec.h"
#include "services/runtime/profiles/profile_codec.h"

namespace parley::profiles {

static_assert(kMaxAudienceKeyBytes == cache::kMaxKeyBytes,
              "profile keys must fit the cache tier's key limit");

ProfileStore::ProfileStore(cache::CacheClient* client) : client_(client) {}

std::string ProfileStore::Namespace(absl::string_view level) {
  return absl::StrCat("profiles.", absl::AsciiStrToLower(level));
}

void ProfileStore::LookupAsync(
    absl::string_view level, absl::Span<const v1::NameValue> audience_id,
    std::function<void(absl::StatusOr<StoredProfile>)> done) {
  if (audience_id.empty()) {
    return done(absl::InvalidArgumentError("the audience ID has no fields"));
  }
  std::string key = AudienceKey(audience_id);
  // No profile can be stored under a key the tier refuses.
  if (key.empty() || key.size() > kMaxAudienceKeyBytes) {
    return done(StoredProfile());
  }
  v1::PipelineRequest request;
  request.mutable_get()->set_namespace_(Namespace(level));
  request.mutable_get()->set_key(std::move(key));
  client_->Submit(
      std::move(request),
      [done = std::move(done)](absl::StatusOr<v1::PipelineResponse> response) {
        if (!response.ok()) return done(response.status());
        if (!response->get().found()) return done(StoredProfile());
        absl::StatusOr<std::vector<v1::NameValue>> attributes =
            DecodeProfile(response->get().entry().value());
        if (!attributes.ok()) {
          return done(absl::DataLossError(
              absl::StrCat("the stored profile does not decode (",
                           attributes.status().message(),
                           "); load the visitor's profile again")));
        }
        done(StoredProfile(*std::move(attributes)));
      });
}

absl::StatusOr<StoredProfile> ProfileStore::Lookup(
    absl::string_view level,
    const google::protobuf::RepeatedPtrField<v1::NameValue>& audience_id) {
  const std::vector<v1::NameValue> id(audience_id.begin(), audience_id.end());
  absl::Notification finished;
  absl::StatusOr<StoredProfile> result;
  LookupAsync(level, id, [&](absl::StatusOr<StoredProfile> profile) {
    result = std::move(profile);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

absl::Status ProfileStore::Store(absl::string_view level,
                                 const ProfileRow& row) {
  return client_
      ->Put(Namespace(level), row.key, EncodeProfile(row.attributes),
            /*ttl_ms=*/0)
      .status();
}

std::unique_ptr<ProfileBulkWriter> ProfileStore::NewBulkWriter(
    absl::string_view level, int window) {
  return std::make_unique<ProfileBulkWriter>(client_, Namespace(level), window);
}

}  // namespace parley::profiles
