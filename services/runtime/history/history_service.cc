#include "services/runtime/history/history_service.h"

#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/grpc_status.h"
#include "services/common/stream_writers.h"
#include "services/runtime/history/history_format.h"

namespace parley::history {
namespace {

using google::protobuf::util::TimeUtil;

// One ExportHistory call. A thread of its own scans the store and formats
// the records; a chunk is written once the previous one was, so a slow
// reader slows the export instead of growing memory. Deletes itself when
// the call is done; decrements `*active` then.
class ExportReactor : public grpc::ServerWriteReactor<v1::ExportHistoryChunk> {
 public:
  ExportReactor(HistoryStore* store, v1::ExportFormat format,
                absl::optional<absl::Time> since, size_t chunk_bytes,
                std::atomic<int>* active)
      : store_(store),
        formatter_(format),
        since_(since),
        chunk_bytes_(chunk_bytes),
        active_(active) {
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
    active_->fetch_sub(1);
    delete this;
  }

 private:
  // Waits for the write in flight; false if the call was cancelled.
  bool WaitWritable() {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !writing_ || cancelled_;
    };
    mu_.Await(absl::Condition(&ready));
    return !cancelled_;
  }

  bool cancelled() {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

  // Moves the buffered bytes into the chunk to write.
  void TakeBuffer() {
    chunk_.set_data(std::move(buffer_));
    chunk_.set_records(records_in_buffer_);
    buffer_.clear();
    records_in_buffer_ = 0;
  }

  bool SendBuffer() {
    if (!WaitWritable()) return false;
    TakeBuffer();
    {
      absl::MutexLock lock(&mu_);
      writing_ = true;
    }
    StartWrite(&chunk_);
    return true;
  }

  void Run() {
    formatter_.AppendHeader(&buffer_);
    absl::Status format_error;
    const absl::Status status = store_->Export(
        since_,
        [this, &format_error](const v1::HistoryRecord& record) {
          format_error = formatter_.AppendRecord(record, &buffer_);
          if (!format_error.ok()) return false;
          ++records_in_buffer_;
          if (buffer_.size() < chunk_bytes_) return true;
          return SendBuffer();
        },
        /*stats=*/nullptr, [this] { return cancelled(); });
    const bool writable = WaitWritable();
    if (!writable) return Finish(grpc::Status::CANCELLED);
    if (!format_error.ok()) return Finish(ToGrpcStatus(format_error));
    if (!status.ok()) return Finish(ToGrpcStatus(status));
    if (buffer_.empty()) return Finish(grpc::Status::OK);
    TakeBuffer();
    StartWriteAndFinish(&chunk_, grpc::WriteOptions(), grpc::Status::OK);
  }

  HistoryStore* const store_;
  const HistoryFormatter formatter_;
  const absl::optional<absl::Time> since_;
  const size_t chunk_bytes_;
  std::atomic<int>* const active_;
  // Only the thread touches these (and gRPC the chunk while writing it).
  std::string buffer_;
  uint64_t records_in_buffer_ = 0;
  v1::ExportHistoryChunk chunk_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // Last, so the thread starts once everything else is built.
  std::thread thread_;
};

}  // namespace

HistoryService::HistoryService(HistoryStore* store,
                               HistoryServiceOptions options)
    : store_(store), options_(std::move(options)) {}

grpc::ServerWriteReactor<v1::ExportHistoryChunk>* HistoryService::ExportHistory(
    grpc::CallbackServerContext*, const v1::ExportHistoryRequest* request) {
  using Failed = FailedStreamWriter<v1::ExportHistoryChunk>;
  if (request->format() != v1::CSV && request->format() != v1::JSON_LINES) {
    return new Failed(grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("format ", static_cast<int>(request->format()),
                     " is not one this server knows; use CSV or JSON_LINES")));
  }
  absl::optional<absl::Time> since;
  if (request->has_since()) {
    const google::protobuf::Timestamp& t = request->since();
    if (t.seconds() < TimeUtil::kTimestampMinSeconds ||
        t.seconds() > TimeUtil::kTimestampMaxSeconds || t.nanos() < 0 ||
        t.nanos() > 999999999) {
      return new Failed(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("since (", t.seconds(), " s, ", t.nanos(),
                       " ns) is not a valid timestamp; give a time between "
                       "0001-01-01 and 9999-12-31 with nanos in [0, 1e9)")));
    }
    since = absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  }
  if (active_exports_.fetch_add(1) >= options_.max_concurrent_exports) {
    active_exports_.fetch_sub(1);
    return new Failed(grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat(options_.max_concurrent_exports,
                     " history exports are already running on this server; "
                     "retry when one has finished")));
  }
  return new ExportReactor(store_, request->format(), since,
                           options_.chunk_bytes, &active_exports_);
}

}  // namespace parley::history
