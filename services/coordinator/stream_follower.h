#ifndef PARLEY_SERVICES_COORDINATOR_STREAM_FOLLOWER_H_
#define PARLEY_SERVICES_COORDINATOR_STREAM_FOLLOWER_H_

#include <functional>
#include <memory>
#include <thread>

#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "services/common/retry_policy.h"
#include "spdlog/spdlog.h"

namespace parley::coordinator {

// Keeps one server-streaming call open from a background thread: hands
// every message to `on_message`, and when the stream ends, reports it to
// `on_disconnect` and opens it again after a backoff. Used to follow the
// coordinator's watches (partition table, configuration, membership,
// broadcast).
template <typename Message>
class StreamFollower {
 public:
  // Opens the stream on the given context.
  using Opener = std::function<std::unique_ptr<grpc::ClientReader<Message>>(
      grpc::ClientContext*)>;

  StreamFollower(std::string name, Opener open,
                 std::function<void(const Message&)> on_message,
                 std::function<void()> on_disconnect = nullptr,
                 RetryPolicy retry = {absl::Milliseconds(100),
                                      absl::Seconds(2), 2.0, 0})
      : name_(std::move(name)),
        open_(std::move(open)),
        on_message_(std::move(on_message)),
        on_disconnect_(std::move(on_disconnect)),
        retry_(retry) {}

  ~StreamFollower() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  // Ends the stream and the thread. Idempotent.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    absl::BitGen random;
    int failures = 0;
    while (true) {
      grpc::ClientContext context;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        context_ = &context;
      }
      std::unique_ptr<grpc::ClientReader<Message>> reader = open_(&context);
      Message message;
      bool received = false;
      while (reader->Read(&message)) {
        received = true;
        failures = 0;
        on_message_(message);
      }
      grpc::Status status = reader->Finish();
      {
        absl::MutexLock lock(&mu_);
        context_ = nullptr;
        if (stopping_) return;
      }
      if (on_disconnect_) on_disconnect_();
      if (!received && (failures++ == 0 || failures % 20 == 0)) {
        spdlog::warn("{} stream: {} (reconnecting)", name_,
                     status.error_message());
      }
      absl::SleepFor(retry_.Backoff(std::max(1, failures), random));
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
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_STREAM_FOLLOWER_H_
