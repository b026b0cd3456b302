// cache_bench: throughput and latency of the cache tier at a fixed
// concurrency, for unary calls (Ping, Get, Put sent straight to the key's
// primary) and for the client library's pipelined path (CacheClient::Submit
// over long-lived Pipeline streams). Each mode keeps --concurrency
// operations in flight: every completion records its latency and issues the
// next operation. Prints one JSON object per mode on stdout and a readable
// line per mode on stderr. bench/run_cache_bench.sh runs it against a
// private three-node tier; see docs/performance.md.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_node/cache_client.h"
#include "cache_node/key_codec.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/common/grpc_status.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:7400",
          "host:port of the coordinator of the tier to measure");
ABSL_FLAG(std::string, modes,
          "ping,ping_spread,get_unary,ping_pipelined,get_pipelined,put_unary,"
          "put_pipelined",
          "comma-separated modes, run in the order given (reads first, so "
          "that the flushes and compactions the writes cause do not slow "
          "them): ping (unary, one node), ping_spread (unary, a random node "
          "each call), get_unary and put_unary (unary, to the key's "
          "primary), ping_pipelined, get_pipelined and put_pipelined "
          "(CacheClient::Submit)");
ABSL_FLAG(double, duration_seconds, 10, "measured time of each mode");
ABSL_FLAG(double, warmup_seconds, 2,
          "unmeasured load before each mode's measured time");
ABSL_FLAG(int, concurrency, 32, "operations kept in flight");
ABSL_FLAG(int, value_bytes, 1024, "size of each value written");
ABSL_FLAG(int, keys, 10000,
          "size of the key space, preloaded through the client library; "
          "operations pick keys uniformly from it");
ABSL_FLAG(std::string, key_namespace, "bench", "namespace of the keys");
ABSL_FLAG(std::string, ping_address, "",
          "node the ping mode calls (default: the first node of the "
          "partition table)");
ABSL_FLAG(int, expect_nodes, 3,
          "wait until the partition table names this many cache nodes, each "
          "on the table's epoch and serving all its partitions");
ABSL_FLAG(double, ready_timeout_seconds, 90,
          "how long to wait for the tier to be ready");
ABSL_FLAG(bool, wait_only, false,
          "only wait until the tier is ready, then exit (0: ready)");
ABSL_FLAG(double, call_timeout_seconds, 10, "deadline of each unary call");
ABSL_FLAG(std::string, server_pids, "",
          "name=pid,... of server processes whose CPU use over each "
          "measured window is reported (read from /proc)");

namespace parley::bench {
namespace {

namespace v1 = parley::v1;
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

  void Merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
  }

  uint64_t total() const { return total_; }

  // The q-quantile (0 < q <= 1) in microseconds: the midpoint of the bucket
  // holding the ceil(q * total)-th smallest value; 0 when empty.
  double QuantileMicros(double q) const {
    if (total_ == 0) return 0;
    const uint64_t rank = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_))));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return Midpoint(i) / 1000.0;
    }
    return Midpoint(kBuckets - 1) / 1000.0;
  }

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

  static double Midpoint(size_t index) {
    if (index < kSub) return static_cast<double>(index);
    const uint64_t group = index / kSub;
    const uint64_t sub = index % kSub;
    const int shift = static_cast<int>(group) - 1;
    const double lower = static_cast<double>((kSub + sub) << shift);
    const double width = static_cast<double>(uint64_t{1} << shift);
    return lower + (width - 1) / 2;
  }

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

  void SlotStarted() {
    absl::MutexLock lock(&mu_);
    ++running_;
  }
  void SlotStopped() {
    absl::MutexLock lock(&mu_);
    --running_;
  }

  // True once every slot stopped; false after `timeout`.
  bool WaitStopped(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto stopped = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return running_ == 0;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&stopped), timeout);
  }

  void NoteError(absl::string_view message) {
    absl::MutexLock lock(&mu_);
    if (first_error_.empty()) first_error_ = std::string(message);
  }

  std::string first_error() const {
    absl::MutexLock lock(&mu_);
    return first_error_;
  }

 private:
  std::atomic<int> phase_{kWarmup};
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

