#include "services/runtime/server/runtime_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/auth/authorizer.h"
#include "services/common/grpc_status.h"
#include "services/common/unary_reply.h"

namespace parley::runtime {
namespace {

// "parley.v1.InteractRuntime/StartSession" for StartSessionRequest.
template <typename Request>
std::string MethodName() {
  return absl::StrCat(
      v1::InteractRuntime::service_full_name(), "/",
      absl::StripSuffix(Request::descriptor()->name(), "Request"));
}

// Counts a response's advisories (when counting).
template <typename Response>
void CountAdvisories(AdvisoryCounter* counter, const Response& response) {
  if (counter != nullptr) counter->Count(response.advisory_messages());
}
void CountAdvisories(AdvisoryCounter* counter,
                     const v1::ExecuteBatchResponse& response) {
  if (counter != nullptr) counter->CountBatch(response);
}
void CountAdvisories(AdvisoryCounter*, const v1::GetVersionResponse&) {}

}  // namespace

template <typename Request>
grpc::ServerUnaryReactor* RuntimeService::Authorize(
    grpc::CallbackServerContext* context, bool* allowed) {
  *allowed = true;
  if (auth::AuthEnabled()) {
    if (absl::Status denied = auth::RequireForGroup(
            *context, auth::Need::kClient, group_, MethodName<Request>());
        !denied.ok()) {
      *allowed = false;
      return Reply(context, denied);
    }
  }
  return context->DefaultReactor();
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* RuntimeService::Continue(
    grpc::CallbackServerContext* context, const Request* request,
    Response* response,
    void (engine::SessionEngine::*call)(const Request&,
                                        engine::Completion<Response>)) {
  bool allowed = false;
  grpc::ServerUnaryReactor* reactor = Authorize<Request>(context, &allowed);
  if (!allowed) return reactor;
  // The request and response live until Finish.
  (engine_->*call)(*request,
                   [this, response, reactor](absl::StatusOr<Response> result) {
                     if (result.ok()) {
                       *response = std::move(*result);
                       CountAdvisories(advisories_, *response);
                     }
                     reactor->Finish(ToGrpcStatus(result.status()));
                   });
  return reactor;
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* RuntimeService::Offload(
    grpc::CallbackServerContext* context, const Request* request,
    Response* response,
    absl::StatusOr<Response> (engine::SessionEngine::*call)(const Request&)) {
  bool allowed = false;
  grpc::ServerUnaryReactor* reactor = Authorize<Request>(context, &allowed);
  if (!allowed) return reactor;
  workers_->Run([this, context, request, response, call, reactor] {
    // The request and response live until Finish; the client may be gone.
    if (context->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                                   "the client cancelled the call"));
      return;
    }
    absl::StatusOr<Response> result = (engine_->*call)(*request);
    if (result.ok()) {
      *response = std::move(*result);
      CountAdvisories(advisories_, *response);
    }
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeService::StartSession(
    grpc::CallbackServerContext* context,
    const v1::StartSessionRequest* request,
    v1::StartSessionResponse* response) {
  return Offload(context, request, response,
                 &engine::SessionEngine::StartSession);
}

grpc::ServerUnaryReactor* RuntimeService::GetOffers(
    grpc::CallbackServerContext* context, const v1::GetOffersRequest* request,
    v1::GetOffersResponse* response) {
  return Continue(context, request, response,
                  &engine::SessionEngine::GetOffersAsync);
}

grpc::ServerUnaryReactor* RuntimeService::GetOffersForMultipleInteractionPoints(
    grpc::CallbackServerContext* context,
    const v1::GetOffersForMultipleInteractionPointsRequest* request,
    v1::GetOffersForMultipleInteractionPointsResponse* response) {
  return Continue(
      context, request, response,
      &engine::SessionEngine::GetOffersForMultipleInteractionPointsAsync);
}

grpc::ServerUnaryReactor* RuntimeService::PostEvent(
    grpc::CallbackServerContext* context, const v1::PostEventRequest* request,
    v1::PostEventResponse* response) {
  return Offload(context, request, response, &engine::SessionEngine::PostEvent);
}

grpc::ServerUnaryReactor* RuntimeService::SetAudience(
    grpc::CallbackServerContext* context, const v1::SetAudienceRequest* request,
    v1::SetAudienceResponse* response) {
  return Offload(context, request, response,
                 &engine::SessionEngine::SetAudience);
}

grpc::ServerUnaryReactor* RuntimeService::GetProfile(
    grpc::CallbackServerContext* context, const v1::GetProfileRequest* request,
    v1::GetProfileResponse* response) {
  return Offload(context, request, response,
                 &engine::SessionEngine::GetProfile);
}

grpc::ServerUnaryReactor* RuntimeService::EndSession(
    grpc::CallbackServerContext* context, const v1::EndSessionRequest* request,
    v1::EndSessionResponse* response) {
  return Offload(context, request, response,
                 &engine::SessionEngine::EndSession);
}

grpc::ServerUnaryReactor* RuntimeService::SetDebug(
    grpc::CallbackServerContext* context, const v1::SetDebugRequest* request,
    v1::SetDebugResponse* response) {
  return Offload(context, request, response, &engine::SessionEngine::SetDebug);
}

grpc::ServerUnaryReactor* RuntimeService::GetVersion(
    grpc::CallbackServerContext* context, const v1::GetVersionRequest* request,
    v1::GetVersionResponse* response) {
  return Offload(context, request, response,
                 &engine::SessionEngine::GetVersion);
}

grpc::ServerUnaryReactor* RuntimeService::ExecuteBatch(
    grpc::CallbackServerContext* context,
    const v1::ExecuteBatchRequest* request,
    v1::ExecuteBatchResponse* response) {
  return Offload(context, request, response,
                 &engine::SessionEngine::ExecuteBatch);
}

grpc::ServerUnaryReactor* RuntimeService::TestRun(
    grpc::CallbackServerContext* context, const v1::TestRunRequest* request,
    v1::TestRunResponse* response) {
  return Offload(context, request, response, &engine::SessionEngine::TestRun);
}

}  // namespace parley::runtime
