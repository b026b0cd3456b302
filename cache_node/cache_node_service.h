#ifndef PARLEY_CACHE_NODE_CACHE_NODE_SERVICE_H_
#define PARLEY_CACHE_NODE_CACHE_NODE_SERVICE_H_

#include <functional>
#include <memory>

#include "cache_node/cache_node_core.h"
#include "cache_node/node_channels.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "services/common/stream_writers.h"

namespace parley::cache {

// parley.v1.CacheNode over gRPC's callback API: serves what this node is
// the primary of through CacheNodeCore and forwards the rest to the
// partition's primary (one hop), so a client need not know placement.
class CacheNodeService final : public v1::CacheNode::CallbackService {
 public:
  // Hands this node's partitions over and leaves; returns how many it was
  // primary of. Runs on its own thread.
  using Drainer = std::function<absl::StatusOr<uint32_t>(bool keep_running)>;

  // `core` is not owned and must outlive the service.
  CacheNodeService(CacheNodeCore* core, std::shared_ptr<NodeChannels> channels,
                   Drainer drainer);

  // Ends open streams; call before shutting down.
  void CloseStreams() { streams_.CloseAll(); }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const v1::GetRequest* request,
                                v1::GetResponse* response) override;
  grpc::ServerUnaryReactor* MultiGet(grpc::CallbackServerContext* context,
                                     const v1::MultiGetRequest* request,
                                     v1::MultiGetResponse* response) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context,
                                const v1::PutRequest* request,
                                v1::PutResponse* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* context,
                                   const v1::DeleteRequest* request,
                                   v1::DeleteResponse* response) override;
  grpc::ServerUnaryReactor* Touch(grpc::CallbackServerContext* context,
                                  const v1::TouchRequest* request,
                                  v1::TouchResponse* response) override;
  grpc::ServerUnaryReactor* Scan(grpc::CallbackServerContext* context,
                                 const v1::ScanRequest* request,
                                 v1::ScanResponse* response) override;
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* context,
                                  const v1::StatsRequest* request,
                                  v1::StatsResponse* response) override;
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context,
                                 const v1::PingRequest* request,
                                 v1::PingResponse* response) override;
  grpc::ServerBidiReactor<v1::PipelineRequests, v1::PipelineResponses>*
  Pipeline(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Drain(grpc::CallbackServerContext* context,
                                  const v1::DrainRequest* request,
                                  v1::DrainResponse* response) override;
  grpc::ServerUnaryReactor* Replicate(grpc::CallbackServerContext* context,
                                      const v1::ReplicateRequest* request,
                                      v1::ReplicateResponse* response) override;
  grpc::ServerBidiReactor<v1::ReplicateRequest, v1::ReplicateResponse>*
  ReplicateStream(grpc::CallbackServerContext* context) override;
  grpc::ServerWriteReactor<v1::CatchUpChunk>* CatchUp(
      grpc::CallbackServerContext* context,
      const v1::CatchUpRequest* request) override;

  // Completes an operation: its gRPC status, and whether it was certainly
  // not applied (a refusal before anything was written, which a client may
  // retry). Unary calls carry that as trailing metadata
  // "x-parley-not-applied: 1", Pipeline answers as `not_applied`.
  using Completion = std::function<void(const grpc::Status&, bool)>;

  // One operation of any kind, completed through `done`: served here or
  // forwarded to the primary. Shared by the unary calls and Pipeline.
  template <typename Request, typename Response>
  void Dispatch(bool forwarded, const Request& request, Response* response,
                Completion done);

 private:
  CacheNodeCore* const core_;
  const std::shared_ptr<NodeChannels> channels_;
  const Drainer drainer_;
  StreamRegistry streams_;
};

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_CACHE_NODE_SERVICE_H_