// One operation in flight: Issue() starts an operation whose completion
// calls Done(), which records it (during the measured phase) and issues
// the next one, until the window stops. Each slot's state is touched by
// one operation at a time, so it needs no lock.
class Slot {
 public:
  Slot(Window* window, uint64_t seed) : window_(window), random_(seed | 1) {}
  virtual ~Slot() = default;

  void Start() {
    window_->SlotStarted();
    Next();
  }

  const LatencyHistogram& histogram() const { return histogram_; }
  uint64_t errors() const { return errors_; }

 protected:
  // Starts one operation that calls Done() exactly once, possibly on
  // another thread; must not touch the slot once the call is started.
  virtual void Issue() = 0;

  void Done(bool ok, absl::string_view error) {
    const Clock::time_point now = Clock::now();
    const Window::Phase phase = window_->phase();
    if (phase == Window::kMeasure) {
      if (ok) {
        histogram_.Record(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - started_)
                .count());
      } else {
        ++errors_;
      }
    }
    if (!ok) window_->NoteError(error);
    if (phase == Window::kStop) {
      window_->SlotStopped();
      return;
    }
    // No hot loop against a failing tier.
    if (!ok) absl::SleepFor(absl::Milliseconds(1));
    Next();
  }

  // A uniformly chosen index below `n` (xorshift64*).
  uint32_t Pick(uint32_t n) {
    random_ ^= random_ >> 12;
    random_ ^= random_ << 25;
    random_ ^= random_ >> 27;
    return static_cast<uint32_t>((random_ * 0x2545F4914F6CDD1DULL >> 32) % n);
  }

 private:
  void Next() {
    started_ = Clock::now();
    Issue();
  }

  Window* const window_;
  uint64_t random_;
  Clock::time_point started_;
  LatencyHistogram histogram_;
  uint64_t errors_ = 0;
};

// The keys operations pick from, and for unary calls the node that is
// each key's primary (an index into `addresses`).
struct KeySpace {
  std::string ns;
  std::vector<std::string> keys;
  std::vector<int> primary;
  std::vector<std::string> addresses;
};

std::string KeyName(int i) { return absl::StrFormat("key:%012d", i); }

// Unary Ping through the stub's callback API, each call to one of `stubs`
// picked at random (one node for ping, every node for ping_spread).
class UnaryPingSlot : public Slot {
 public:
  UnaryPingSlot(Window* window, uint64_t seed,
                std::vector<v1::CacheNode::Stub*> stubs, absl::Duration timeout)
      : Slot(window, seed), stubs_(std::move(stubs)), timeout_(timeout) {}

 protected:
  void Issue() override {
    v1::CacheNode::Stub* stub =
        stubs_.size() == 1 ? stubs_[0]
                           : stubs_[Pick(static_cast<uint32_t>(stubs_.size()))];
    context_.emplace();
    context_->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    stub->async()->Ping(&*context_, &request_, &response_,
                        [this](grpc::Status status) {
                          Done(status.ok(), status.error_message());
                        });
  }

 private:
  const std::vector<v1::CacheNode::Stub*> stubs_;
  const absl::Duration timeout_;
  std::optional<grpc::ClientContext> context_;
  v1::PingRequest request_;
  v1::PingResponse response_;
};

// Unary Get or Put of a random key, sent to the key's primary so that no
// node forwards it.
class UnaryKeySlot : public Slot {
 public:
  UnaryKeySlot(Window* window, uint64_t seed, bool put, const KeySpace* keys,
               const std::vector<std::unique_ptr<v1::CacheNode::Stub>>* stubs,
               const std::string& value, absl::Duration timeout)
      : Slot(window, seed),
        put_(put),
        keys_(keys),
        stubs_(stubs),
        timeout_(timeout) {
    get_request_.set_namespace_(keys_->ns);
    put_request_.set_namespace_(keys_->ns);
    put_request_.set_value(value);
  }

