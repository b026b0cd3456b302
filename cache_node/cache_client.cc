#include "cache_node/cache_client.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "cache_node/key_codec.h"
#include "cache_node/node_channels.h"
#include "cache_node/table_view.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/common/channels.h"
#include "services/common/grpc_status.h"
#include "services/coordinator/stream_follower.h"

namespace parley::cache {
namespace {

using Callback = std::function<void(absl::StatusOr<v1::PipelineResponse>)>;

// The least time one Scan attempt gets.
constexpr absl::Duration kScanAttemptTimeout = absl::Seconds(10);

// One long-lived Pipeline stream to one node. Operations are written in
// order, one message in flight carrying every operation queued meanwhile,
// and answered by id. A broken stream fails everything pending and is
// replaced by the client.
class NodePipeline : public grpc::ClientBidiReactor<v1::PipelineRequests,
                                                    v1::PipelineResponses>,
                     public std::enable_shared_from_this<NodePipeline> {
 public:
  explicit NodePipeline(std::shared_ptr<v1::CacheNode::Stub> stub)
      : stub_(std::move(stub)) {}

  void Start() {
    keep_alive_ = shared_from_this();
    stub_->async()->Pipeline(&context_, this);
    StartRead(&incoming_);
    StartCall();
  }

  // Queues an operation; false if the stream is broken.
  bool Send(v1::PipelineRequest request, Callback done, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    if (broken_) return false;
    const uint64_t id = next_id_++;
    request.set_id(id);
    pending_.emplace(id, Pending{std::move(done), deadline});
    *queued_.add_requests() = std::move(request);
    WriteNextLocked();
    return true;
  }

  bool broken() const {
    absl::MutexLock lock(&mu_);
    return broken_;
  }

  // Fails operations past their deadline; a stream with such operations is
  // treated as hung and cancelled.
  void ExpireOverdue(absl::Time now) {
    std::vector<Callback> overdue;
    {
      absl::MutexLock lock(&mu_);
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline <= now) {
          overdue.push_back(std::move(it->second.done));
          pending_.erase(it++);
        } else {
          ++it;
        }
      }
      if (!overdue.empty() && !broken_) {
        broken_ = true;
        context_.TryCancel();
      }
    }
    for (Callback& done : overdue) {
      done(
          absl::DeadlineExceededError("the cache node did not answer in "
                                      "time"));
    }
  }

  void Cancel() { context_.TryCancel(); }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    sending_.Clear();
    if (!ok) {
      broken_ = true;
      return;
    }
    WriteNextLocked();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&mu_);
      broken_ = true;
      return;
    }
    answered_.clear();
    {
      absl::MutexLock lock(&mu_);
      for (v1::PipelineResponse& response : *incoming_.mutable_responses()) {
        auto it = pending_.find(response.id());
        if (it == pending_.end()) continue;  // Expired meanwhile.
        answered_.emplace_back(std::move(it->second.done), &response);
        pending_.erase(it);
      }
    }
    for (auto& [done, response] : answered_) done(std::move(*response));
    answered_.clear();
    incoming_.Clear();
    StartRead(&incoming_);
  }

  void OnDone(const grpc::Status& status) override {
    std::map<uint64_t, Pending> failed;
    {
      absl::MutexLock lock(&mu_);
      broken_ = true;
      failed.swap(pending_);
    }
    for (auto& [id, pending] : failed) {
      pending.done(absl::UnavailableError(
          absl::StrCat("stream to the cache node ended: ",
                       status.ok() ? "closed" : status.error_message())));
    }
    keep_alive_.reset();
  }

 private:
  struct Pending {
    Callback done;
    absl::Time deadline;
  };

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || queued_.requests().empty() || broken_) return;
    writing_ = true;
    sending_.Swap(&queued_);
    StartWrite(&sending_);
  }

  const std::shared_ptr<v1::CacheNode::Stub> stub_;
  grpc::ClientContext context_;
  v1::PipelineResponses incoming_;
  // Callbacks of the message just read (reused; only the reader touches it).
  std::vector<std::pair<Callback, v1::PipelineResponse*>> answered_;
  std::shared_ptr<NodePipeline> keep_alive_;
  mutable absl::Mutex mu_;
  // Operations waiting for the next write, and the message in flight.
  v1::PipelineRequests queued_ ABSL_GUARDED_BY(mu_);
  v1::PipelineRequests sending_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Pending> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
};

