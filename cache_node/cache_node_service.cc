#include "cache_node/cache_node_service.h"

#include <atomic>
#include <deque>
#include <thread>
#include <type_traits>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "services/common/auth/authorizer.h"
#include "services/common/grpc_status.h"
#include "services/common/unary_reply.h"

namespace parley::cache {
namespace {

// Metadata marking a request one node already forwarded (one hop only).
constexpr char kForwardedHeader[] = "x-parley-forwarded";
// Trailing metadata of a unary answer to an operation that was certainly
// not applied (CacheNodeService::Completion).
constexpr char kNotAppliedHeader[] = "x-parley-not-applied";
// Metadata asking a primary to scan one partition only.
constexpr char kScanPartitionHeader[] = "x-parley-scan-partition";
constexpr absl::Duration kForwardDeadline = absl::Seconds(5);
// Operations one Pipeline stream may have in flight.
constexpr int kMaxPipelined = 1024;

bool IsForwarded(const grpc::CallbackServerContext* context) {
  return context->client_metadata().count(kForwardedHeader) > 0;
}

using Completion = CacheNodeService::Completion;

// Completes with an absl::Status from the core.
void CompleteWith(const Completion& done, const absl::Status& status) {
  done(ToGrpcStatus(status), IsNotApplied(status));
}

// Finishes a unary operation call.
void FinishUnary(grpc::CallbackServerContext* context,
                 grpc::ServerUnaryReactor* reactor, const grpc::Status& status,
                 bool not_applied) {
  if (not_applied) context->AddTrailingMetadata(kNotAppliedHeader, "1");
  reactor->Finish(status);
}

// How each operation runs on its primary.
void RunLocal(CacheNodeCore* core, const v1::GetRequest& request,
              v1::GetResponse* response, Completion done) {
  absl::StatusOr<v1::GetResponse> result = core->Get(request);
  if (result.ok()) *response = std::move(*result);
  CompleteWith(done, result.status());
}

template <typename Request, typename Response>
void RunLocalWrite(void (CacheNodeCore::*method)(const Request&,
                                                 Done<Response>),
                   CacheNodeCore* core, const Request& request,
                   Response* response, Completion done) {
  (core->*method)(request, [response, done](absl::StatusOr<Response> result) {
    if (result.ok()) *response = std::move(*result);
    CompleteWith(done, result.status());
  });
}

void RunLocal(CacheNodeCore* core, const v1::PutRequest& request,
              v1::PutResponse* response, Completion done) {
  RunLocalWrite(&CacheNodeCore::Put, core, request, response, std::move(done));
}

void RunLocal(CacheNodeCore* core, const v1::DeleteRequest& request,
              v1::DeleteResponse* response, Completion done) {
  RunLocalWrite(&CacheNodeCore::Delete, core, request, response,
                std::move(done));
}

void RunLocal(CacheNodeCore* core, const v1::TouchRequest& request,
              v1::TouchResponse* response, Completion done) {
  RunLocalWrite(&CacheNodeCore::Touch, core, request, response,
                std::move(done));
}

// How each operation is forwarded.
using Async = v1::CacheNode::Stub::async_interface;
void CallAsync(Async* stub, grpc::ClientContext* context,
               const v1::GetRequest* request, v1::GetResponse* response,
               std::function<void(grpc::Status)> done) {
  stub->Get(context, request, response, std::move(done));
}
void CallAsync(Async* stub, grpc::ClientContext* context,
               const v1::PutRequest* request, v1::PutResponse* response,
               std::function<void(grpc::Status)> done) {
  stub->Put(context, request, response, std::move(done));
}
void CallAsync(Async* stub, grpc::ClientContext* context,
               const v1::DeleteRequest* request, v1::DeleteResponse* response,
               std::function<void(grpc::Status)> done) {
  stub->Delete(context, request, response, std::move(done));
}
void CallAsync(Async* stub, grpc::ClientContext* context,
               const v1::TouchRequest* request, v1::TouchResponse* response,
               std::function<void(grpc::Status)> done) {
  stub->Touch(context, request, response, std::move(done));
}

// A forwarded call's state, alive until its callback.
template <typename Request>
struct ForwardedCall {
  grpc::ClientContext context;
  Request request;
  std::shared_ptr<v1::CacheNode::Stub> stub;
};

}  // namespace

CacheNodeService::CacheNodeService(CacheNodeCore* core,
                                   std::shared_ptr<NodeChannels> channels,
                                   Drainer drainer)
    : core_(core),
      channels_(std::move(channels)),
      drainer_(std::move(drainer)) {}

template <typename Request, typename Response>
void CacheNodeService::Dispatch(bool forwarded, const Request& request,
                                Response* response, Completion done) {
  absl::StatusOr<Route> route =
      core_->RouteFor(request.namespace_(), request.key(), nullptr);
  if (!route.ok()) return CompleteWith(done, route.status());
  if (route->local) {
    return RunLocal(core_, request, response, std::move(done));
  }
  if (forwarded || route->primary_address.empty()) {
    return done(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                             absl::StrCat("cache node '", core_->node_id(),
                                          "' is not the primary; the owner is "
                                          "'",
                                          route->primary_id, "' at ",
                                          route->primary_address,
                                          " (tables are settling; retry)")),
                /*not_applied=*/true);
  }
  core_->CountForward();
  auto call = std::make_shared<ForwardedCall<Request>>();
  call->request = request;
  call->stub = channels_->Stub(route->primary_address);
  call->context.set_deadline(
      absl::ToChronoTime(absl::Now() + kForwardDeadline));
  call->context.AddMetadata(kForwardedHeader, core_->node_id());
  CallAsync(call->stub->async(), &call->context, &call->request, response,
            [call, done = std::move(done)](grpc::Status status) {
              // The primary's own verdict; a failed call is not one.
              const auto& trailers = call->context.GetServerTrailingMetadata();
              done(status, !status.ok() && trailers.find(kNotAppliedHeader) !=
                                               trailers.end());
            });
}