 protected:
  void Issue() override {
    const uint32_t k = Pick(static_cast<uint32_t>(keys_->keys.size()));
    auto* async = (*stubs_)[keys_->primary[k]]->async();
    context_.emplace();
    context_->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    if (put_) {
      put_request_.set_key(keys_->keys[k]);
      async->Put(&*context_, &put_request_, &put_response_,
                 [this](grpc::Status status) {
                   Done(status.ok(), status.error_message());
                 });
    } else {
      get_request_.set_key(keys_->keys[k]);
      async->Get(&*context_, &get_request_, &get_response_,
                 [this](grpc::Status status) {
                   if (status.ok() && !get_response_.found()) {
                     return Done(false, "a preloaded key was not found");
                   }
                   Done(status.ok(), status.error_message());
                 });
    }
  }

 private:
  const bool put_;
  const KeySpace* const keys_;
  const std::vector<std::unique_ptr<v1::CacheNode::Stub>>* const stubs_;
  const absl::Duration timeout_;
  std::optional<grpc::ClientContext> context_;
  v1::GetRequest get_request_;
  v1::GetResponse get_response_;
  v1::PutRequest put_request_;
  v1::PutResponse put_response_;
};

// Ping, Get or Put through the client library (CacheClient::Submit), which
// routes each operation to its primary over one Pipeline stream per node.
class PipelinedSlot : public Slot {
 public:
  enum class Op { kPing, kGet, kPut };

  PipelinedSlot(Window* window, uint64_t seed, Op op, const KeySpace* keys,
                cache::CacheClient* client, const std::string* value)
      : Slot(window, seed),
        op_(op),
        keys_(keys),
        client_(client),
        value_(value) {}

 protected:
  void Issue() override {
    v1::PipelineRequest request;
    switch (op_) {
      case Op::kPing:
        request.mutable_ping();
        break;
      case Op::kGet: {
        v1::GetRequest* get = request.mutable_get();
        get->set_namespace_(keys_->ns);
        get->set_key(keys_->keys[Pick(KeyCount())]);
        break;
      }
      case Op::kPut: {
        v1::PutRequest* put = request.mutable_put();
        put->set_namespace_(keys_->ns);
        put->set_key(keys_->keys[Pick(KeyCount())]);
        put->set_value(*value_);
        break;
      }
    }
    client_->Submit(std::move(request),
                    [this](absl::StatusOr<v1::PipelineResponse> response) {
                      if (!response.ok()) {
                        return Done(false, response.status().ToString());
                      }
                      if (op_ == Op::kGet && !response->get().found()) {
                        return Done(false, "a preloaded key was not found");
                      }
                      Done(true, "");
                    });
  }

 private:
  uint32_t KeyCount() const {
    return static_cast<uint32_t>(keys_->keys.size());
  }

  const Op op_;
  const KeySpace* const keys_;
  cache::CacheClient* const client_;
  const std::string* const value_;
};

// ------------------------------------------------------------ CPU use

// A process whose CPU use is reported; pid 0 is this process.
struct Watched {
  std::string name;
  int pid = 0;
};

// CPU time (user + system) a process used so far, from /proc/<pid>/stat;
// -1 when it cannot be read.
double CpuSeconds(int pid) {
  std::ifstream file(pid == 0 ? std::string("/proc/self/stat")
                              : absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(file, line)) return -1;
  // Fields after the command name, which is in parentheses: state is
  // field 3, utime field 14 and stime field 15.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(line).substr(close + 1), ' ', absl::SkipEmpty());
  uint64_t user = 0, system = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &user) ||
      !absl::SimpleAtoi(fields[12], &system)) {
    return -1;
  }
  return static_cast<double>(user + system) / sysconf(_SC_CLK_TCK);
}