// The namespace and key an operation addresses.
std::pair<absl::string_view, absl::string_view> Target(
    const v1::PipelineRequest& request) {
  switch (request.op_case()) {
    case v1::PipelineRequest::kGet:
      return {request.get().namespace_(), request.get().key()};
    case v1::PipelineRequest::kPut:
      return {request.put().namespace_(), request.put().key()};
    case v1::PipelineRequest::kDelete:
      return {request.delete_().namespace_(), request.delete_().key()};
    case v1::PipelineRequest::kTouch:
      return {request.touch().namespace_(), request.touch().key()};
    default:
      return {"", ""};
  }
}

bool IsCompareAndSet(const v1::PipelineRequest& request) {
  return (request.has_put() && request.put().has_expected_version()) ||
         (request.has_delete_() && request.delete_().has_expected_version());
}

}  // namespace

class CacheClient::Impl {
 public:
  explicit Impl(CacheClientOptions options)
      : options_(std::move(options)),
        credentials_(options_.credentials != nullptr
                         ? options_.credentials
                         : grpc::InsecureChannelCredentials()),
        channels_(credentials_),
        coordinator_(v1::Coordinator::NewStub(
            CreatePeerChannel(options_.coordinator_address, credentials_))),
        table_follower_(
            "partition table",
            [this, request = v1::WatchPartitionTableRequest()](
                grpc::ClientContext* context,
                grpc::ClientReadReactor<v1::PartitionTable>* reactor) {
              coordinator_->async()->WatchPartitionTable(context, &request,
                                                         reactor);
            },
            [this](const v1::PartitionTable& table) { OnTable(table); }) {
    table_follower_.Start();
    timer_ = std::thread([this] { RunTimer(); });
  }

  ~Impl() {
    table_follower_.Stop();
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    timer_.join();
    absl::flat_hash_map<std::string, std::shared_ptr<NodePipeline>> pipelines;
    {
      absl::MutexLock lock(&mu_);
      pipelines.swap(pipelines_);
    }
    for (auto& [address, pipeline] : pipelines) pipeline->Cancel();
    // Pending retries fail now.
    std::multimap<absl::Time, std::shared_ptr<Operation>> retries;
    {
      absl::MutexLock lock(&mu_);
      retries.swap(retries_);
    }
    for (auto& [when, op] : retries) {
      op->done(absl::CancelledError("the cache client is closing"));
    }
    // Answers still in flight call back into this object: wait for them.
    absl::MutexLock lock(&outstanding_mu_);
    auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(outstanding_mu_) {
      return outstanding_ == 0;
    };
    outstanding_mu_.AwaitWithTimeout(absl::Condition(&idle), absl::Seconds(10));
  }