grpc::ServerUnaryReactor* CacheNodeService::Get(
    grpc::CallbackServerContext* context, const v1::GetRequest* request,
    v1::GetResponse* response) {
  if (absl::Status denied = auth::RequireNamespace(
          *context, request->namespace_(), false, "parley.v1.CacheNode/Get");
      !denied.ok()) {
    return Reply(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Dispatch(IsForwarded(context), *request, response,
           [context, reactor](const grpc::Status& status, bool not_applied) {
             FinishUnary(context, reactor, status, not_applied);
           });
  return reactor;
}

grpc::ServerUnaryReactor* CacheNodeService::Put(
    grpc::CallbackServerContext* context, const v1::PutRequest* request,
    v1::PutResponse* response) {
  if (absl::Status denied = auth::RequireNamespace(
          *context, request->namespace_(), true, "parley.v1.CacheNode/Put");
      !denied.ok()) {
    return Reply(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Dispatch(IsForwarded(context), *request, response,
           [context, reactor](const grpc::Status& status, bool not_applied) {
             FinishUnary(context, reactor, status, not_applied);
           });
  return reactor;
}

grpc::ServerUnaryReactor* CacheNodeService::Delete(
    grpc::CallbackServerContext* context, const v1::DeleteRequest* request,
    v1::DeleteResponse* response) {
  if (absl::Status denied = auth::RequireNamespace(
          *context, request->namespace_(), true, "parley.v1.CacheNode/Delete");
      !denied.ok()) {
    return Reply(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Dispatch(IsForwarded(context), *request, response,
           [context, reactor](const grpc::Status& status, bool not_applied) {
             FinishUnary(context, reactor, status, not_applied);
           });
  return reactor;
}

grpc::ServerUnaryReactor* CacheNodeService::Touch(
    grpc::CallbackServerContext* context, const v1::TouchRequest* request,
    v1::TouchResponse* response) {
  if (absl::Status denied = auth::RequireNamespace(
          *context, request->namespace_(), true, "parley.v1.CacheNode/Touch");
      !denied.ok()) {
    return Reply(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Dispatch(IsForwarded(context), *request, response,
           [context, reactor](const grpc::Status& status, bool not_applied) {
             FinishUnary(context, reactor, status, not_applied);
           });
  return reactor;
}

grpc::ServerUnaryReactor* CacheNodeService::MultiGet(
    grpc::CallbackServerContext* context, const v1::MultiGetRequest* request,
    v1::MultiGetResponse* response) {
  if (absl::Status denied =
          auth::RequireNamespace(*context, request->namespace_(), false,
                                 "parley.v1.CacheNode/MultiGet");
      !denied.ok()) {
    return Reply(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (request->keys().empty()) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  if (request->keys_size() > 1000) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "keys holds more than 1000 keys; split the "
                                 "request"));
    return reactor;
  }
  struct Gather {
    std::vector<v1::GetRequest> requests;
    std::atomic<int> remaining{0};
    absl::Mutex mu;
    grpc::Status first_error;
  };
  auto gather = std::make_shared<Gather>();
  const int n = request->keys_size();
  gather->remaining = n;
  gather->requests.resize(n);
  for (int i = 0; i < n; ++i) {
    response->add_results();
    gather->requests[i].set_namespace_(request->namespace_());
    gather->requests[i].set_key(request->keys(i));
  }
  const bool forwarded = IsForwarded(context);
  for (int i = 0; i < n; ++i) {
    Dispatch(forwarded, gather->requests[i], response->mutable_results(i),
             [gather, reactor](const grpc::Status& status, bool) {
               if (!status.ok()) {
                 absl::MutexLock lock(&gather->mu);
                 if (gather->first_error.ok()) gather->first_error = status;
               }
               if (gather->remaining.fetch_sub(1) == 1) {
                 absl::MutexLock lock(&gather->mu);
                 reactor->Finish(gather->first_error);
               }
             });
  }
  return reactor;
}

grpc::ServerUnaryReactor* CacheNodeService::Scan(
    grpc::CallbackServerContext* context, const v1::ScanRequest* request,
    v1::ScanResponse* response) {
  if (absl::Status denied = auth::RequireNamespace(
          *context, request->namespace_(), false, "parley.v1.CacheNode/Scan");
      !denied.ok()) {
    return Reply(context, denied);
  }
  if (absl::Status s = ValidateNamespace("namespace", request->namespace_());
      !s.ok()) {
    return Reply(context, ToGrpcStatus(s));
  }
  if (request->limit() > 1000) {
    return Reply(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       "limit must be at most 1000"));
  }
  std::shared_ptr<const TableView> view = core_->table();
  if (view == nullptr) {
    return Reply(context, grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                       "no partition table yet"));
  }
  // Page token: "<partition>:<hex of the last key returned>".
  uint32_t partition = 0;
  std::string start_after;
  if (!request->page_token().empty()) {
    std::vector<std::string> parts =
        absl::StrSplit(request->page_token(), absl::MaxSplits(':', 1));
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &partition) ||
        partition >= view->partition_count()) {
      return Reply(context,
                   grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                "page_token is not one this tier returned; "
                                "start again without it"));
    }
    start_after = absl::HexStringToBytes(parts[1]);
  }
  const size_t limit = request->limit() == 0 ? 100 : request->limit();

  // One partition only, for a node that forwarded its scan here.
  auto only = context->client_metadata().find(kScanPartitionHeader);
  if (only != context->client_metadata().end()) {
    absl::StatusOr<std::vector<v1::Entry>> entries =
        core_->ScanPartition(partition, request->namespace_(),
                             request->prefix(), start_after, limit);
    if (entries.ok()) {
      for (v1::Entry& entry : *entries) *response->add_entries() = entry;
    }
    return Reply(context, ToGrpcStatus(entries.status()));
  }

  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Walks the partitions in order on its own thread (administration only).
  std::thread([this, reactor, request, response, view, partition, start_after,
               limit]() mutable {
    grpc::Status status;
    for (uint32_t p = partition; p < view->partition_count(); ++p) {
      const size_t wanted = limit - response->entries_size();
      std::vector<v1::Entry> entries;
      const std::string& primary = view->Primary(p);
      if (primary.empty()) {
        status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              absl::StrCat("partition ", p, " has no primary"));
        break;
      }
      if (primary == core_->node_id()) {
        absl::StatusOr<std::vector<v1::Entry>> local = core_->ScanPartition(
            p, request->namespace_(), request->prefix(), start_after, wanted);
        if (!local.ok()) {
          status = ToGrpcStatus(local.status());
          break;
        }
        entries = std::move(*local);
      } else {
        grpc::ClientContext forward;
        forward.set_deadline(
            absl::ToChronoTime(absl::Now() + kForwardDeadline));
        forward.AddMetadata(kScanPartitionHeader, "1");
        forward.AddMetadata(kForwardedHeader, core_->node_id());
        v1::ScanRequest one = *request;
        one.set_limit(static_cast<uint32_t>(wanted));
        one.set_page_token(
            absl::StrCat(p, ":", absl::BytesToHexString(start_after)));
        v1::ScanResponse page;
        status =
            channels_->Stub(view->Address(primary))->Scan(&forward, one, &page);
        if (!status.ok()) break;
        entries.assign(page.entries().begin(), page.entries().end());
      }
      for (v1::Entry& entry : entries) *response->add_entries() = entry;
      start_after.clear();
      if (response->entries_size() >= static_cast<int>(limit)) {
        const v1::Entry& last = response->entries(response->entries_size() - 1);
        response->set_next_page_token(
            absl::StrCat(p, ":", absl::BytesToHexString(last.key())));
        break;
      }
    }
    reactor->Finish(status);
  }).detach();
  return reactor;
}

grpc::ServerUnaryReactor* CacheNodeService::Stats(
    grpc::CallbackServerContext* context, const v1::StatsRequest*,
    v1::StatsResponse* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAuthenticated,
                                          "parley.v1.CacheNode/Stats");
      !denied.ok()) {
    return Reply(context, denied);
  }
  *response = core_->Stats();
  return Reply(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* CacheNodeService::Ping(
    grpc::CallbackServerContext* context, const v1::PingRequest*,
    v1::PingResponse*) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAuthenticated,
                                          "parley.v1.CacheNode/Ping");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* CacheNodeService::Drain(
    grpc::CallbackServerContext* context, const v1::DrainRequest* request,
    v1::DrainResponse* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.CacheNode/Drain");
      !denied.ok()) {
    return Reply(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool keep_running = request->keep_running();
  std::thread([this, reactor, response, keep_running] {
    absl::StatusOr<uint32_t> handed = drainer_(keep_running);
    if (handed.ok()) response->set_partitions_handed_over(*handed);
    reactor->Finish(ToGrpcStatus(handed.status()));
  }).detach();
  return reactor;
}

grpc::ServerUnaryReactor* CacheNodeService::Replicate(
    grpc::CallbackServerContext* context, const v1::ReplicateRequest* request,
    v1::ReplicateResponse* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kNode,
                                          "parley.v1.CacheNode/Replicate");
      !denied.ok()) {
    return Reply(context, denied);
  }
  *response = core_->Replicate(*request);
  return Reply(context, grpc::Status::OK);
}

