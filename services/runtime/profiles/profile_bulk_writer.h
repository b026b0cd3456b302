#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_BULK_WRITER_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_BULK_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "cache_node/cache_client.h"
#include "services/runtime/profiles/profile_row_parser.h"

namespace parley::profiles {

// Stores many profiles of one audience level in the cache tier fast: each
// row is an asynchronous put (row.key -> EncodeProfile(row.attributes), no
// expiry), with at most `window` in flight. Writing a row again writes the
// same bytes under the same key, so a reload changes nothing. Thread-safe.
class ProfileBulkWriter {
 public:
  // `client` must outlive the writer; `ns` is the level's namespace.
  ProfileBulkWriter(cache::CacheClient* client, std::string ns,
                    int window = 256);
  // Waits for the writes in flight.
  ~ProfileBulkWriter();

  ProfileBulkWriter(const ProfileBulkWriter&) = delete;
  ProfileBulkWriter& operator=(const ProfileBulkWriter&) = delete;

  // Starts storing `row`, first waiting while `window` writes are in
  // flight. Returns the first write failure seen so far, if any (then the
  // row is not written: the load should stop).
  absl::Status Add(const ProfileRow& row);

  // Waits until every added row is stored or failed; returns the first
  // failure, if any.
  absl::Status Finish();

  // Rows stored so far.
  int64_t stored() const;

 private:
  void OnWritten(const absl::Status& status);

  cache::CacheClient* const client_;
  const std::string ns_;
  const int window_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t stored_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_BULK_WRITER_H_