  bool WaitForTable(absl::Duration wait) {
    absl::MutexLock lock(&mu_);
    auto has_table = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return table_ != nullptr;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&has_table), wait);
  }

  uint64_t epoch() const {
    absl::MutexLock lock(&mu_);
    return table_ == nullptr ? 0 : table_->epoch();
  }

  absl::StatusOr<v1::ScanResponse> Scan(const v1::ScanRequest& request) {
    if (absl::Status s = ValidateNamespace("namespace", request.namespace_());
        !s.ok()) {
      return s;
    }
    if (request.limit() > 1000) {
      return absl::InvalidArgumentError(
          "limit must be at most 1000; page through larger scans");
    }
    const absl::Time give_up = absl::Now() + options_.operation_timeout;
    absl::Status why;
    for (int attempt = 1;; ++attempt) {
      std::string address = ScanAddress();
      if (address.empty()) {
        why = absl::UnavailableError("no cache node in the partition table");
      } else {
        // A scan walks every partition, forwarding to their primaries: it
        // gets more time than one operation.
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(
            std::min(give_up, absl::Now() + std::max(options_.attempt_timeout,
                                                     kScanAttemptTimeout))));
        v1::ScanResponse response;
        const grpc::Status status =
            channels_.Stub(address)->Scan(&context, request, &response);
        if (status.ok()) return response;
        why = FromGrpcStatus(status);
        // Read-only, so safe to repeat on anything a failover explains.
        const bool retryable =
            why.code() == absl::StatusCode::kUnavailable ||
            why.code() == absl::StatusCode::kDeadlineExceeded ||
            why.code() == absl::StatusCode::kFailedPrecondition ||
            why.code() == absl::StatusCode::kAborted;
        if (!retryable) return why;
      }
      const absl::Time now = absl::Now();
      absl::Duration pause;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) {
          return absl::CancelledError("the cache client is closing");
        }
        pause = options_.retry.Backoff(attempt, random_);
      }
      if (now + pause >= give_up) {
        return absl::Status(why.code(),
                            absl::StrCat(why.message(), " (scan gave up after ",
                                         attempt, " attempts)"));
      }
      absl::SleepFor(pause);
    }
  }

  void Submit(v1::PipelineRequest request, Callback done) {
    auto op = std::make_shared<Operation>();
    op->request = std::move(request);
    {
      absl::MutexLock lock(&outstanding_mu_);
      ++outstanding_;
    }
    op->done = [this, done = std::move(done)](
                   absl::StatusOr<v1::PipelineResponse> response) {
      done(std::move(response));
      absl::MutexLock lock(&outstanding_mu_);
      --outstanding_;
    };
    op->give_up = absl::Now() + options_.operation_timeout;
    Attempt(std::move(op));
  }

 private:
  struct Operation {
    v1::PipelineRequest request;
    Callback done;
    absl::Time give_up;
    int attempts = 0;
  };

  // The address of a node that is primary of some partition (so live at
  // the table's epoch), rotating over them call by call; "" if none.
  std::string ScanAddress() {
    absl::MutexLock lock(&mu_);
    if (table_ == nullptr) return "";
    std::vector<std::string> addresses;
    for (uint32_t p = 0; p < table_->partition_count(); ++p) {
      const std::string& address = table_->Address(table_->Primary(p));
      if (!address.empty() && std::find(addresses.begin(), addresses.end(),
                                        address) == addresses.end()) {
        addresses.push_back(address);
      }
    }
    if (addresses.empty()) return "";
    return addresses[scan_rotation_++ % addresses.size()];
  }

  void OnTable(const v1::PartitionTable& table) {
    absl::MutexLock lock(&mu_);
    if (table_ == nullptr || table.epoch() > table_->epoch()) {
      table_ = std::make_shared<const TableView>(table);
      // Waiting retries go now: the primary they wait for may be known.
      std::multimap<absl::Time, std::shared_ptr<Operation>> due;
      for (auto& [when, op] : retries_) due.emplace(absl::InfinitePast(), op);
      retries_.swap(due);
    }
  }

  std::shared_ptr<NodePipeline> PipelineTo(const std::string& address) {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<NodePipeline>& pipeline = pipelines_[address];
    if (pipeline == nullptr || pipeline->broken()) {
      pipeline = std::make_shared<NodePipeline>(channels_.Stub(address));
      pipeline->Start();
    }
    return pipeline;
  }

  void Attempt(std::shared_ptr<Operation> op) {
    ++op->attempts;
    std::shared_ptr<const TableView> view;
    {
      absl::MutexLock lock(&mu_);
      view = table_;
    }
    if (view == nullptr || view->partition_count() == 0) {
      return Retry(std::move(op), 0,
                   absl::UnavailableError("no partition table yet"));
    }
    auto [ns, key] = Target(op->request);
    if (op->request.op_case() != v1::PipelineRequest::kPing) {
      if (absl::Status s = ValidateNamespace("namespace", ns); !s.ok()) {
        return op->done(s);
      }
      if (absl::Status s = ValidateKey("key", key); !s.ok()) {
        return op->done(s);
      }
    }
    const uint32_t partition = PartitionOf(ns, key, view->partition_count());
    const std::string& address = view->Address(view->Primary(partition));
    if (address.empty()) {
      return Retry(std::move(op), view->epoch(),
                   absl::UnavailableError(absl::StrCat("partition ", partition,
                                                       " has no cache node")));
    }
    const uint64_t epoch = view->epoch();
    for (int tries = 0; tries < 2; ++tries) {
      std::shared_ptr<NodePipeline> pipeline = PipelineTo(address);
      if (pipeline->Send(
              op->request,
              [this, op, epoch](absl::StatusOr<v1::PipelineResponse> response) {
                OnAnswer(op, epoch, std::move(response));
              },
              absl::Now() + options_.attempt_timeout)) {
        return;
      }
    }
    Retry(std::move(op), epoch,
          absl::UnavailableError("cannot open a stream to " + address));
  }

  void OnAnswer(std::shared_ptr<Operation> op, uint64_t epoch,
                absl::StatusOr<v1::PipelineResponse> response) {
    absl::Status status = response.status();
    if (response.ok() && response->code() != 0) {
      status = absl::Status(static_cast<absl::StatusCode>(response->code()),
                            response->message());
    }
    if (status.ok()) return op->done(std::move(response));
    // The tier saying the operation was not applied and may succeed again
    // (the primary moved, or is being taken over): safe to repeat, even a
    // compare-and-set. A transport failure (no answer: the stream broke or
    // timed out) or another error leaves the outcome of a write unknown:
    // repeated only when that is harmless (not a compare-and-set).
    const bool not_applied =
        status.code() == absl::StatusCode::kFailedPrecondition ||
        (response.ok() && response->not_applied() &&
         status.code() == absl::StatusCode::kUnavailable);
    const bool retryable =
        not_applied || (!IsCompareAndSet(op->request) &&
                        (status.code() == absl::StatusCode::kUnavailable ||
                         status.code() == absl::StatusCode::kDeadlineExceeded));
    if (!retryable) return op->done(status);
    Retry(std::move(op), epoch, status);
  }

  void Retry(std::shared_ptr<Operation> op, uint64_t epoch,
             const absl::Status& why) {
    const absl::Time now = absl::Now();
    if (now >= op->give_up) {
      return op->done(absl::Status(
          why.code(), absl::StrCat(why.message(), " (gave up after ",
                                   op->attempts, " attempts)")));
    }
    {
      absl::MutexLock lock(&mu_);
      if (!stopping_) {
        // Sooner if the table already moved past the one that failed.
        const bool newer = table_ != nullptr && table_->epoch() > epoch;
        const absl::Time when =
            newer ? now : now + options_.retry.Backoff(op->attempts, random_);
        retries_.emplace(std::min(when, op->give_up), std::move(op));
        return;
      }
    }
    op->done(absl::CancelledError("the cache client is closing"));
  }

  // Runs due retries and expires overdue operations.
  void RunTimer() {
    while (true) {
      std::vector<std::shared_ptr<Operation>> due;
      std::vector<std::shared_ptr<NodePipeline>> pipelines;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
          return stopping_ ||
                 (!retries_.empty() && retries_.begin()->first <= absl::Now());
        };
        mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(10));
        if (stopping_) return;
        const absl::Time now = absl::Now();
        while (!retries_.empty() && retries_.begin()->first <= now) {
          due.push_back(std::move(retries_.begin()->second));
          retries_.erase(retries_.begin());
        }
        for (auto& [address, pipeline] : pipelines_) {
          pipelines.push_back(pipeline);
        }
      }
      for (auto& op : due) Attempt(std::move(op));
      const absl::Time now = absl::Now();
      for (auto& pipeline : pipelines) pipeline->ExpireOverdue(now);
    }
  }

  const CacheClientOptions options_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  NodeChannels channels_;
  std::unique_ptr<v1::Coordinator::Stub> coordinator_;
  coordinator::StreamFollower<v1::PartitionTable> table_follower_;
  std::thread timer_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TableView> table_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<NodePipeline>> pipelines_
      ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, std::shared_ptr<Operation>> retries_
      ABSL_GUARDED_BY(mu_);
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Spreads scans over the nodes.
  size_t scan_rotation_ ABSL_GUARDED_BY(mu_) = 0;
  // Operations submitted and not yet answered.
  absl::Mutex outstanding_mu_;
  int outstanding_ ABSL_GUARDED_BY(outstanding_mu_) = 0;
};

