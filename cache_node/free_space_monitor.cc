#include "cache_node/free_space_monitor.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace parley::cache {
namespace {

// The reserve is at most this fraction of the filesystem.
constexpr uint64_t kMaxReserveFraction = 16;
// Marks the status of a refused reservation.
constexpr absl::string_view kLowSpacePayload =
    "type.parley.dev/parley.cache.LowDiskSpace";

}  // namespace

absl::StatusOr<FilesystemSpace> StatFilesystem(const std::string& path) {
  struct statvfs stats;
  if (statvfs(path.c_str(), &stats) != 0) {
    return absl::InternalError(
        absl::StrCat("statvfs('", path, "'): ", std::strerror(errno)));
  }
  FilesystemSpace space;
  space.available_bytes = static_cast<uint64_t>(stats.f_bavail) *
                          static_cast<uint64_t>(stats.f_frsize);
  space.total_bytes = static_cast<uint64_t>(stats.f_blocks) *
                      static_cast<uint64_t>(stats.f_frsize);
  return space;
}

std::string FormatBytes(uint64_t bytes) {
  constexpr double kMiB = 1 << 20;
  if (bytes < (uint64_t{1} << 20)) return absl::StrCat(bytes / 1024, " KiB");
  if (bytes < (uint64_t{1} << 30)) {
    return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / kMiB);
  }
  return absl::StrFormat("%.1f GiB", static_cast<double>(bytes) / kMiB / 1024);
}

FreeSpaceMonitor::FreeSpaceMonitor(FreeSpaceOptions options)
    : options_([&] {
        if (!options.stat) options.stat = StatFilesystem;
        if (!options.now) options.now = [] { return absl::Now(); };
        return std::move(options);
      }()) {}

void FreeSpaceMonitor::RefreshLocked(absl::Time now) {
  last_read_ = now;
  absl::StatusOr<FilesystemSpace> space = options_.stat(options_.path);
  if (!space.ok()) {
    // Writes go on (RocksDB reports a full disk itself); said once.
    if (!stat_failing_) {
      spdlog::error("cannot read the free space of data_dir '{}': {}",
                    options_.path, space.status().ToString());
    }
    stat_failing_ = true;
    return;
  }
  stat_failing_ = false;
  read_ = true;
  available_ = space->available_bytes;
  total_ = space->total_bytes;
  written_since_ = in_flight_;
  reserve_ = std::min(options_.min_free_bytes, total_ / kMaxReserveFraction);
  if (low_ && available_ >= std::max(resume_at_, reserve_ + reserve_ / 4)) {
    low_ = false;
    spdlog::info("data_dir '{}' has {} free again; writes are accepted",
                 options_.path, FormatBytes(available_));
  } else if (!low_ && available_ < reserve_) {
    EnterLowLocked();
  }
}

void FreeSpaceMonitor::EnterLowLocked() {
  low_ = true;
  // Writes resume once a quarter of the reserve more than now is free.
  resume_at_ = available_ + reserve_ / 4;
  spdlog::warn("data_dir '{}' is low on space; writes are refused: {}",
               options_.path, DescribeLocked());
}

bool FreeSpaceMonitor::FitsLocked(uint64_t bytes) const {
  return !low_ && written_since_ + bytes + reserve_ <= available_;
}

std::string FreeSpaceMonitor::DescribeLocked() const {
  const uint64_t left =
      available_ > written_since_ ? available_ - written_since_ : 0;
  return absl::StrCat("data_dir '", options_.path, "' has ", FormatBytes(left),
                      " free of ", FormatBytes(total_),
                      ", and this cache node "
                      "keeps ",
                      FormatBytes(reserve_),
                      " free (--min_free_disk_mb, at most 1/16 of the "
                      "filesystem); writes are accepted again once space is "
                      "freed");
}

absl::Status FreeSpaceMonitor::Reserve(uint64_t bytes) {
  if (options_.min_free_bytes == 0) return absl::OkStatus();
  const absl::Time now = options_.now();
  absl::MutexLock lock(&mu_);
  bool refreshed = false;
  if (!read_ || now - last_read_ >= options_.refresh_interval) {
    RefreshLocked(now);
    refreshed = true;
  }
  if (!read_) {  // Unknown: RocksDB will tell.
    in_flight_ += bytes;
    return absl::OkStatus();
  }
  if (FitsLocked(bytes)) {
    written_since_ += bytes;
    in_flight_ += bytes;
    return absl::OkStatus();
  }
  // The last reading is used up (or the space is low): read again before
  // refusing.
  if (!refreshed) RefreshLocked(now);
  if (FitsLocked(bytes)) {
    written_since_ += bytes;
    in_flight_ += bytes;
    return absl::OkStatus();
  }
  if (!low_) EnterLowLocked();
  absl::Status refused = absl::ResourceExhaustedError(
      absl::StrCat("cache node cannot take the write: ", DescribeLocked()));
  refused.SetPayload(kLowSpacePayload, absl::Cord("1"));
  return refused;
}

bool IsLowSpaceRefusal(const absl::Status& status) {
  return status.code() == absl::StatusCode::kResourceExhausted &&
         status.GetPayload(kLowSpacePayload).has_value();
}

void FreeSpaceMonitor::Release(uint64_t bytes) {
  if (options_.min_free_bytes == 0) return;
  absl::MutexLock lock(&mu_);
  in_flight_ -= std::min(in_flight_, bytes);
}

void FreeSpaceMonitor::Refresh() {
  if (options_.min_free_bytes == 0) return;
  const absl::Time now = options_.now();
  absl::MutexLock lock(&mu_);
  RefreshLocked(now);
}

bool FreeSpaceMonitor::low() const {
  absl::MutexLock lock(&mu_);
  return low_;
}

uint64_t FreeSpaceMonitor::available_bytes() const {
  absl::MutexLock lock(&mu_);
  return available_ > written_since_ ? available_ - written_since_ : 0;
}

uint64_t FreeSpaceMonitor::reserve_bytes() const {
  absl::MutexLock lock(&mu_);
  return reserve_;
}

bool FreeSpaceMonitor::HasFree(double factor) const {
  absl::MutexLock lock(&mu_);
  const uint64_t left =
      available_ > written_since_ ? available_ - written_since_ : 0;
  return static_cast<double>(left) >= factor * static_cast<double>(reserve_);
}

}  // namespace parley::cache
