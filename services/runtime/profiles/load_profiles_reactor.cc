#include "services/runtime/profiles/load_profiles_reactor.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc_status.h"

namespace parley::profiles {

LoadProfilesReactor::LoadProfilesReactor(ProfileStore* store,
                                         const ChannelFinder* find_channel,
                                         const LoadProfilesOptions& options,
                                         std::atomic<int>* active_loads)
    : store_(store),
      find_channel_(find_channel),
      options_(options),
      active_loads_(active_loads) {
  StartRead(&incoming_);
  thread_ = std::thread([this] { Run(); });
}

void LoadProfilesReactor::OnReadDone(bool ok) {
  absl::MutexLock lock(&mu_);
  if (ok) {
    inbox_ = std::move(incoming_);
    incoming_.Clear();
  } else {
    reads_done_ = true;
  }
}

void LoadProfilesReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) cancelled_ = true;
}

void LoadProfilesReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
}

void LoadProfilesReactor::OnDone() {
  thread_.join();
  active_loads_->fetch_sub(1);
  delete this;
}

bool LoadProfilesReactor::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

absl::optional<v1::LoadProfilesRequest> LoadProfilesReactor::NextMessage() {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return inbox_.has_value() || reads_done_ || cancelled_;
  };
  mu_.Await(absl::Condition(&ready));
  if (cancelled_ || !inbox_.has_value()) return absl::nullopt;
  absl::optional<v1::LoadProfilesRequest> message = std::move(inbox_);
  inbox_.reset();
  return message;
}

bool LoadProfilesReactor::WaitWritable() {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !writing_ || cancelled_;
  };
  mu_.Await(absl::Condition(&ready));
  return !cancelled_;
}

v1::LoadProfilesProgress LoadProfilesReactor::Progress(bool done) const {
  v1::LoadProfilesProgress progress;
  const LoadReport& report = loader_->report();
  progress.set_bytes_processed(report.bytes_processed);
  progress.set_rows_read(report.rows_read);
  progress.set_rows_stored(writer_->stored());
  progress.set_rows_rejected(report.rows_rejected);
  if (done) {
    const int listed = std::min<int>(static_cast<int>(report.errors.size()),
                                     options_.max_listed_errors);
    for (int i = 0; i < listed; ++i) {
      v1::ProfileRowError* error = progress.add_errors();
      error->set_line(report.errors[i].line);
      error->set_column(report.errors[i].column);
      error->set_message(report.errors[i].message);
    }
    progress.set_errors_not_listed(report.rows_rejected - listed);
    progress.set_done(true);
  }
  return progress;
}

void LoadProfilesReactor::MaybeSendProgress(bool force) {
  if (!loader_.has_value()) return;
  const int64_t stored = writer_->stored();
  const int64_t bytes = loader_->report().bytes_processed;
  const absl::Time now = absl::Now();
  const bool changed = stored != last_sent_stored_ || bytes != last_sent_bytes_;
  const bool due =
      force ||
      stored - std::max<int64_t>(last_sent_stored_, 0) >=
          options_.progress_every_rows ||
      (changed && now - last_sent_time_ >= options_.progress_interval);
  if (!due) return;
  {
    absl::MutexLock lock(&mu_);
    if (writing_ || cancelled_) return;
    writing_ = true;
  }
  outgoing_ = Progress(/*done=*/false);
  last_sent_stored_ = stored;
  last_sent_bytes_ = bytes;
  last_sent_time_ = now;
  StartWrite(&outgoing_);
}

grpc::Status LoadProfilesReactor::Load() {
  absl::optional<v1::LoadProfilesRequest> message = NextMessage();
  if (cancelled()) return grpc::Status::CANCELLED;
  if (!message.has_value()) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        "the stream ended without a message; send interactive_channel, "
        "audience_level and the first csv_chunk in the first message");
  }
  const std::string channel_name = message->interactive_channel();
  const std::string level_name = message->audience_level();
  absl::StatusOr<v1::AudienceLevel> level =
      ResolveAudienceLevel(*find_channel_, channel_name, level_name);
  if (!level.ok()) return ToGrpcStatus(level.status());

  writer_ = store_->NewBulkWriter(level->name(), options_.write_window);
  bool store_failed = false;
  auto sink = [this, &store_failed](const ProfileRow& row) {
    if (cancelled()) return absl::CancelledError("the call was cancelled");
    absl::Status status = writer_->Add(row);
    if (!status.ok()) {
      store_failed = true;
      return status;
    }
    MaybeSendProgress(/*force=*/false);
    return absl::OkStatus();
  };
  LoadOptions load_options;
  load_options.max_kept_errors = options_.max_listed_errors;
  loader_.emplace(*level, sink, load_options);

  // Why the load stopped, with what to do about it.
  auto failure = [&](const absl::Status& status) {
    if (!store_failed) return ToGrpcStatus(status);
    return ToGrpcStatus(absl::Status(
        status.code(),
        absl::StrCat(status.message(), "; ", writer_->stored(),
                     " rows were stored before the failure; loading the same "
                     "file again is safe")));
  };

  for (int64_t index = 1; message.has_value(); ++index) {
    if (index > 1 &&
        ((!message->interactive_channel().empty() &&
          !absl::EqualsIgnoreCase(message->interactive_channel(),
                                  channel_name)) ||
         (!message->audience_level().empty() &&
          !absl::EqualsIgnoreCase(message->audience_level(), level_name)))) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("message ", index,
                       " names another interactive_channel or "
                       "audience_level than the first; one call loads one "
                       "audience level, name it in the first message only"));
    }
    const int64_t size = static_cast<int64_t>(message->csv_chunk().size());
    if (size > options_.max_chunk_bytes) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("message ", index, " carries a csv_chunk of ", size,
                       " bytes; send the file in chunks of at most ",
                       options_.max_chunk_bytes, " bytes"));
    }
    if (absl::Status status = loader_->Feed(message->csv_chunk());
        !status.ok()) {
      return failure(status);
    }
    MaybeSendProgress(/*force=*/false);
    // Every row of this chunk is submitted: read the next one.
    message.reset();
    StartRead(&incoming_);
    message = NextMessage();
  }
  if (cancelled()) return grpc::Status::CANCELLED;
  if (absl::Status status = loader_->Finish(); !status.ok()) {
    return failure(status);
  }
  if (absl::Status status = writer_->Finish(); !status.ok()) {
    store_failed = true;
    return failure(status);
  }
  return grpc::Status::OK;
}

namespace {

// A status whose message fits in the call's trailers (a bad header could
// otherwise list a megabyte of column names).
grpc::Status Bounded(const grpc::Status& status) {
  constexpr size_t kMaxMessage = 2000;
  if (status.error_message().size() <= kMaxMessage) return status;
  return grpc::Status(
      status.error_code(),
      absl::StrCat(status.error_message().substr(0, kMaxMessage), "..."));
}

}  // namespace

void LoadProfilesReactor::Run() {
  const grpc::Status status = Bounded(Load());
  // Nothing stays in flight once the call ends.
  if (writer_ != nullptr) writer_->Finish().IgnoreError();
  const bool writable = WaitWritable();
  if (status.ok() && writable) {
    outgoing_ = Progress(/*done=*/true);
    StartWriteAndFinish(&outgoing_, grpc::WriteOptions(), grpc::Status::OK);
    return;
  }
  Finish(status.ok() ? grpc::Status::CANCELLED : status);
}

}  // namespace parley::profiles
