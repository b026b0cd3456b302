#ifndef PARLEY_SERVICES_RUNTIME_SERVER_AUTHORIZED_SERVICES_H_
#define PARLEY_SERVICES_RUNTIME_SERVER_AUTHORIZED_SERVICES_H_

#include <string>

#include "proto/parley/v1/history.grpc.pb.h"
#include "proto/parley/v1/profiles.grpc.pb.h"

namespace parley::runtime {

// What a runtime server registers in place of its History and Profiles
// services: each call is checked (when authorization is on, see
// docs/security.md), then handed to the service that does the work, which
// is not registered itself.

// parley.v1.History: ExportHistory, every visitor's history of the group,
// is an admin's.
class AuthorizedHistory final : public v1::History::CallbackService {
 public:
  // `history` is not owned and must outlive this service.
  explicit AuthorizedHistory(v1::History::CallbackService* history)
      : history_(history) {}

  grpc::ServerWriteReactor<v1::ExportHistoryChunk>* ExportHistory(
      grpc::CallbackServerContext* context,
      const v1::ExportHistoryRequest* request) override;

 private:
  v1::History::CallbackService* const history_;
};

// parley.v1.Profiles: LookupProfile is a client's of `group` (admin,
// client or client:<group>), like the interaction calls; LoadProfiles is an
// admin's, which `profiles` checks itself.
class AuthorizedProfiles final : public v1::Profiles::CallbackService {
 public:
  // `profiles` is not owned and must outlive this service.
  AuthorizedProfiles(v1::Profiles::CallbackService* profiles, std::string group)
      : profiles_(profiles), group_(std::move(group)) {}

  grpc::ServerBidiReactor<v1::LoadProfilesRequest, v1::LoadProfilesProgress>*
  LoadProfiles(grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* LookupProfile(
      grpc::CallbackServerContext* context,
      const v1::LookupProfileRequest* request,
      v1::LookupProfileResponse* response) override;

 private:
  v1::Profiles::CallbackService* const profiles_;
  const std::string group_;
};

}  // namespace parley::runtime

#endif  // PARLEY_SERVICES_RUNTIME_SERVER_AUTHORIZED_SERVICES_H_
