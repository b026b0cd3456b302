#ifndef PARLEY_SERVICES_COORDINATOR_STREAM_FOLLOWER_H_
#define PARLEY_SERVICES_COORDINATOR_STREAM_FOLLOWER_H_

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "services/common/retry_policy.h"
#include "spdlog/spdlog.h"

namespace parley::coordinator {

// Keeps one server-streaming call open: hands every message to
// `on_message`, and when the stream ends, reports it to `on_disconnect` and
// opens it again after a backoff. Used to follow the coordinator's watches
// (partition table, configuration, membership, broadcast).
//
// `on_message` and `on_disconnect` run on the follower's own thread, one at
// a time, so they may block. The call itself runs on gRPC's callback API:
// the follower's thread waits on a condition variable, not inside gRPC.
// (A thread blocked in a synchronous read takes part in polling gRPC's
// events for the whole process while its stream is idle, and the hand-offs
// it causes cost the servers measurable CPU on every request.)
template <typename Message>
class StreamFollower {
 public:
  using Reactor = grpc::ClientReadReactor<Message>;
  // Starts the call on `context` with `reactor`, e.g.
  // `stub->async()->WatchConfig(context, &request, reactor)`, with the
  // request owned by the opener (it lives as long as the follower).
  using Opener = std::function<void(grpc::ClientContext*, Reactor*)>;

  StreamFollower(std::string name, Opener open,
                 std::function<void(const Message&)> on_message,
                 std::function<void()> on_disconnect = nullptr,
                 RetryPolicy retry = {absl::Milliseconds(100), absl::Seconds(2),
                                      2.0, 0})
      : name_(std::move(name)),
        open_(std::move(open)),
        on_message_(std::move(on_message)),
        on_disconnect_(std::move(on_disconnect)),
        retry_(retry) {}

  ~StreamFollower() { Stop(); }

  StreamFollower(const StreamFollower&) = delete;
  StreamFollower& operator=(const StreamFollower&) = delete;

  // Opens the stream and keeps it open until Stop().
  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  // Ends the stream and the thread. Idempotent.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
      if (call_ != nullptr) call_->context.TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  // One attempt of the call. Its reactions only record what happened; the
  // follower's thread acts on it. Deleted by that thread after OnDone.
  class Call : public Reactor {
   public:
    explicit Call(StreamFollower* follower) : follower_(follower) {}

    void OnReadDone(bool ok) override {
      absl::MutexLock lock(&follower_->mu_);
      (ok ? has_message : read_failed) = true;
    }
    void OnDone(const grpc::Status& status) override {
      absl::MutexLock lock(&follower_->mu_);
      final_status = status;
      done = true;
    }

    grpc::ClientContext context;
    Message message;
    // Guarded by the follower's mu_.
    bool has_message = false;
    bool read_failed = false;
    bool done = false;
    grpc::Status final_status;

   private:
    StreamFollower* const follower_;
  };

  // Follows one call until it is done; returns whether any message came.
  bool FollowCall(Call& call) {
    bool received = false;
    // Reads are started from this thread, outside the call's reactions:
    // the hold keeps the call (and OnDone) from finishing while a message
    // is being handled and the next read is not started yet.
    call.AddHold();
    call.StartRead(&call.message);
    call.StartCall();
    while (true) {
      mu_.LockWhen(absl::Condition(
          +[](Call* c) { return c->has_message || c->read_failed; }, &call));
      const bool got = call.has_message;
      call.has_message = false;
      mu_.Unlock();
      if (!got) break;
      received = true;
      on_message_(call.message);
      call.StartRead(&call.message);
    }
    call.RemoveHold();
    // After the last read, OnDone follows once the call is over.
    mu_.LockWhen(absl::Condition(&call.done));
    mu_.Unlock();
    return received;
  }

  void Run() {
    absl::BitGen random;
    int failures = 0;
    while (true) {
      auto call = std::make_unique<Call>(this);
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        call_ = call.get();
      }
      open_(&call->context, call.get());
      const bool received = FollowCall(*call);
      if (received) failures = 0;
      grpc::Status status;
      {
        absl::MutexLock lock(&mu_);
        call_ = nullptr;
        status = call->final_status;
        if (stopping_) return;
      }
      call.reset();
      if (on_disconnect_) on_disconnect_();
      if (!received && (failures++ == 0 || failures % 20 == 0)) {
        spdlog::warn("{} stream: {} (reconnecting)", name_,
                     status.error_message());
      }
      // The pause before reconnecting ends early on Stop().
      const absl::Duration pause =
          retry_.Backoff(std::max(1, failures), random);
      mu_.LockWhenWithTimeout(absl::Condition(&stopping_), pause);
      mu_.Unlock();
    }
  }

  const std::string name_;
  const Opener open_;
  const std::function<void(const Message&)> on_message_;
  const std::function<void()> on_disconnect_;
  const RetryPolicy retry_;
  std::thread thread_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The call in progress, or null.
  Call* call_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_STREAM_FOLLOWER_H_
