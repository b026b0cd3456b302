#ifndef PARLEY_CACHE_NODE_FREE_SPACE_MONITOR_H_
#define PARLEY_CACHE_NODE_FREE_SPACE_MONITOR_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace parley::cache {

// Space of the filesystem holding a path.
struct FilesystemSpace {
  // Free to unprivileged users (statvfs f_bavail), in bytes.
  uint64_t available_bytes = 0;
  // Size of the filesystem, in bytes.
  uint64_t total_bytes = 0;
};

// statvfs(2) of the filesystem holding `path`.
absl::StatusOr<FilesystemSpace> StatFilesystem(const std::string& path);

// How a FreeSpaceMonitor watches a directory.
struct FreeSpaceOptions {
  // The directory whose filesystem is watched (a node's data_dir).
  std::string path;
  // Space kept free: writes that would leave less are refused. Capped at
  // 1/16 of the filesystem's size, so that a small volume still holds
  // data. 0 turns the check off.
  uint64_t min_free_bytes = 64 << 20;
  // The filesystem is read again at least this often while writes go on
  // (and whenever a write would not fit in what the last reading left).
  absl::Duration refresh_interval = absl::Seconds(1);
  // Reads the filesystem (tests substitute a fake); StatFilesystem if null.
  std::function<absl::StatusOr<FilesystemSpace>(const std::string&)> stat;
  // The current time; absl::Now if null.
  std::function<absl::Time()> now;
};

// Watches the free space of a node's data_dir so that the node refuses
// writes (RESOURCE_EXHAUSTED, naming the directory and the space left)
// before its filesystem fills up, instead of letting RocksDB fail on a
// full disk. Cheap per write: the space of the last reading is counted
// down by every write reserved since, and the filesystem is read again
// only when a write would not fit in it, or after `refresh_interval`.
// Low space is a state with hysteresis: entered when a write would leave
// less than the reserve free, left once a reading finds a quarter of the
// reserve more free than when it was entered (and at least 1.25 times the
// reserve); each change is logged once. Thread-safe.
class FreeSpaceMonitor {
 public:
  explicit FreeSpaceMonitor(FreeSpaceOptions options);

  // Accounts for a write of about `bytes` to the data_dir: OK if it fits
  // above the reserve, else RESOURCE_EXHAUSTED (and nothing is counted).
  // Every write is refused while the space is low. After an OK, call
  // Release(bytes) once the write is done (or failed), so that readings
  // taken meanwhile still count it.
  absl::Status Reserve(uint64_t bytes);

  // Ends a reservation: the write is on disk (or failed).
  void Release(uint64_t bytes);

  // Reads the filesystem again (writes call it when needed; a node also
  // calls it periodically, so that freed space is noticed without writes).
  void Refresh();

  // True while writes are refused.
  bool low() const;

  // Free bytes: the last reading minus the writes reserved since.
  uint64_t available_bytes() const;

  // The space kept free, in bytes (min_free_bytes, capped by the size of
  // the filesystem at the last reading).
  uint64_t reserve_bytes() const;

  // True when at least `factor` times the reserve is free.
  bool HasFree(double factor) const;

  const std::string& path() const { return options_.path; }

 private:
  void RefreshLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnterLowLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool FitsLocked(uint64_t bytes) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string DescribeLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const FreeSpaceOptions options_;
  mutable absl::Mutex mu_;
  bool read_ ABSL_GUARDED_BY(mu_) = false;
  bool low_ ABSL_GUARDED_BY(mu_) = false;
  bool stat_failing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t available_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t reserve_ ABSL_GUARDED_BY(mu_) = 0;
  // While low: free space at which writes resume.
  uint64_t resume_at_ ABSL_GUARDED_BY(mu_) = 0;
  // Bytes reserved since the last reading, or before it and not yet
  // released (that reading may not show them).
  uint64_t written_since_ ABSL_GUARDED_BY(mu_) = 0;
  // Bytes reserved and not yet released.
  uint64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_read_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// True for the RESOURCE_EXHAUSTED of FreeSpaceMonitor::Reserve (a write
// refused before the disk is full), as opposed to a failed disk write.
bool IsLowSpaceRefusal(const absl::Status& status);

// "512 KiB", "63.8 MiB", "2.1 GiB".
std::string FormatBytes(uint64_t bytes);

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_FREE_SPACE_MONITOR_H_
