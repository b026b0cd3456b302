#include "services/runtime/profiles/profile_bulk_writer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/runtime/profiles/profile_codec.h"

namespace parley::profiles {

ProfileBulkWriter::ProfileBulkWriter(cache::CacheClient* client, std::string ns,
                                     int window)
    : client_(client), ns_(std::move(ns)), window_(std::max(1, window)) {}

ProfileBulkWriter::~ProfileBulkWriter() { Finish().IgnoreError(); }

absl::Status ProfileBulkWriter::Add(const ProfileRow& row) {
  {
    absl::MutexLock lock(&mu_);
    auto has_room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return in_flight_ < window_ || !first_error_.ok();
    };
    mu_.Await(absl::Condition(&has_room));
    if (!first_error_.ok()) return first_error_;
    ++in_flight_;
  }
  v1::PipelineRequest request;
  v1::PutRequest* put = request.mutable_put();
  put->set_namespace_(ns_);
  put->set_key(row.key);
  put->set_value(EncodeProfile(row.attributes));
  const int64_t line = row.line;
  client_->Submit(std::move(request),
                  [this, line](absl::StatusOr<v1::PipelineResponse> response) {
                    absl::Status status = response.status();
                    if (!status.ok()) {
                      status = absl::Status(
                          status.code(),
                          absl::StrCat("storing the profile of line ", line,
                                       " failed: ", status.message()));
                    }
                    OnWritten(status);
                  });
  return absl::OkStatus();
}

void ProfileBulkWriter::OnWritten(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  --in_flight_;
  if (status.ok()) {
    ++stored_;
  } else if (first_error_.ok()) {
    first_error_ = status;
  }
}

absl::Status ProfileBulkWriter::Finish() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]()
                  ABSL_SHARED_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
  mu_.Await(absl::Condition(&idle));
  return first_error_;
}

int64_t ProfileBulkWriter::stored() const {
  absl::MutexLock lock(&mu_);
  return stored_;
}

}  // namespace parley::profiles
