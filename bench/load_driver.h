// The load engine the benchmarks share (cache_bench, runtime_bench): a
// fixed number of operations kept in flight ("slots"), each completion
// recording its latency in a per-slot histogram and issuing the next
// operation, through a warm-up and a measured window; optionally paced at
// a fixed rate instead (open loop); the CPU use of watched processes over
// the window; results as JSON and text lines; and the wait for the cache
// tier to be ready.
#ifndef PARLEY_BENCH_LOAD_DRIVER_H_
#define PARLEY_BENCH_LOAD_DRIVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"

namespace parley::bench {

using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------ histogram

// A log-linear latency histogram in the manner of HdrHistogram: values
// below 64 ns are exact, above that each power of two of nanoseconds has 64
// buckets, so a quantile is off by less than 1.6%. Fixed size: recording
// never allocates.
class LatencyHistogram {
 public:
  void Record(int64_t nanos) {
    ++counts_[IndexOf(nanos < 0 ? 0 : static_cast<uint64_t>(nanos))];
    ++total_;
  }

  void Merge(const LatencyHistogram& other);

  uint64_t total() const { return total_; }

  // The q-quantile (0 < q <= 1) in microseconds: the midpoint of the bucket
  // holding the ceil(q * total)-th smallest value; 0 when empty.
  double QuantileMicros(double q) const;

 private:
  static constexpr int kSubBits = 6;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) * kSub;

  static size_t IndexOf(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    const int msb = 63 - __builtin_clzll(v);
    const int shift = msb - kSubBits;
    return static_cast<size_t>((msb - kSubBits + 1) * kSub +
                               ((v >> shift) - kSub));
  }

  static double Midpoint(size_t index);

  std::vector<uint64_t> counts_ = std::vector<uint64_t>(kBuckets, 0);
  uint64_t total_ = 0;
};

// ------------------------------------------------------ the load engine

// What the slots of one mode share: the phase (warm-up, measured,
// stopping), how many slots still run, and the first error seen.
class Window {
 public:
  enum Phase : int { kWarmup = 0, kMeasure = 1, kStop = 2 };

  Phase phase() const {
    return static_cast<Phase>(phase_.load(std::memory_order_acquire));
  }
  void SetPhase(Phase phase) { phase_.store(phase, std::memory_order_release); }

  void SlotStarted();
  void SlotStopped();

  // True once every slot stopped; false after `timeout`.
  bool WaitStopped(absl::Duration timeout);

  void NoteError(absl::string_view message);
  std::string first_error() const;

 private:
  std::atomic<int> phase_{kWarmup};
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

class Pacer;

// One operation in flight: Issue() starts an operation whose completion
// calls Done(), which records it (during the measured phase) and issues
// the next one, until the window stops. Each slot's state is touched by
// one operation at a time, so it needs no lock.
//
// With a Pacer, a slot that finished an operation waits idle until the
// pacer hands it the next operation when that one is due; its latency then
// runs from when it was due, not from when it was sent.
class Slot {
 public:
  Slot(Window* window, uint64_t seed, Pacer* pacer = nullptr)
      : window_(window), pacer_(pacer), random_(seed | 1) {}
  virtual ~Slot() = default;

  void Start();

  const LatencyHistogram& histogram() const { return histogram_; }
  uint64_t errors() const { return errors_; }

 protected:
  // Starts one operation that calls Done() exactly once, possibly on
  // another thread; must not touch the slot once the call is started.
  virtual void Issue() = 0;

  void Done(bool ok, absl::string_view error);

  // When the operation in flight started (with a Pacer: when it was due).
  Clock::time_point started() const { return started_; }

  // A uniformly chosen index below `n` (xorshift64*).
  uint32_t Pick(uint32_t n) {
    random_ ^= random_ >> 12;
    random_ ^= random_ << 25;
    random_ ^= random_ >> 27;
    return static_cast<uint32_t>((random_ * 0x2545F4914F6CDD1DULL >> 32) % n);
  }

 private:
  friend class Pacer;

  void Next();
  // Issues the next operation, due at `due` (the pacer's thread).
  void IssueDue(Clock::time_point due) {
    started_ = due;
    Issue();
  }

  Window* const window_;
  Pacer* const pacer_;
  uint64_t random_;
  Clock::time_point started_;
  LatencyHistogram histogram_;
  uint64_t errors_ = 0;
};

// Open-loop pacing: operation k of a mode is due at start + k / rate and
// is issued then by one of the mode's idle slots, from the pacer's thread.
// The slots bound the operations in flight; when none is idle, due
// operations wait, and each one's latency still counts from when it was
// due (no coordinated omission: a server that falls behind is charged for
// the queue it causes).
class Pacer {
 public:
  explicit Pacer(double ops_per_second);
  ~Pacer();

  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  double ops_per_second() const { return ops_per_second_; }