absl::StatusOr<std::vector<Watched>> ParseServerPids(absl::string_view flag) {
  std::vector<Watched> watched = {{"bench", 0}};
  for (absl::string_view item : absl::StrSplit(flag, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(item, '=');
    Watched w;
    w.name = parts.first;
    if (w.name.empty() || !absl::SimpleAtoi(parts.second, &w.pid) ||
        w.pid <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--server_pids: '", item, "' is not name=pid (e.g. node1=1234)"));
    }
    watched.push_back(std::move(w));
  }
  return watched;
}

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

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string ToJson(const Result& r, int concurrency, int value_bytes) {
  std::vector<std::string> cpu;
  for (const auto& [name, percent] : r.cpu_percent) {
    cpu.push_back(absl::StrFormat("%s:%.1f", JsonString(name), percent));
  }
  return absl::StrFormat(
      "{\"mode\":%s,\"ops_per_sec\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
      "\"p999_us\":%.1f,\"errors\":%d,\"ops\":%d,\"seconds\":%.3f,"
      "\"concurrency\":%d,\"value_bytes\":%d,\"target\":%s,"
      "\"cpu_percent\":{%s},\"first_error\":%s}",
      JsonString(r.mode), r.ops_per_sec(), r.p50_us, r.p99_us, r.p999_us,
      r.errors, r.ops, r.seconds, concurrency, value_bytes,
      JsonString(r.target), absl::StrJoin(cpu, ","), JsonString(r.first_error));
}

std::string ToText(const Result& r) {
  std::vector<std::string> cpu;
  for (const auto& [name, percent] : r.cpu_percent) {
    cpu.push_back(absl::StrFormat("%s %.0f%%", name, percent));
  }
  std::string line = absl::StrFormat(
      "%-15s %10.0f ops/s  p50 %8.1f us  p99 %8.1f us  errors %d  cpu: %s",
      r.mode, r.ops_per_sec(), r.p50_us, r.p99_us, r.errors,
      absl::StrJoin(cpu, ", "));
  if (!r.first_error.empty()) {
    absl::StrAppend(&line, "\n                first error: ", r.first_error);
  }
  return line;
}

// Runs one mode's slots through warm-up and the measured window, stops
// them and gathers the figures.
absl::StatusOr<Result> RunSlots(const std::string& mode,
                                const std::string& target, Window& window,
                                std::vector<std::unique_ptr<Slot>>& slots,
                                const std::vector<Watched>& watched) {
  const absl::Duration warmup =
      absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds));
  const absl::Duration duration =
      absl::Seconds(absl::GetFlag(FLAGS_duration_seconds));
  window.SetPhase(Window::kWarmup);
  for (auto& slot : slots) slot->Start();
  absl::SleepFor(warmup);

  std::vector<double> cpu_before;
  for (const Watched& w : watched) cpu_before.push_back(CpuSeconds(w.pid));
  const Clock::time_point start = Clock::now();
  window.SetPhase(Window::kMeasure);
  absl::SleepFor(duration);
  window.SetPhase(Window::kStop);
  const Clock::time_point end = Clock::now();
  std::vector<double> cpu_after;
  for (const Watched& w : watched) cpu_after.push_back(CpuSeconds(w.pid));

  const absl::Duration drain =
      absl::Seconds(absl::GetFlag(FLAGS_call_timeout_seconds) + 20);
  if (!window.WaitStopped(drain)) {
    return absl::DeadlineExceededError(absl::StrCat(
        mode, ": operations still in flight ", absl::FormatDuration(drain),
        " after the window closed; the tier stopped answering"));
  }

  Result result;
  result.mode = mode;
  result.target = target;
  result.seconds = std::chrono::duration<double>(end - start).count();
  LatencyHistogram merged;
  for (const auto& slot : slots) {
    merged.Merge(slot->histogram());
    result.errors += slot->errors();
  }
  result.ops = merged.total();
  result.p50_us = merged.QuantileMicros(0.50);
  result.p99_us = merged.QuantileMicros(0.99);
  result.p999_us = merged.QuantileMicros(0.999);
  result.first_error = window.first_error();
  for (size_t i = 0; i < watched.size(); ++i) {
    if (cpu_before[i] < 0 || cpu_after[i] < 0) continue;
    result.cpu_percent.emplace_back(
        watched[i].name,
        100.0 * (cpu_after[i] - cpu_before[i]) / result.seconds);
  }
  return result;
}

// ------------------------------------------------------------ the tier