namespace {

// Streams one catch-up from a thread of its own: one chunk in flight at a
// time, so memory stays bounded and a slow reader slows the scan.
class CatchUpWriter : public grpc::ServerWriteReactor<v1::CatchUpChunk> {
 public:
  CatchUpWriter(CacheNodeCore* core, const v1::CatchUpRequest& request)
      : core_(core), request_(request) {
    thread_ = std::thread([this] { Run(); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }

  void OnDone() override {
    thread_.join();
    delete this;
  }

 private:
  // Waits for the previous write; false if the call was cancelled.
  bool WaitWritable() {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !writing_ || cancelled_;
    };
    mu_.Await(absl::Condition(&ready));
    return !cancelled_;
  }

  void Run() {
    absl::StatusOr<uint64_t> snapshot = core_->ServeCatchUp(
        request_, [this](std::vector<v1::ReplicatedWrite>& writes) {
          if (!WaitWritable()) return false;
          chunk_.Clear();
          for (v1::ReplicatedWrite& write : writes) {
            *chunk_.add_writes() = std::move(write);
          }
          {
            absl::MutexLock lock(&mu_);
            writing_ = true;
          }
          StartWrite(&chunk_);
          return true;
        });
    const bool writable = WaitWritable();
    if (!snapshot.ok() || !writable) {
      Finish(snapshot.ok() ? grpc::Status::CANCELLED
                           : ToGrpcStatus(snapshot.status()));
      return;
    }
    chunk_.Clear();
    chunk_.set_last(true);
    chunk_.set_snapshot_version(*snapshot);
    StartWriteAndFinish(&chunk_, grpc::WriteOptions(), grpc::Status::OK);
  }

  CacheNodeCore* const core_;
  const v1::CatchUpRequest request_;
  v1::CatchUpChunk chunk_;
  std::thread thread_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// What the bidirectional streams of this service share: registration for
// shutdown, one write in flight, and the end of the call once reads are
// done (or the call failed or is being closed) and nothing must wait.
// Subclasses queue answers and say how to write them and what to wait for.
template <typename Request, typename Response>
class AnsweringStream : public grpc::ServerBidiReactor<Request, Response>,
                        public ClosableStream {
 public:
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    AnswerWrittenLocked();
    if (!ok) {
      failed_ = true;
      DropAnswersLocked();
    }
    WriteNextLocked();
    MaybeFinishLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    failed_ = true;
    MaybeFinishLocked();
  }

  void Close(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    close_status_ = status;
    MaybeFinishLocked();
  }

  void OnDone() override {
    registry_->Remove(this);
    delete this;
  }

 protected:
  explicit AnsweringStream(StreamRegistry* registry) : registry_(registry) {}

  // Tracks the stream for shutdown; the last step of a subclass's
  // constructor (Add may close it at once).
  void Register() { registry_->Add(this); }

  // Starts writing queued answers unless a write is in flight.
  virtual void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // The write in flight completed.
  virtual void AnswerWrittenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // The call failed: queued answers will never be read.
  virtual void DropAnswersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // True while the call must not end yet (work or answers outstanding).
  virtual bool MustWaitLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;

  // The client finished sending.
  void ReadsDone() {
    absl::MutexLock lock(&mu_);
    reads_done_ = true;
    MaybeFinishLocked();
  }

  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_) return;
    if (!(reads_done_ || failed_ || closing_)) return;
    if (MustWaitLocked()) return;
    finished_ = true;
    this->Finish(closing_ ? close_status_ : grpc::Status::OK);
  }

  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;

