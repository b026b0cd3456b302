#include "services/runtime/distributed/invalidation_follower.h"

#include <utility>

#include "services/coordinator/watch_requests.h"
#include "spdlog/spdlog.h"

namespace parley::distributed {

InvalidationFollower::InvalidationFollower(
    std::shared_ptr<grpc::Channel> coordinator,
    InvalidationFollowerOptions options, NearCache* cache)
    : options_(std::move(options)),
      cache_(cache),
      stub_(v1::Coordinator::NewStub(std::move(coordinator))) {
  stream_ = std::make_unique<coordinator::StreamFollower<v1::BroadcastEvent>>(
      "invalidation broadcast of group " + options_.group,
      [this, request = coordinator::SubscribeTo(options_.group)](
          grpc::ClientContext* context,
          grpc::ClientReadReactor<v1::BroadcastEvent>* reactor) {
        stub_->async()->Subscribe(context, &request, reactor);
      },
      [this](const v1::BroadcastEvent& event) { OnEvent(event); },
      [this] { OnDisconnect(); }, options_.reconnect);
}

InvalidationFollower::~InvalidationFollower() { Stop(); }

void InvalidationFollower::Start() { stream_->Start(); }

void InvalidationFollower::Stop() {
  stream_->Stop();
  live_.store(false, std::memory_order_release);
  cache_->Disable();
}

v1::StreamPosition InvalidationFollower::position() const {
  absl::MutexLock lock(&mu_);
  v1::StreamPosition position;
  position.set_epoch(epoch_);
  position.set_sequence(sequence_);
  return position;
}

bool InvalidationFollower::WaitForPosition(const v1::StreamPosition& position,
                                           absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, &position]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return epoch_ == position.epoch() && sequence_ >= position.sequence();
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

void InvalidationFollower::Flush() {
  cache_->Clear();
  flushes_.fetch_add(1, std::memory_order_relaxed);
}

void InvalidationFollower::OnEvent(const v1::BroadcastEvent& event) {
  switch (event.kind()) {
    case v1::BroadcastEvent::STARTED:
    case v1::BroadcastEvent::RESET: {
      // A subscription's first event, or entries were missed: start over
      // from an empty cache at the stream's head.
      if (event.kind() == v1::BroadcastEvent::RESET) {
        spdlog::info("group {} broadcast reset: {}; near cache flushed",
                     options_.group, event.reason());
      }
      cache_->Enable();
      flushes_.fetch_add(1, std::memory_order_relaxed);
      {
        absl::MutexLock lock(&mu_);
        epoch_ = event.epoch();
        sequence_ = event.head();
      }
      live_.store(true, std::memory_order_release);
      return;
    }
    case v1::BroadcastEvent::ENTRIES: {
      if (event.entries().empty()) return;
      bool gap = false;
      {
        absl::MutexLock lock(&mu_);
        gap = event.epoch() != epoch_ ||
              event.entries(0).sequence() != sequence_ + 1;
      }
      if (gap) {
        spdlog::warn(
            "group {} broadcast skipped from {} to {}; near cache flushed",
            options_.group, position().sequence(), event.entries(0).sequence());
        Flush();
      } else {
        for (const v1::BroadcastEntry& entry : event.entries()) {
          if (entry.namespace_() == options_.ns) {
            invalidations_.fetch_add(1, std::memory_order_relaxed);
            if (cache_->Evict(entry.key(), entry.version())) {
              evictions_.fetch_add(1, std::memory_order_relaxed);
            }
          }
        }
      }
      // Applied: only now may waiters rely on it.
      absl::MutexLock lock(&mu_);
      epoch_ = event.epoch();
      sequence_ = event.entries(event.entries_size() - 1).sequence();
      return;
    }
    default:
      return;
  }
}

void InvalidationFollower::OnDisconnect() {
  live_.store(false, std::memory_order_release);
  cache_->Disable();
  flushes_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace parley::distributed
