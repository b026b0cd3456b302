#ifndef PARLEY_SERVICES_COMMON_STREAM_WRITERS_H_
#define PARLEY_SERVICES_COMMON_STREAM_WRITERS_H_

#include <deque>
#include <functional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"

namespace parley {

// A server stream that can be ended from outside (e.g. at shutdown).
class ClosableStream {
 public:
  virtual ~ClosableStream() = default;
  // Ends the stream with `status` once any write in flight completes.
  virtual void Close(const grpc::Status& status) = 0;
};

// The open server streams of a service, so shutdown can end them at once
// instead of waiting for the grace period. Thread-safe.
class StreamRegistry {
 public:
  // Tracks `stream`; closes it at once if CloseAll already ran.
  void Add(ClosableStream* stream) {
    absl::MutexLock lock(&mu_);
    if (closed_) {
      stream->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "server is shutting down; reconnect"));
      return;
    }
    streams_.insert(stream);
  }
  // Stops tracking `stream` (from its OnDone).
  void Remove(ClosableStream* stream) {
    absl::MutexLock lock(&mu_);
    streams_.erase(stream);
  }
  // Closes every tracked stream and any added later.
  void CloseAll() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    for (ClosableStream* stream : streams_) {
      stream->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "server is shutting down; reconnect"));
    }
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<ClosableStream*> streams_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// A server-streaming reactor fed from any thread through Push: messages are
// written in order, one at a time. A reader more than `max_queued` messages
// behind is ended with ABORTED (it should watch again for a fresh view).
// Deletes itself when the call is done.
template <typename Message>
class QueuedStreamWriter : public grpc::ServerWriteReactor<Message>,
                           public ClosableStream {
 public:
  QueuedStreamWriter(StreamRegistry* registry, size_t max_queued)
      : registry_(registry), max_queued_(max_queued) {}

  // Sends `first`, then whatever Push queued; `on_done` runs when the call
  // ends (typically to unregister the feed).
  void Begin(Message first, std::function<void()> on_done) {
    {
      absl::MutexLock lock(&mu_);
      on_done_ = std::move(on_done);
      queue_.push_front(std::move(first));
      started_ = true;
      WriteNextLocked();
    }
    registry_->Add(this);
  }

  // Queues `message` for the reader.
  void Push(const Message& message) {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    if (queue_.size() >= max_queued_) {
      FinishLocked(grpc::Status(
          grpc::StatusCode::ABORTED,
          absl::StrCat("watcher fell more than ", max_queued_,
                       " events behind; watch again for a fresh view")));
      return;
    }
    queue_.push_back(message);
    WriteNextLocked();
  }

  void Close(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    queue_.pop_front();
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    WriteNextLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    if (on_done_) on_done_();
    registry_->Remove(this);
    delete this;
  }

 private:
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || !started_) return;
    if (finishing_) {
      if (!finished_) {
        finished_ = true;
        this->Finish(final_status_);
      }
      return;
    }
    if (queue_.empty()) return;
    writing_ = true;
    this->StartWrite(&queue_.front());
  }

  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finishing_) return;
    finishing_ = true;
    final_status_ = status;
    started_ = true;
    WriteNextLocked();
  }

  StreamRegistry* const registry_;
  const size_t max_queued_;
  std::function<void()> on_done_;
  absl::Mutex mu_;
  std::deque<Message> queue_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

// A server-streaming reactor that ends at once with an error.
template <typename Message>
class FailedStreamWriter : public grpc::ServerWriteReactor<Message> {
 public:
  explicit FailedStreamWriter(const grpc::Status& status) {
    this->Finish(status);
  }
  void OnDone() override { delete this; }
};

}  // namespace parley

#endif  // PARLEY_SERVICES_COMMON_STREAM_WRITERS_H_
