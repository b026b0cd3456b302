#include "services/runtime/profiles/profiles_service.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/auth/authorizer.h"
#include "services/common/grpc_status.h"
#include "services/common/unary_reply.h"

namespace parley::profiles {
namespace {

// A LoadProfiles call refused before it starts.
class RefusedLoad : public grpc::ServerBidiReactor<v1::LoadProfilesRequest,
                                                   v1::LoadProfilesProgress> {
 public:
  explicit RefusedLoad(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

ProfilesService::ProfilesService(ProfileStore* store,
                                 ChannelFinder find_channel,
                                 ProfilesServiceOptions options)
    : store_(store),
      find_channel_(std::move(find_channel)),
      options_(std::move(options)) {}

grpc::ServerBidiReactor<v1::LoadProfilesRequest, v1::LoadProfilesProgress>*
ProfilesService::LoadProfiles(grpc::CallbackServerContext* context) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.Profiles/LoadProfiles");
      !denied.ok()) {
    return new RefusedLoad(ToGrpcStatus(denied));
  }
  if (active_loads_.fetch_add(1) >= options_.max_concurrent_loads) {
    active_loads_.fetch_sub(1);
    return new RefusedLoad(grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat(options_.max_concurrent_loads,
                     " profile loads are already running on this server; "
                     "retry when one has finished")));
  }
  return new LoadProfilesReactor(store_, &find_channel_, options_.load,
                                 &active_loads_);
}

grpc::ServerUnaryReactor* ProfilesService::LookupProfile(
    grpc::CallbackServerContext* context,
    const v1::LookupProfileRequest* request,
    v1::LookupProfileResponse* response) {
  absl::StatusOr<v1::AudienceLevel> level = ResolveAudienceLevel(
      find_channel_, request->interactive_channel(), request->audience_level());
  if (!level.ok()) return Reply(context, level.status());
  absl::StatusOr<std::vector<v1::NameValue>> audience_id =
      NormalizeAudienceId(*level, request->audience_id());
  if (!audience_id.ok()) return Reply(context, audience_id.status());

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->LookupAsync(
      level->name(), *audience_id,
      [reactor, response](absl::StatusOr<StoredProfile> profile) {
        if (profile.ok() && profile->has_value()) {
          response->set_found(true);
          for (v1::NameValue& attribute : **profile) {
            *response->add_attributes() = std::move(attribute);
          }
        }
        reactor->Finish(ToGrpcStatus(profile.status()));
      });
  return reactor;
}

}  // namespace parley::profiles
