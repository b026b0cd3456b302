#include "services/runtime/distributed/invalidation_publisher.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "spdlog/spdlog.h"

namespace parley::distributed {

PublishCall CoordinatorPublishCall(std::shared_ptr<grpc::Channel> coordinator,
                                   absl::Duration timeout) {
  std::shared_ptr<v1::Coordinator::Stub> stub =
      v1::Coordinator::NewStub(std::move(coordinator));
  return [stub, timeout](const v1::PublishRequest& request)
             -> absl::StatusOr<v1::PublishResponse> {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    v1::PublishResponse response;
    grpc::Status status = stub->Publish(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  };
}

InvalidationPublisher::InvalidationPublisher(
    InvalidationPublisherOptions options, PublishCall publish)
    : options_(std::move(options)), publish_(std::move(publish)) {
  thread_ = std::thread([this] { Run(); });
}

InvalidationPublisher::~InvalidationPublisher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stop_deadline_ = absl::Now() + options_.shutdown_flush;
  }
  thread_.join();
}

void InvalidationPublisher::Publish(absl::string_view ns, absl::string_view key,
                                    uint64_t version) {
  std::string id = absl::StrCat(ns, absl::string_view("\0", 1), key);
  absl::MutexLock lock(&mu_);
  ++queued_;
  auto it = pending_index_.find(id);
  if (it != pending_index_.end()) {
    v1::BroadcastEntry& entry = pending_[it->second];
    entry.set_version(std::max(entry.version(), version));
    return;
  }
  if (pending_.size() >= options_.max_pending) {
    const uint64_t dropped = dropped_.fetch_add(1, std::memory_order_relaxed);
    if ((dropped & (dropped + 1)) == 0) {  // 1st, 2nd, 4th, 8th, ...
      spdlog::error(
          "group {}: {} invalidations pending, dropping new ones ({} so far)",
          options_.group, pending_.size(), dropped + 1);
    }
    return;
  }
  pending_index_.emplace(std::move(id), pending_.size());
  v1::BroadcastEntry& entry = pending_.emplace_back();
  entry.set_namespace_(std::string(ns));
  entry.set_key(std::string(key));
  entry.set_version(version);
}

bool InvalidationPublisher::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const uint64_t target = queued_;
  auto done = [this, target]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return published_ >= target;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

v1::StreamPosition InvalidationPublisher::last_published() const {
  absl::MutexLock lock(&mu_);
  return last_published_;
}

void InvalidationPublisher::Run() {
  std::vector<v1::BroadcastEntry> batch;
  while (true) {
    uint64_t through = 0;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || !pending_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (options_.linger > absl::ZeroDuration() && !stopping_) {
        auto full = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
          return stopping_ || pending_.size() >= options_.max_batch;
        };
        mu_.AwaitWithTimeout(absl::Condition(&full), options_.linger);
      }
      if (pending_.empty()) {
        published_ = queued_;  // Only drops were left.
        return;
      }
      batch.clear();
      batch.swap(pending_);
      pending_index_.clear();
      through = queued_;
    }
    for (size_t begin = 0; begin < batch.size(); begin += options_.max_batch) {
      const size_t end = std::min(batch.size(), begin + options_.max_batch);
      if (!Send(batch, begin, end)) {
        spdlog::warn("group {}: stopped with {} invalidations unpublished",
                     options_.group, batch.size() - begin);
        return;
      }
    }
    absl::MutexLock lock(&mu_);
    published_ = through;
  }
}

bool InvalidationPublisher::Send(const std::vector<v1::BroadcastEntry>& batch,
                                 size_t begin, size_t end) {
  v1::PublishRequest request;
  request.set_group(options_.group);
  request.set_origin(options_.origin);
  request.mutable_entries()->Reserve(static_cast<int>(end - begin));
  for (size_t i = begin; i < end; ++i) *request.add_entries() = batch[i];
  absl::BitGen random;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<v1::PublishResponse> response = publish_(request);
    if (response.ok()) {
      absl::MutexLock lock(&mu_);
      last_published_.set_epoch(response->epoch());
      last_published_.set_sequence(response->last_sequence());
      return true;
    }
    failures_.fetch_add(1, std::memory_order_relaxed);
    if (attempt == 1 || attempt % 20 == 0) {
      spdlog::warn(
          "group {}: publishing {} invalidations failed: {} (retrying)",
          options_.group, end - begin, response.status().ToString());
    }
    absl::Duration pause = options_.retry.Backoff(attempt, random);
    bool stopping = false;
    absl::Time deadline;
    {
      absl::MutexLock lock(&mu_);
      // Woken early by the destructor, which then bounds the retries.
      if (!stopping_) mu_.AwaitWithTimeout(absl::Condition(&stopping_), pause);
      stopping = stopping_;
      deadline = stop_deadline_;
    }
    if (stopping) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      absl::SleepFor(std::min(pause, left));
    }
  }
}

}  // namespace parley::distributed
