#ifndef PARLEY_SERVICES_COMMON_METRICS_METRIC_H_
#define PARLEY_SERVICES_COMMON_METRICS_METRIC_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace parley::metrics {

// The Prometheus metric types Parley exposes.
enum class MetricType { kCounter, kGauge, kHistogram };

// A count that only grows. Lock-free; safe from any thread.
class Counter {
 public:
  void Increment(uint64_t n = 1) {
    value_.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Lock-free; safe from any thread.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets, with their sum. Lock-free; safe
// from any thread. A scrape reads the buckets one by one, so it may see an
// observation in one bucket but not yet in the sum (never a torn count).
class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, ascending, without +Inf; not
  // owned, must outlive the histogram.
  explicit Histogram(const std::vector<double>* bounds);

  void Observe(double value);

  // A consistent-enough copy for exposition.
  struct Snapshot {
    // Cumulative counts per bound, then the +Inf bucket (== count).
    std::vector<uint64_t> cumulative;
    double sum = 0;
  };
  Snapshot Read() const;

  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  const std::vector<double>* bounds_;
  // Per bucket (not cumulative); the last is the +Inf bucket.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// Bucket bounds in seconds for request latencies: 100 us to 10 s.
const std::vector<double>& LatencyBuckets();

}  // namespace parley::metrics

#endif  // PARLEY_SERVICES_COMMON_METRICS_METRIC_H_