 private:
  StreamRegistry* const registry_;
  grpc::Status close_status_ ABSL_GUARDED_BY(mu_);
};

// Many operations over one stream: each runs (or is forwarded) as it is
// read, and its response is written when it completes, in any order.
// Responses that complete while a write is in flight go out together in
// the next message.
class PipelineReactor
    : public AnsweringStream<v1::PipelineRequests, v1::PipelineResponses> {
 public:
  // `caller` is null when authorization is off.
  PipelineReactor(CacheNodeService* service, StreamRegistry* registry,
                  bool forwarded, const grpc::CallbackServerContext* context,
                  std::shared_ptr<const auth::Principal> caller)
      : AnsweringStream(registry),
        service_(service),
        forwarded_(forwarded),
        context_(context),
        caller_(std::move(caller)) {
    StartRead(&incoming_);
    Register();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return ReadsDone();
    bool read_more = true;
    {
      absl::MutexLock lock(&mu_);
      in_flight_ += incoming_.requests_size();
      // Stop reading while too many operations are outstanding.
      if (in_flight_ >= kMaxPipelined) {
        read_paused_ = true;
        read_more = false;
      }
    }
    for (v1::PipelineRequest& request : *incoming_.mutable_requests()) {
      Run(request);
    }
    incoming_.Clear();
    if (!read_more) return;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
    }
    StartRead(&incoming_);
  }

 private:
  template <typename Request, typename Response>
  void RunOne(uint64_t id, const Request& request,
              Response* (v1::PipelineResponse::*mutable_result)()) {
    if (caller_ != nullptr) {
      constexpr bool kWrite = !std::is_same_v<Request, v1::GetRequest>;
      if (absl::Status denied = auth::CheckNamespace(
              caller_.get(), *context_, request.namespace_(), kWrite,
              "parley.v1.CacheNode/Pipeline");
          !denied.ok()) {
        v1::PipelineResponse refused;
        refused.set_id(id);
        refused.set_code(static_cast<int>(denied.code()));
        refused.set_message(std::string(denied.message()));
        return Complete(std::move(refused));
      }
    }
    auto response = std::make_shared<v1::PipelineResponse>();
    response->set_id(id);
    Response* result = ((*response).*mutable_result)();
    service_->Dispatch(
        forwarded_, request, result,
        [this, response](const grpc::Status& status, bool not_applied) {
          response->set_code(status.error_code());
          if (!status.ok()) {
            response->set_message(status.error_message());
            response->set_not_applied(not_applied);
          }
          Complete(std::move(*response));
        });
  }

  void Run(const v1::PipelineRequest& op) {
    switch (op.op_case()) {
      case v1::PipelineRequest::kGet:
        return RunOne(op.id(), op.get(), &v1::PipelineResponse::mutable_get);
      case v1::PipelineRequest::kPut:
        return RunOne(op.id(), op.put(), &v1::PipelineResponse::mutable_put);
      case v1::PipelineRequest::kDelete:
        return RunOne(op.id(), op.delete_(),
                      &v1::PipelineResponse::mutable_delete_);
      case v1::PipelineRequest::kTouch:
        return RunOne(op.id(), op.touch(),
                      &v1::PipelineResponse::mutable_touch);
      case v1::PipelineRequest::kPing: {
        v1::PipelineResponse response;
        response.set_id(op.id());
        response.mutable_ping();
        return Complete(std::move(response));
      }
      default: {
        v1::PipelineResponse response;
        response.set_id(op.id());
        response.set_code(grpc::StatusCode::INVALID_ARGUMENT);
        response.set_message("the request names no operation");
        return Complete(std::move(response));
      }
    }
  }

  void Complete(v1::PipelineResponse response) {
    bool resume_reading = false;
    {
      absl::MutexLock lock(&mu_);
      --in_flight_;
      if (!failed_) *pending_.add_responses() = std::move(response);
      WriteNextLocked();
      if (read_paused_ && in_flight_ < kMaxPipelined / 2 && !reads_done_) {
        read_paused_ = false;
        resume_reading = true;
      }
      MaybeFinishLocked();
    }
    if (resume_reading) StartRead(&incoming_);
  }

  void WriteNextLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || pending_.responses().empty() || finished_) return;
    writing_ = true;
    sending_.Swap(&pending_);
    StartWrite(&sending_);
  }

  void AnswerWrittenLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    sending_.Clear();
  }

  void DropAnswersLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    pending_.Clear();
  }

  bool MustWaitLocked() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ > 0 || (!pending_.responses().empty() && !failed_);
  }

  CacheNodeService* const service_;
  const bool forwarded_;
  const grpc::CallbackServerContext* const context_;
  const std::shared_ptr<const auth::Principal> caller_;
  v1::PipelineRequests incoming_;
  // Completed responses waiting for the next write, and the one in flight.
  v1::PipelineResponses pending_ ABSL_GUARDED_BY(mu_);
  v1::PipelineResponses sending_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
};

