#include "bench/load_driver.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/common/grpc_status.h"

namespace parley::bench {

// ------------------------------------------------------------ histogram

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

double LatencyHistogram::QuantileMicros(double q) const {
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

double LatencyHistogram::Midpoint(size_t index) {
  if (index < kSub) return static_cast<double>(index);
  const uint64_t group = index / kSub;
  const uint64_t sub = index % kSub;
  const int shift = static_cast<int>(group) - 1;
  const double lower = static_cast<double>((kSub + sub) << shift);
  const double width = static_cast<double>(uint64_t{1} << shift);
  return lower + (width - 1) / 2;
}

// ------------------------------------------------------ the load engine

void Window::SlotStarted() {
  absl::MutexLock lock(&mu_);
  ++running_;
}

void Window::SlotStopped() {
  absl::MutexLock lock(&mu_);
  --running_;
}

bool Window::WaitStopped(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto stopped = [this]()
                     ABSL_SHARED_LOCKS_REQUIRED(mu_) { return running_ == 0; };
  return mu_.AwaitWithTimeout(absl::Condition(&stopped), timeout);
}

void Window::NoteError(absl::string_view message) {
  absl::MutexLock lock(&mu_);
  if (first_error_.empty()) first_error_ = std::string(message);
}

std::string Window::first_error() const {
  absl::MutexLock lock(&mu_);
  return first_error_;
}

void Slot::Start() {
  window_->SlotStarted();
  Next();
}

void Slot::Done(bool ok, absl::string_view error) {
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

void Slot::Next() {
  if (pacer_ != nullptr) {
    pacer_->Idle(this);
    return;
  }
  started_ = Clock::now();
  Issue();
}

Pacer::Pacer(double ops_per_second) : ops_per_second_(ops_per_second) {}

Pacer::~Pacer() {
  if (thread_.joinable()) Stop();
}

void Pacer::Start(Window* window) {
  window_ = window;
  thread_ = std::thread([this] { Loop(); });
}

void Pacer::Idle(Slot* slot) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      idle_.push_back(slot);
      return;
    }
  }
  window_->SlotStopped();
}

void Pacer::Loop() {
  const auto interval = std::chrono::nanoseconds(
      static_cast<int64_t>(1e9 / std::max(ops_per_second_, 1e-3)));
  Clock::time_point due = Clock::now();
  while (window_->phase() != Window::kStop) {
    const Clock::time_point now = Clock::now();
    if (now < due) {
      // Short sleeps, so that the stop is seen promptly.
      absl::SleepFor(
          std::min(absl::FromChrono(due - now), absl::Milliseconds(20)));
      continue;
    }
    Slot* slot = nullptr;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || stopping_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(20));
      if (stopping_) break;
      if (idle_.empty()) continue;  // Still due: issued when a slot frees.
      slot = idle_.front();
      idle_.pop_front();
    }
    slot->IssueDue(due);
    due += interval;
  }
}

void Pacer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::deque<Slot*> idle;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    idle.swap(idle_);
  }
  for (size_t i = 0; i < idle.size(); ++i) window_->SlotStopped();
}

void UnaryPingSlot::Issue() {
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

// ------------------------------------------------------------ CPU use

namespace {

// Busy time of all CPUs so far: user, nice, system, irq, softirq and steal
// of /proc/stat's "cpu" line; -1 when it cannot be read.
double MachineBusySeconds() {
  std::ifstream file("/proc/stat");
  std::string line;
  if (!std::getline(file, line)) return -1;
  std::vector<absl::string_view> fields =
      absl::StrSplit(line, ' ', absl::SkipEmpty());
  // cpu user nice system idle iowait irq softirq steal ...
  if (fields.size() < 9 || fields[0] != "cpu") return -1;
  uint64_t busy = 0;
  for (int i : {1, 2, 3, 6, 7, 8}) {
    uint64_t value = 0;
    if (!absl::SimpleAtoi(fields[i], &value)) return -1;
    busy += value;
  }
  return static_cast<double>(busy) / sysconf(_SC_CLK_TCK);
}

}  // namespace

double CpuSeconds(int pid) {
  if (pid == -1) return MachineBusySeconds();
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

std::string ToJson(const Result& r, const std::vector<JsonField>& extra) {
  std::vector<std::string> cpu;
  for (const auto& [name, percent] : r.cpu_percent) {
    cpu.push_back(absl::StrFormat("%s:%.1f", JsonString(name), percent));
  }
  std::string out = absl::StrFormat(
      "{\"mode\":%s,\"ops_per_sec\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
      "\"p999_us\":%.1f,\"errors\":%d,\"ops\":%d,\"seconds\":%.3f,",
      JsonString(r.mode), r.ops_per_sec(), r.p50_us, r.p99_us, r.p999_us,
      r.errors, r.ops, r.seconds);
  for (const auto& [name, value] : extra) {
    absl::StrAppend(&out, JsonString(name), ":", value, ",");
  }
  absl::StrAppendFormat(&out,
                        "\"target\":%s,\"cpu_percent\":{%s},"
                        "\"first_error\":%s}",
                        JsonString(r.target), absl::StrJoin(cpu, ","),
                        JsonString(r.first_error));
  return out;
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

absl::StatusOr<Result> RunSlots(const std::string& mode,
                                const std::string& target, Window& window,
                                std::vector<std::unique_ptr<Slot>>& slots,
                                const std::vector<Watched>& watched,
                                const RunOptions& options, Pacer* pacer) {
  window.SetPhase(Window::kWarmup);
  if (pacer != nullptr) pacer->Start(&window);
  for (auto& slot : slots) slot->Start();
  absl::SleepFor(options.warmup);

  std::vector<double> cpu_before;
  for (const Watched& w : watched) cpu_before.push_back(CpuSeconds(w.pid));
  const Clock::time_point start = Clock::now();
  window.SetPhase(Window::kMeasure);
  absl::SleepFor(options.duration);
  window.SetPhase(Window::kStop);
  const Clock::time_point end = Clock::now();
  std::vector<double> cpu_after;
  for (const Watched& w : watched) cpu_after.push_back(CpuSeconds(w.pid));
  if (pacer != nullptr) pacer->Stop();

  if (!window.WaitStopped(options.drain)) {
    return absl::DeadlineExceededError(absl::StrCat(
        mode, ": operations still in flight ",
        absl::FormatDuration(options.drain), " after the window closed; ",
        options.servers, " stopped answering"));
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

namespace {

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

}  // namespace

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

}  // namespace parley::bench
