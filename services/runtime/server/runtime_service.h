#ifndef PARLEY_SERVICES_RUNTIME_SERVER_RUNTIME_SERVICE_H_
#define PARLEY_SERVICES_RUNTIME_SERVER_RUNTIME_SERVICE_H_

#include <string>
#include <utility>

#include "proto/parley/v1/runtime.grpc.pb.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/server/advisory_counter.h"
#include "services/runtime/server/worker_pool.h"

namespace parley::runtime {

// parley.v1.InteractRuntime over a SessionEngine. GetOffers and
// GetOffersForMultipleInteractionPoints run on gRPC's thread and continue
// on the cache tier client's as the session store answers; every other
// call runs on the worker pool (the engine blocks on the cache tier there)
// and is answered from there, unless its client already gave up. With
// authorization on, every call needs a client of `group` (admin, client or
// client:<group>; docs/security.md).
class RuntimeService final : public v1::InteractRuntime::CallbackService {
 public:
  // None is owned; all must outlive the service. `group` is the server
  // group this server serves. `advisories`, when not null, counts the
  // advisories of every answer.
  RuntimeService(engine::SessionEngine* engine, WorkerPool* workers,
                 std::string group, AdvisoryCounter* advisories = nullptr)
      : engine_(engine),
        workers_(workers),
        group_(std::move(group)),
        advisories_(advisories) {}

  grpc::ServerUnaryReactor* StartSession(
      grpc::CallbackServerContext* context,
      const v1::StartSessionRequest* request,
      v1::StartSessionResponse* response) override;
  grpc::ServerUnaryReactor* GetOffers(grpc::CallbackServerContext* context,
                                      const v1::GetOffersRequest* request,
                                      v1::GetOffersResponse* response) override;
  grpc::ServerUnaryReactor* GetOffersForMultipleInteractionPoints(
      grpc::CallbackServerContext* context,
      const v1::GetOffersForMultipleInteractionPointsRequest* request,
      v1::GetOffersForMultipleInteractionPointsResponse* response) override;
  grpc::ServerUnaryReactor* PostEvent(grpc::CallbackServerContext* context,
                                      const v1::PostEventRequest* request,
                                      v1::PostEventResponse* response) override;
  grpc::ServerUnaryReactor* SetAudience(
      grpc::CallbackServerContext* context,
      const v1::SetAudienceRequest* request,
      v1::SetAudienceResponse* response) override;
  grpc::ServerUnaryReactor* GetProfile(
      grpc::CallbackServerContext* context,
      const v1::GetProfileRequest* request,
      v1::GetProfileResponse* response) override;
  grpc::ServerUnaryReactor* EndSession(
      grpc::CallbackServerContext* context,
      const v1::EndSessionRequest* request,
      v1::EndSessionResponse* response) override;
  grpc::ServerUnaryReactor* SetDebug(grpc::CallbackServerContext* context,
                                     const v1::SetDebugRequest* request,
                                     v1::SetDebugResponse* response) override;
  grpc::ServerUnaryReactor* GetVersion(
      grpc::CallbackServerContext* context,
      const v1::GetVersionRequest* request,
      v1::GetVersionResponse* response) override;
  grpc::ServerUnaryReactor* ExecuteBatch(
      grpc::CallbackServerContext* context,
      const v1::ExecuteBatchRequest* request,
      v1::ExecuteBatchResponse* response) override;
  grpc::ServerUnaryReactor* TestRun(grpc::CallbackServerContext* context,
                                    const v1::TestRunRequest* request,
                                    v1::TestRunResponse* response) override;

 private:
  // Runs `call` on the engine from a worker and finishes the call with it.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Offload(
      grpc::CallbackServerContext* context, const Request* request,
      Response* response,
      absl::StatusOr<Response> (engine::SessionEngine::*call)(const Request&));

  // Runs `call` on the engine from here; its completion finishes the call.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Continue(
      grpc::CallbackServerContext* context, const Request* request,
      Response* response,
      void (engine::SessionEngine::*call)(const Request&,
                                          engine::Completion<Response>));

  // The reactor of a call its client may make, or one already finished
  // with PERMISSION_DENIED.
  template <typename Request>
  grpc::ServerUnaryReactor* Authorize(grpc::CallbackServerContext* context,
                                      bool* allowed);

  engine::SessionEngine* const engine_;
  WorkerPool* const workers_;
  const std::string group_;
  AdvisoryCounter* const advisories_;
};

}  // namespace parley::runtime

#endif  // PARLEY_SERVICES_RUNTIME_SERVER_RUNTIME_SERVICE_H_
