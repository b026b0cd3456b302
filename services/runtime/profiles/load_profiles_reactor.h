#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_LOAD_PROFILES_REACTOR_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_LOAD_PROFILES_REACTOR_H_

#include <atomic>
#include <cstdint>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "grpcpp/support/server_callback.h"
#include "proto/parley/v1/profiles.pb.h"
#include "services/runtime/profiles/audience_level_schema.h"
#include "services/runtime/profiles/profile_bulk_writer.h"
#include "services/runtime/profiles/profile_loader.h"
#include "services/runtime/profiles/profile_store.h"

namespace parley::profiles {

// Limits and pacing of a LoadProfiles call.
struct LoadProfilesOptions {
  // Largest csv_chunk accepted.
  int64_t max_chunk_bytes = 1 << 20;
  // Profile writes in flight per load.
  int write_window = 256;
  // A progress message goes out once this many more rows are stored, or
  // once `progress_interval` passed with new input, whichever comes first.
  int64_t progress_every_rows = 1000;
  absl::Duration progress_interval = absl::Milliseconds(250);
  // Row errors listed in the last message; the rest are only counted.
  int max_listed_errors = 100;
};

// One LoadProfiles call. A thread of its own parses the chunks and submits
// their writes; the next chunk is read only once the previous one's rows
// are submitted, so memory stays bounded whatever the file size. Ends with
// the final progress (done set) or the first error. Deletes itself when
// the call is done; decrements `*active_loads` then.
class LoadProfilesReactor
    : public grpc::ServerBidiReactor<v1::LoadProfilesRequest,
                                     v1::LoadProfilesProgress> {
 public:
  LoadProfilesReactor(ProfileStore* store, const ChannelFinder* find_channel,
                      const LoadProfilesOptions& options,
                      std::atomic<int>* active_loads);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Parses and stores the whole input; the call's status.
  grpc::Status Load();
  // Runs on the thread: Load, then the last message or the error.
  void Run();
  // Waits for the next request message; nullopt at the end of the input or
  // when the call is cancelled.
  absl::optional<v1::LoadProfilesRequest> NextMessage();
  // Sends progress when it is due (or `force`d) and no write is in flight.
  void MaybeSendProgress(bool force);
  // Waits until no progress write is in flight; false if cancelled.
  bool WaitWritable();
  bool cancelled() const;
  v1::LoadProfilesProgress Progress(bool done) const;

  ProfileStore* const store_;
  const ChannelFinder* const find_channel_;
  const LoadProfilesOptions options_;
  std::atomic<int>* const active_loads_;

  // Touched by gRPC between StartRead and OnReadDone only.
  v1::LoadProfilesRequest incoming_;

  // Only the thread touches these.
  absl::optional<ProfileLoader> loader_;
  std::unique_ptr<ProfileBulkWriter> writer_;
  v1::LoadProfilesProgress outgoing_;
  int64_t last_sent_stored_ = -1;
  int64_t last_sent_bytes_ = -1;
  absl::Time last_sent_time_ = absl::InfinitePast();

  mutable absl::Mutex mu_;
  absl::optional<v1::LoadProfilesRequest> inbox_ ABSL_GUARDED_BY(mu_);
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;

  // Last, so the thread starts once everything else is built.
  std::thread thread_;
};

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_LOAD_PROFILES_REACTOR_H_
