#include "cache_node/free_space_monitor.h"

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/status_matchers.h"

namespace parley::cache {
namespace {

using ::parley::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;

// A filesystem whose space the test sets, counting how often it is read.
struct FakeFilesystem {
  uint64_t available = 10 * kGiB;
  uint64_t total = 100 * kGiB;
  bool failing = false;
  int reads = 0;
};

class FreeSpaceMonitorTest : public ::testing::Test {
 protected:
  std::unique_ptr<FreeSpaceMonitor> Make(uint64_t min_free_bytes) {
    FreeSpaceOptions options;
    options.path = "/data/cache-1";
    options.min_free_bytes = min_free_bytes;
    options.refresh_interval = absl::Seconds(1);
    std::shared_ptr<FakeFilesystem> fs = fs_;
    options.stat =
        [fs](const std::string& path) -> absl::StatusOr<FilesystemSpace> {
      EXPECT_EQ(path, "/data/cache-1");
      ++fs->reads;
      if (fs->failing) return absl::InternalError("statvfs: I/O error");
      return FilesystemSpace{fs->available, fs->total};
    };
    std::shared_ptr<absl::Time> now = now_;
    options.now = [now] { return *now; };
    return std::make_unique<FreeSpaceMonitor>(options);
  }

  void Advance(absl::Duration d) { *now_ += d; }

  // Reserves `bytes` and, when that succeeds, writes them (the filesystem
  // has that much less free).
  absl::Status Write(FreeSpaceMonitor& monitor, uint64_t bytes) {
    absl::Status s = monitor.Reserve(bytes);
    if (s.ok()) {
      fs_->available -= bytes;
      monitor.Release(bytes);
    }
    return s;
  }

  std::shared_ptr<FakeFilesystem> fs_ = std::make_shared<FakeFilesystem>();
  std::shared_ptr<absl::Time> now_ =
      std::make_shared<absl::Time>(absl::FromUnixSeconds(1'700'000'000));
};

TEST_F(FreeSpaceMonitorTest, RefusesAWriteThatWouldEatIntoTheReserve) {
  fs_->available = 64 * kMiB + 100 * kKiB;
  auto monitor = Make(64 * kMiB);
  EXPECT_TRUE(Write(*monitor, 60 * kKiB).ok());
  EXPECT_FALSE(monitor->low());
  EXPECT_EQ(monitor->available_bytes(), 64 * kMiB + 40 * kKiB);

  // The next one would leave less than 64 MiB.
  EXPECT_THAT(
      Write(*monitor, 60 * kKiB),
      StatusIs(absl::StatusCode::kResourceExhausted,
               AllOf(HasSubstr("'/data/cache-1'"), HasSubstr("64.0 MiB free"),
                     HasSubstr("keeps 64.0 MiB free"),
                     HasSubstr("--min_free_disk_mb"))));
  EXPECT_TRUE(monitor->low());
  // While low, even a write that would fit is refused.
  EXPECT_THAT(Write(*monitor, 1),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("")));
}

TEST_F(FreeSpaceMonitorTest, CountsWritesDownBetweenReadings) {
  fs_->available = 10 * kGiB;
  auto monitor = Make(64 * kMiB);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(Write(*monitor, 16 * kKiB).ok());
  }
  EXPECT_EQ(fs_->reads, 1);
  EXPECT_EQ(monitor->available_bytes(), 10 * kGiB - 1000 * 16 * kKiB);