// A primary's writes for this node as a backup: each batch is applied in
// stream order (the next read starts once it is applied) and answered in
// the same order.
class ReplicateStreamReactor
    : public AnsweringStream<v1::ReplicateRequest, v1::ReplicateResponse> {
 public:
  ReplicateStreamReactor(CacheNodeCore* core, StreamRegistry* registry)
      : AnsweringStream(registry), core_(core) {
    StartRead(&incoming_);
    Register();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return ReadsDone();
    v1::ReplicateResponse response = core_->Replicate(incoming_);
    response.set_batch_id(incoming_.batch_id());
    incoming_.Clear();
    {
      absl::MutexLock lock(&mu_);
      if (!failed_) answers_.push_back(std::move(response));
      WriteNextLocked();
      if (finished_) return;
    }
    StartRead(&incoming_);
  }

 private:
  void WriteNextLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || answers_.empty() || finished_) return;
    writing_ = true;
    StartWrite(&answers_.front());
  }

  void AnswerWrittenLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    answers_.pop_front();
  }

  void DropAnswersLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    answers_.clear();
  }

  bool MustWaitLocked() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !answers_.empty() && !failed_ && !closing_;
  }

  CacheNodeCore* const core_;
  v1::ReplicateRequest incoming_;
  std::deque<v1::ReplicateResponse> answers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