namespace {

// gRPC 1.51 runs client callbacks on a shared completion queue that is
// created with the first channel using them and torn down with the last;
// creating and destroying clients in a row races that teardown (a double
// free in the queue's threads, seen under AddressSanitizer). One channel
// that used the callback API, kept for the life of the process, keeps the
// queue from ever being torn down.
void HoldCallbackQueue() {
  static std::once_flag once;
  std::call_once(once, [] {
    static auto* const channel = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
    static auto* const stub = v1::CacheNode::NewStub(*channel).release();
    auto* context = new grpc::ClientContext();
    context->set_deadline(std::chrono::system_clock::now());
    auto* request = new v1::PingRequest();
    auto* response = new v1::PingResponse();
    absl::Notification done;
    stub->async()->Ping(context, request, response,
                        [&done, context, request, response](grpc::Status) {
                          delete context;
                          delete request;
                          delete response;
                          done.Notify();
                        });
    done.WaitForNotification();
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<CacheClient>> CacheClient::Connect(
    CacheClientOptions options, absl::Duration wait) {
  HoldCallbackQueue();
  if (options.coordinator_address.empty()) {
    return absl::InvalidArgumentError(
        "coordinator_address is empty; give the coordinator's host:port");
  }
  const std::string address = options.coordinator_address;
  auto impl = std::make_unique<Impl>(std::move(options));
  if (!impl->WaitForTable(wait)) {
    return absl::UnavailableError(absl::StrCat(
        "no partition table from the coordinator at ", address, " within ",
        absl::FormatDuration(wait), "; is it running?"));
  }
  return std::unique_ptr<CacheClient>(new CacheClient(std::move(impl)));
}

CacheClient::CacheClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CacheClient::~CacheClient() = default;

uint64_t CacheClient::table_epoch() const { return impl_->epoch(); }

void CacheClient::Submit(
    v1::PipelineRequest request,
    std::function<void(absl::StatusOr<v1::PipelineResponse>)> done) {
  impl_->Submit(std::move(request), std::move(done));
}

namespace {

// Runs one operation and waits for it.
absl::StatusOr<v1::PipelineResponse> Call(CacheClient& client,
                                          v1::PipelineRequest request) {
  absl::Notification finished;
  absl::StatusOr<v1::PipelineResponse> result;
  client.Submit(std::move(request),
                [&](absl::StatusOr<v1::PipelineResponse> response) {
                  result = std::move(response);
                  finished.Notify();
                });
  finished.WaitForNotification();
  return result;
}

}  // namespace

absl::StatusOr<v1::ScanResponse> CacheClient::Scan(absl::string_view ns,
                                                   absl::string_view prefix,
                                                   absl::string_view page_token,
                                                   uint32_t limit) {
  v1::ScanRequest request;
  request.set_namespace_(std::string(ns));
  request.set_prefix(std::string(prefix));
  request.set_page_token(std::string(page_token));
  request.set_limit(limit);
  return impl_->Scan(request);
}

namespace {

v1::PipelineRequest GetRequest(absl::string_view ns, absl::string_view key) {
  v1::PipelineRequest request;
  request.mutable_get()->set_namespace_(std::string(ns));
  request.mutable_get()->set_key(std::string(key));
  return request;
}

v1::PipelineRequest PutRequest(absl::string_view ns, absl::string_view key,
                               std::string value, uint64_t ttl_ms,
                               std::optional<uint64_t> expected_version) {
  v1::PipelineRequest request;
  v1::PutRequest* put = request.mutable_put();
  put->set_namespace_(std::string(ns));
  put->set_key(std::string(key));
  put->set_value(std::move(value));
  put->set_ttl_ms(ttl_ms);
  if (expected_version.has_value()) {
    put->mutable_expected_version()->set_value(*expected_version);
  }
  return request;
}

absl::StatusOr<v1::GetResponse> GetAnswer(
    absl::StatusOr<v1::PipelineResponse> response) {
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_get());
}

absl::StatusOr<uint64_t> PutAnswer(
    const absl::StatusOr<v1::PipelineResponse>& response) {
  if (!response.ok()) return response.status();
  return response->put().version();
}

}  // namespace

absl::StatusOr<v1::GetResponse> CacheClient::Get(absl::string_view ns,
                                                 absl::string_view key) {
  return GetAnswer(Call(*this, GetRequest(ns, key)));
}

void CacheClient::GetAsync(absl::string_view ns, absl::string_view key,
                           GetDone done) {
  Submit(
      GetRequest(ns, key),
      [done = std::move(done)](absl::StatusOr<v1::PipelineResponse> response) {
        done(GetAnswer(std::move(response)));
      });
}

absl::StatusOr<uint64_t> CacheClient::Put(
    absl::string_view ns, absl::string_view key, absl::string_view value,
    uint64_t ttl_ms, std::optional<uint64_t> expected_version) {
  return PutAnswer(Call(*this, PutRequest(ns, key, std::string(value), ttl_ms,
                                          expected_version)));
}

void CacheClient::PutAsync(absl::string_view ns, absl::string_view key,
                           std::string value, uint64_t ttl_ms,
                           std::optional<uint64_t> expected_version,
                           PutDone done) {
  Submit(
      PutRequest(ns, key, std::move(value), ttl_ms, expected_version),
      [done = std::move(done)](absl::StatusOr<v1::PipelineResponse> response) {
        done(PutAnswer(response));
      });
}

absl::StatusOr<v1::DeleteResponse> CacheClient::Delete(
    absl::string_view ns, absl::string_view key,
    std::optional<uint64_t> expected_version) {
  v1::PipelineRequest request;
  v1::DeleteRequest* remove = request.mutable_delete_();
  remove->set_namespace_(std::string(ns));
  remove->set_key(std::string(key));
  if (expected_version.has_value()) {
    remove->mutable_expected_version()->set_value(*expected_version);
  }
  absl::StatusOr<v1::PipelineResponse> response =
      Call(*this, std::move(request));
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_delete_());
}

absl::StatusOr<v1::TouchResponse> CacheClient::Touch(absl::string_view ns,
                                                     absl::string_view key,
                                                     uint64_t ttl_ms) {
  v1::PipelineRequest request;
  request.mutable_touch()->set_namespace_(std::string(ns));
  request.mutable_touch()->set_key(std::string(key));
  request.mutable_touch()->set_ttl_ms(ttl_ms);
  absl::StatusOr<v1::PipelineResponse> response =
      Call(*this, std::move(request));
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_touch());
}

}  // namespace parley::cache