  // Starts handing due operations to idle slots of `window`'s mode, from
  // now; call before the slots start.
  void Start(Window* window);
  // Once the window's phase is kStop: stops the thread and stops the idle
  // slots (busy ones stop when their operation completes).
  void Stop();

 private:
  friend class Slot;

  // `slot` finished its operation and waits for the next.
  void Idle(Slot* slot);
  void Loop();

  const double ops_per_second_;
  Window* window_ = nullptr;
  std::thread thread_;
  absl::Mutex mu_;
  std::deque<Slot*> idle_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// Unary Ping of a cache node through the stub's callback API, each call to
// one of `stubs` picked at random (one node for ping, every node for
// ping_spread).
class UnaryPingSlot : public Slot {
 public:
  UnaryPingSlot(Window* window, uint64_t seed,
                std::vector<v1::CacheNode::Stub*> stubs, absl::Duration timeout)
      : Slot(window, seed), stubs_(std::move(stubs)), timeout_(timeout) {}

 protected:
  void Issue() override;

 private:
  const std::vector<v1::CacheNode::Stub*> stubs_;
  const absl::Duration timeout_;
  std::optional<grpc::ClientContext> context_;
  v1::PingRequest request_;
  v1::PingResponse response_;
};

// ------------------------------------------------------------ CPU use

// A process whose CPU use is reported; pid 0 is this process, pid -1 the
// whole machine (every process, busy time of all CPUs).
struct Watched {
  std::string name;
  int pid = 0;
};

// CPU time (user + system) a process used so far, from /proc/<pid>/stat
// (for pid -1: the machine's busy time, from /proc/stat); -1 when it cannot
// be read.
double CpuSeconds(int pid);

// "name=pid,..." (the --server_pids flag) as the processes to watch, this
// process ("bench") first.
absl::StatusOr<std::vector<Watched>> ParseServerPids(absl::string_view flag);

// ------------------------------------------------------------ results

struct Result {
  std::string mode;
  std::string target;
  double seconds = 0;
  uint64_t ops = 0;
  uint64_t errors = 0;
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  std::string first_error;
  // Percent of one core each watched process used in the window.
  std::vector<std::pair<std::string, double>> cpu_percent;

  double ops_per_sec() const { return seconds > 0 ? ops / seconds : 0; }
};

// `s` as a JSON string literal.
std::string JsonString(absl::string_view s);

// A field of a benchmark's own in a result's JSON line: its name and its
// value already in JSON (e.g. "32", JsonString("demo")).
using JsonField = std::pair<std::string, std::string>;

// One JSON object: mode, ops_per_sec, p50_us, p99_us, p999_us, errors,
// ops, seconds, then `extra` in order, then target, cpu_percent and
// first_error.
std::string ToJson(const Result& r, const std::vector<JsonField>& extra);

// One readable line (two with an error).
std::string ToText(const Result& r);

struct RunOptions {
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration duration = absl::Seconds(10);
  // How long in-flight operations may take to finish after the window.
  absl::Duration drain = absl::Seconds(30);
  // What stopped answering when they do not (for the error).
  std::string servers = "the tier";
};

// Runs one mode's slots through warm-up and the measured window, stops
// them and gathers the figures. With `pacer`, the slots are paced by it
// (they must have been made with it). On an error, operations may still
// reference the slots: the caller must leave them alive.
absl::StatusOr<Result> RunSlots(const std::string& mode,
                                const std::string& target, Window& window,
                                std::vector<std::unique_ptr<Slot>>& slots,
                                const std::vector<Watched>& watched,
                                const RunOptions& options,
                                Pacer* pacer = nullptr);

// ------------------------------------------------------------ the tier

std::unique_ptr<v1::CacheNode::Stub> NodeStub(const std::string& address);

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout);

// Waits until the coordinator's partition table names `expect_nodes` cache
// nodes, each on the table's epoch and serving every partition it holds
// (no promotion or catch-up left), with every partition having a serving
// primary; returns that table.
absl::StatusOr<v1::PartitionTable> WaitForTier(
    v1::Coordinator::Stub& coordinator, int expect_nodes,
    absl::Duration timeout);

}  // namespace parley::bench

#endif  // PARLEY_BENCH_LOAD_DRIVER_H_
