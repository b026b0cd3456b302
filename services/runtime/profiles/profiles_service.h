#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_PROFILES_SERVICE_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_PROFILES_SERVICE_H_

#include <atomic>

#include "proto/parley/v1/profiles.grpc.pb.h"
#include "services/runtime/profiles/audience_level_schema.h"
#include "services/runtime/profiles/load_profiles_reactor.h"
#include "services/runtime/profiles/profile_store.h"

namespace parley::profiles {

struct ProfilesServiceOptions {
  LoadProfilesOptions load;
  // LoadProfiles calls running at once (each has a thread); more are
  // RESOURCE_EXHAUSTED.
  int max_concurrent_loads = 8;
};

// parley.v1.Profiles over gRPC's callback API: a thin adapter from the
// calls to the profile loader and the ProfileStore, with channels and
// audience levels found through `find_channel`.
class ProfilesService final : public v1::Profiles::CallbackService {
 public:
  // `store` is not owned; it and the service must outlive the server.
  ProfilesService(ProfileStore* store, ChannelFinder find_channel,
                  ProfilesServiceOptions options = ProfilesServiceOptions());

  grpc::ServerBidiReactor<v1::LoadProfilesRequest, v1::LoadProfilesProgress>*
  LoadProfiles(grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* LookupProfile(
      grpc::CallbackServerContext* context,
      const v1::LookupProfileRequest* request,
      v1::LookupProfileResponse* response) override;

 private:
  ProfileStore* const store_;
  const ChannelFinder find_channel_;
  const ProfilesServiceOptions options_;
  std::atomic<int> active_loads_{0};
};

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_PROFILES_SERVICE_H_