  // Read again once the interval passed.
  Advance(absl::Seconds(1));
  ASSERT_TRUE(Write(*monitor, 16 * kKiB).ok());
  EXPECT_EQ(fs_->reads, 2);
  EXPECT_EQ(monitor->available_bytes(), 10 * kGiB - 1001 * 16 * kKiB);
}

TEST_F(FreeSpaceMonitorTest, ReadsAgainBeforeRefusing) {
  fs_->available = 64 * kMiB + 32 * kKiB;
  auto monitor = Make(64 * kMiB);
  ASSERT_TRUE(monitor->Reserve(32 * kKiB).ok());
  EXPECT_EQ(fs_->reads, 1);
  // Someone freed space meanwhile: the write that does not fit in the last
  // reading reads again and goes through.
  fs_->available = 128 * kMiB;
  EXPECT_TRUE(monitor->Reserve(32 * kKiB).ok());
  EXPECT_EQ(fs_->reads, 2);
  EXPECT_FALSE(monitor->low());
}

TEST_F(FreeSpaceMonitorTest, ReadingsCountWritesNotDoneYet) {
  fs_->available = 64 * kMiB + 100 * kKiB;
  auto monitor = Make(64 * kMiB);
  // Two writes reserved and still going on when the filesystem is read
  // again (it does not show them yet): they still count.
  ASSERT_TRUE(monitor->Reserve(40 * kKiB).ok());
  ASSERT_TRUE(monitor->Reserve(40 * kKiB).ok());
  Advance(absl::Seconds(1));
  monitor->Refresh();
  EXPECT_EQ(monitor->available_bytes(), 64 * kMiB + 20 * kKiB);
  EXPECT_FALSE(monitor->Reserve(40 * kKiB).ok());
  // Done: the filesystem shows them, and they are not counted twice.
  fs_->available -= 80 * kKiB;
  monitor->Release(40 * kKiB);
  monitor->Release(40 * kKiB);
  Advance(absl::Seconds(1));
  monitor->Refresh();
  EXPECT_EQ(monitor->available_bytes(), 64 * kMiB + 20 * kKiB);
}

TEST_F(FreeSpaceMonitorTest, LowUntilAQuarterMoreThanTheReserveIsFree) {
  fs_->available = 10 * kMiB;
  auto monitor = Make(64 * kMiB);
  monitor->Refresh();
  EXPECT_TRUE(monitor->low());
  EXPECT_FALSE(monitor->Reserve(1).ok());

  fs_->available = 70 * kMiB;  // Above the reserve, but not by a quarter.
  monitor->Refresh();
  EXPECT_TRUE(monitor->low());
  EXPECT_FALSE(monitor->Reserve(1).ok());
  EXPECT_TRUE(monitor->HasFree(1.0));
  EXPECT_FALSE(monitor->HasFree(2.0));

  fs_->available = 80 * kMiB;
  monitor->Refresh();
  EXPECT_FALSE(monitor->low());
  EXPECT_TRUE(monitor->Reserve(kMiB).ok());

  fs_->available = 200 * kMiB;
  monitor->Refresh();
  EXPECT_TRUE(monitor->HasFree(2.0));
}

TEST_F(FreeSpaceMonitorTest, ARefusedWriteDoesNotFlipBackAtTheSameLevel) {
  // 80 MiB free, 64 kept: a 20 MiB write is refused although 1.25 times
  // the reserve is free; the next reading at the same level stays low.
  fs_->available = 80 * kMiB;
  auto monitor = Make(64 * kMiB);
  EXPECT_FALSE(Write(*monitor, 20 * kMiB).ok());
  EXPECT_TRUE(monitor->low());
  Advance(absl::Seconds(1));
  monitor->Refresh();
  EXPECT_TRUE(monitor->low());
  fs_->available = 95 * kMiB;
  monitor->Refresh();
  EXPECT_TRUE(monitor->low());
  fs_->available = 96 * kMiB;  // 80 + 64 / 4.
  monitor->Refresh();
  EXPECT_FALSE(monitor->low());
}

TEST_F(FreeSpaceMonitorTest, TheReserveIsAtMostASixteenthOfTheFilesystem) {
  fs_->total = 2 * kMiB;  // A tiny volume: 128 KiB are kept free, not 64 MiB.
  fs_->available = 2 * kMiB - 100 * kKiB;
  auto monitor = Make(64 * kMiB);
  EXPECT_TRUE(Write(*monitor, 16 * kKiB).ok());
  EXPECT_EQ(monitor->reserve_bytes(), 128 * kKiB);
  int accepted = 1;
  while (Write(*monitor, 16 * kKiB).ok()) ++accepted;
  // (2048 - 100 - 128) / 16 writes fit, read again once the first reading
  // is used up.
  EXPECT_EQ(accepted, 113);
  EXPECT_TRUE(monitor->low());
}

TEST_F(FreeSpaceMonitorTest, ZeroTurnsTheCheckOff) {
  fs_->available = 0;
  auto monitor = Make(0);
  EXPECT_TRUE(monitor->Reserve(kGiB).ok());
  monitor->Refresh();
  EXPECT_FALSE(monitor->low());
  EXPECT_EQ(fs_->reads, 0);
}

TEST_F(FreeSpaceMonitorTest, WritesGoOnWhenTheFilesystemCannotBeRead) {
  fs_->failing = true;
  auto monitor = Make(64 * kMiB);
  EXPECT_TRUE(monitor->Reserve(kMiB).ok());
  EXPECT_FALSE(monitor->low());
  fs_->failing = false;
  fs_->available = kMiB;
  Advance(absl::Seconds(1));
  EXPECT_FALSE(monitor->Reserve(kMiB).ok());
  EXPECT_TRUE(monitor->low());
}

TEST_F(FreeSpaceMonitorTest, StatFilesystemReadsARealDirectory) {
  absl::StatusOr<FilesystemSpace> space = StatFilesystem("/");
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_GT(space->total_bytes, 0u);
  EXPECT_LE(space->available_bytes, space->total_bytes);
  EXPECT_THAT(
      StatFilesystem("/no/such/directory"),
      StatusIs(absl::StatusCode::kInternal, HasSubstr("/no/such/directory")));
}

TEST(FormatBytesTest, PicksAUnit) {
  EXPECT_EQ(FormatBytes(0), "0 KiB");
  EXPECT_EQ(FormatBytes(512 * kKiB), "512 KiB");
  EXPECT_EQ(FormatBytes(64 * kMiB + 800 * kKiB), "64.8 MiB");
  EXPECT_EQ(FormatBytes(3 * kGiB / 2), "1.5 GiB");
}

}  // namespace
}  // namespace parley::cache