// A stream refused before it starts (authorization).
template <typename Request, typename Response>
class RefusedStream : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit RefusedStream(const absl::Status& status) {
    this->Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

grpc::ServerBidiReactor<v1::ReplicateRequest, v1::ReplicateResponse>*
CacheNodeService::ReplicateStream(grpc::CallbackServerContext* context) {
  if (absl::Status denied = auth::Require(
          *context, auth::Need::kNode, "parley.v1.CacheNode/ReplicateStream");
      !denied.ok()) {
    return new RefusedStream<v1::ReplicateRequest, v1::ReplicateResponse>(
        denied);
  }
  return new ReplicateStreamReactor(core_, &streams_);
}

grpc::ServerWriteReactor<v1::CatchUpChunk>* CacheNodeService::CatchUp(
    grpc::CallbackServerContext* context, const v1::CatchUpRequest* request) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kNode,
                                          "parley.v1.CacheNode/CatchUp");
      !denied.ok()) {
    return new FailedStreamWriter<v1::CatchUpChunk>(ToGrpcStatus(denied));
  }
  return new CatchUpWriter(core_, *request);
}

grpc::ServerBidiReactor<v1::PipelineRequests, v1::PipelineResponses>*
CacheNodeService::Pipeline(grpc::CallbackServerContext* context) {
  absl::StatusOr<std::shared_ptr<const auth::Principal>> caller =
      auth::CallerOf(*context, "parley.v1.CacheNode/Pipeline");
  if (!caller.ok()) {
    return new RefusedStream<v1::PipelineRequests, v1::PipelineResponses>(
        caller.status());
  }
  return new PipelineReactor(this, &streams_, IsForwarded(context), context,
                             *std::move(caller));
}

}  // namespace parley::cache
