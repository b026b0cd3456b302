#include "services/runtime/server/authorized_services.h"

#include "services/common/auth/authorizer.h"
#include "services/common/grpc_status.h"
#include "services/common/stream_writers.h"
#include "services/common/unary_reply.h"

namespace parley::runtime {

grpc::ServerWriteReactor<v1::ExportHistoryChunk>*
AuthorizedHistory::ExportHistory(grpc::CallbackServerContext* context,
                                 const v1::ExportHistoryRequest* request) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.History/ExportHistory");
      !denied.ok()) {
    return new FailedStreamWriter<v1::ExportHistoryChunk>(ToGrpcStatus(denied));
  }
  return history_->ExportHistory(context, request);
}

grpc::ServerBidiReactor<v1::LoadProfilesRequest, v1::LoadProfilesProgress>*
AuthorizedProfiles::LoadProfiles(grpc::CallbackServerContext* context) {
  return profiles_->LoadProfiles(context);
}

grpc::ServerUnaryReactor* AuthorizedProfiles::LookupProfile(
    grpc::CallbackServerContext* context,
    const v1::LookupProfileRequest* request,
    v1::LookupProfileResponse* response) {
  if (absl::Status denied =
          auth::RequireForGroup(*context, auth::Need::kClient, group_,
                                "parley.v1.Profiles/LookupProfile");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return profiles_->LookupProfile(context, request, response);
}

}  // namespace parley::runtime