std::unique_ptr<v1::CacheNode::Stub> NodeStub(const std::string& address) {
  return v1::CacheNode::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

// Why the tier is not ready yet; OK when the coordinator's table names
// `expect_nodes` nodes and each is on its epoch, serving every partition
// it holds (no promotion or catch-up left), with every partition having a
// serving primary.
absl::Status CheckReady(v1::Coordinator::Stub& coordinator, int expect_nodes,
                        v1::PartitionTable* table) {
  grpc::Status status = coordinator.GetPartitionTable(
      Context(absl::Seconds(2)).get(), v1::GetPartitionTableRequest(), table);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("coordinator: ", FromGrpcStatus(status).ToString()));
  }
  if (table->nodes_size() != expect_nodes) {
    return absl::UnavailableError(absl::StrCat("the partition table names ",
                                               table->nodes_size(), " of ",
                                               expect_nodes, " nodes"));
  }
  uint32_t primaries = 0;
  for (const v1::CacheNodeAddress& node : table->nodes()) {
    v1::StatsResponse stats;
    status = NodeStub(node.address())
                 ->Stats(Context(absl::Seconds(2)).get(), v1::StatsRequest(),
                         &stats);
    if (!status.ok()) {
      return absl::UnavailableError(
          absl::StrCat("node ", node.id(), " at ", node.address(), ": ",
                       FromGrpcStatus(status).ToString()));
    }
    if (stats.table_epoch() != table->epoch()) {
      return absl::UnavailableError(
          absl::StrCat("node ", node.id(), " is on table epoch ",
                       stats.table_epoch(), ", not ", table->epoch()));
    }
    for (const v1::PartitionStats& p : stats.partitions()) {
      if (p.role() != "primary" && p.role() != "backup") {
        return absl::UnavailableError(
            absl::StrCat("node ", node.id(), ": partition ", p.partition(),
                         " is ", p.role()));
      }
    }
    primaries += stats.primaries();
  }
  if (primaries != table->partition_count()) {
    return absl::UnavailableError(absl::StrCat(primaries, " of ",
                                               table->partition_count(),
                                               " partitions have a primary"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::PartitionTable> WaitForTier(
    v1::Coordinator::Stub& coordinator, int expect_nodes,
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last;
  while (true) {
    v1::PartitionTable table;
    last = CheckReady(coordinator, expect_nodes, &table);
    if (last.ok()) return table;
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(250));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("the tier was not ready within ",
                   absl::FormatDuration(timeout), ": ", last.message()));
}

// The key space, with each key's primary from `table`.
absl::StatusOr<KeySpace> MakeKeySpace(const v1::PartitionTable& table,
                                      const std::string& ns, int count) {
  if (table.partition_count() == 0) {
    return absl::FailedPreconditionError("the partition table is empty");
  }
  KeySpace keys;
  keys.ns = ns;
  std::map<std::string, int> node_index;
  for (const v1::CacheNodeAddress& node : table.nodes()) {
    node_index[node.id()] = static_cast<int>(keys.addresses.size());
    keys.addresses.push_back(node.address());
  }
  std::vector<int> primary_of(table.partition_count(), -1);
  for (const v1::PartitionReplicas& p : table.partitions()) {
    if (p.partition() < primary_of.size() && p.replicas_size() > 0) {
      auto it = node_index.find(p.replicas(0));
      if (it != node_index.end()) primary_of[p.partition()] = it->second;
    }
  }
  for (int i = 0; i < count; ++i) {
    std::string key = KeyName(i);
    const uint32_t partition =
        cache::PartitionOf(ns, key, table.partition_count());
    if (primary_of[partition] < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("partition ", partition, " has no primary"));
    }
    keys.primary.push_back(primary_of[partition]);
    keys.keys.push_back(std::move(key));
  }
  return keys;
}

// Writes every key once through the client library, `concurrency` at a
// time.
absl::Status Preload(cache::CacheClient& client, const KeySpace& keys,
                     const std::string& value, int concurrency) {
  // Owned jointly by this function and the callbacks, which may still be
  // unwinding when the last one has counted itself.
  struct State {
    absl::Mutex mu;
    size_t next ABSL_GUARDED_BY(mu) = 0;
    size_t finished ABSL_GUARDED_BY(mu) = 0;
    absl::Status first_error ABSL_GUARDED_BY(mu);
    std::function<void()> issue;
    std::weak_ptr<State> self;
  };
  auto state = std::make_shared<State>();
  state->self = state;
  const size_t total = keys.keys.size();
  // Holds no reference to the state it belongs to: no cycle.
  State* const raw = state.get();
  state->issue = [raw, &client, &keys, &value, total] {
    size_t i;
    {
      absl::MutexLock lock(&raw->mu);
      if (raw->next >= total) return;
      i = raw->next++;
    }
    v1::PipelineRequest request;
    request.mutable_put()->set_namespace_(keys.ns);
    request.mutable_put()->set_key(keys.keys[i]);
    request.mutable_put()->set_value(value);
    client.Submit(std::move(request),
                  [state = raw->self.lock()](
                      absl::StatusOr<v1::PipelineResponse> response) {
                    state->issue();
                    absl::MutexLock lock(&state->mu);
                    ++state->finished;
                    if (!response.ok() && state->first_error.ok()) {
                      state->first_error = response.status();
                    }
                  });
  };
  for (int i = 0; i < concurrency; ++i) state->issue();
  absl::MutexLock lock(&state->mu);
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(state->mu) {
    return state->finished == total;
  };
  if (!state->mu.AwaitWithTimeout(absl::Condition(&done), absl::Minutes(5))) {
    return absl::DeadlineExceededError(
        absl::StrCat("preload: ", state->finished, " of ", total,
                     " writes finished in 5 minutes"));
  }
  if (!state->first_error.ok()) {
    return absl::Status(
        state->first_error.code(),
        absl::StrCat("preload: ", state->first_error.message()));
  }
  return absl::OkStatus();
}

const std::vector<std::string>& KnownModes() {
  static const auto* const modes = new std::vector<std::string>{
      "ping",           "ping_spread",   "get_unary",    "put_unary",
      "ping_pipelined", "get_pipelined", "put_pipelined"};
  return *modes;
}

int Main() {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int value_bytes = absl::GetFlag(FLAGS_value_bytes);
  const int key_count = absl::GetFlag(FLAGS_keys);
  const absl::Duration call_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_call_timeout_seconds));
  if (concurrency <= 0 || value_bytes <= 0 || key_count <= 0 ||
      absl::GetFlag(FLAGS_duration_seconds) <= 0) {
    std::fprintf(stderr,
                 "cache_bench: --concurrency, --value_bytes, --keys and "
                 "--duration_seconds must be positive\n");
    return 2;
  }
  std::vector<std::string> modes =
      absl::StrSplit(absl::GetFlag(FLAGS_modes), ',', absl::SkipEmpty());
  for (const std::string& mode : modes) {
    if (std::find(KnownModes().begin(), KnownModes().end(), mode) ==
        KnownModes().end()) {
      std::fprintf(stderr, "cache_bench: unknown mode '%s'; known: %s\n",
                   mode.c_str(), absl::StrJoin(KnownModes(), ", ").c_str());
      return 2;
    }
  }
  absl::StatusOr<std::vector<Watched>> watched =
      ParseServerPids(absl::GetFlag(FLAGS_server_pids));
  if (!watched.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n",
                 watched.status().ToString().c_str());
    return 2;
  }

  // Wait until the tier serves every partition.
  const std::string coordinator_address = absl::GetFlag(FLAGS_coordinator);
  auto coordinator = v1::Coordinator::NewStub(grpc::CreateChannel(
      coordinator_address, grpc::InsecureChannelCredentials()));
  absl::StatusOr<v1::PartitionTable> table =
      WaitForTier(*coordinator, absl::GetFlag(FLAGS_expect_nodes),
                  absl::Seconds(absl::GetFlag(FLAGS_ready_timeout_seconds)));
  if (!table.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n",
                 table.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "cache_bench: tier ready: %d nodes, %u partitions, replication "
               "factor %u, table epoch %llu\n",
               table->nodes_size(), table->partition_count(),
               table->replication_factor(),
               static_cast<unsigned long long>(table->epoch()));
  if (absl::GetFlag(FLAGS_wait_only)) return 0;

  absl::StatusOr<KeySpace> keys =
      MakeKeySpace(*table, absl::GetFlag(FLAGS_key_namespace), key_count);
  if (!keys.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n", keys.status().ToString().c_str());
    return 1;
  }
  std::vector<std::unique_ptr<v1::CacheNode::Stub>> stubs;
  for (const std::string& address : keys->addresses) {
    stubs.push_back(NodeStub(address));
  }
  std::string ping_address = absl::GetFlag(FLAGS_ping_address);
  if (ping_address.empty()) ping_address = keys->addresses.front();
  auto ping_stub = NodeStub(ping_address);

  // The value written: 1 KiB (by default) of printable bytes.
  std::string value(value_bytes, 'x');
  for (int i = 0; i < value_bytes; ++i) value[i] = 'a' + (i * 7) % 26;

  cache::CacheClientOptions options;
  options.coordinator_address = coordinator_address;
  absl::StatusOr<std::unique_ptr<cache::CacheClient>> client =
      cache::CacheClient::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n",
                 client.status().ToString().c_str());
    return 1;
  }
  const absl::Time preload_start = absl::Now();
  if (absl::Status s = Preload(**client, *keys, value, concurrency); !s.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "cache_bench: preloaded %d keys of %d bytes in %s\n",
               key_count, value_bytes,
               absl::FormatDuration(absl::Now() - preload_start).c_str());

  int exit_code = 0;
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
  // Every mode's window and slots live until the end: the last completions
  // may still be unwinding through them when a mode's results are in.
  std::vector<std::unique_ptr<Window>> windows;
  std::vector<std::vector<std::unique_ptr<Slot>>> all_slots;
  for (const std::string& mode : modes) {
    Window& window = *windows.emplace_back(std::make_unique<Window>());
    std::vector<std::unique_ptr<Slot>>& slots = all_slots.emplace_back();
    std::string target;
    for (int i = 0; i < concurrency; ++i) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      if (mode == "ping") {
        target = ping_address;
        slots.push_back(std::make_unique<UnaryPingSlot>(
            &window, seed, std::vector<v1::CacheNode::Stub*>{ping_stub.get()},
            call_timeout));
      } else if (mode == "ping_spread") {
        target =
            absl::StrCat("random node (", keys->addresses.size(), " nodes)");
        std::vector<v1::CacheNode::Stub*> all;
        for (const auto& stub : stubs) all.push_back(stub.get());
        slots.push_back(
            std::make_unique<UnaryPingSlot>(&window, seed, all, call_timeout));
      } else if (mode == "get_unary" || mode == "put_unary") {
        target =
            absl::StrCat("key's primary (", keys->addresses.size(), " nodes)");
        slots.push_back(std::make_unique<UnaryKeySlot>(
            &window, seed, mode == "put_unary", &*keys, &stubs, value,
            call_timeout));
      } else {
        const PipelinedSlot::Op op =
            mode == "ping_pipelined"  ? PipelinedSlot::Op::kPing
            : mode == "get_pipelined" ? PipelinedSlot::Op::kGet
                                      : PipelinedSlot::Op::kPut;
        target = "CacheClient::Submit";
        slots.push_back(std::make_unique<PipelinedSlot>(
            &window, seed, op, &*keys, client->get(), &value));
      }
    }
    absl::StatusOr<Result> result =
        RunSlots(mode, target, window, slots, *watched);
    if (!result.ok()) {
      // Operations still reference the slots: leave them and stop here.
      std::fprintf(stderr, "cache_bench: %s\n",
                   result.status().ToString().c_str());
      std::fflush(stdout);
      std::fflush(stderr);
      _exit(1);
    }
    std::printf("%s\n", ToJson(*result, concurrency, value_bytes).c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", ToText(*result).c_str());
    if (result->ops == 0) exit_code = 1;
  }
  return exit_code;
}

}  // namespace
}  // namespace parley::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "cache_bench: throughput and p50/p99 latency of the cache tier's "
      "Ping, Get and Put, unary and pipelined, at a fixed concurrency.\n"
      "Example: cache_bench --coordinator=127.0.0.1:7400 --duration_seconds=10 "
      "--concurrency=32 --value_bytes=1024");
  absl::ParseCommandLine(argc, argv);
  // As in the servers: no mutex deadlock detection on the measured path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return parley::bench::Main();
}
