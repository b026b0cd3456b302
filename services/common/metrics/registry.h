#ifndef PARLEY_SERVICES_COMMON_METRICS_REGISTRY_H_
#define PARLEY_SERVICES_COMMON_METRICS_REGISTRY_H_

// Parley's metrics: counters, gauges and histograms with labels, plus
// collectors that read figures at scrape time, exposed in the Prometheus
// text format 0.0.4.
//
// Written here rather than taken from a library because Debian 12 packages
// no Prometheus client for C++ (no prometheus-cpp), and Parley builds only
// from Debian packages. The exposition format is small and stable.
//
// Hot paths look a labelled child up once (Family::WithLabels takes a lock)
// and keep the pointer; updating a child is one relaxed atomic operation.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/common/metrics/metric.h"

namespace parley::metrics {

// Label values of one child, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

// What every family shares: name, help text, type and label names.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends the family in the text format to `out`.
  virtual void AppendText(std::string* out) const = 0;

 protected:
  // Aborts unless `values` has one value per label name.
  void CheckLabelCount(const LabelValues& values) const;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// The metrics of one name, one child per combination of label values.
template <typename T>
class Family : public FamilyBase {
 public:
  // `bounds` is used by histograms only.
  Family(std::string name, std::string help, MetricType type,
         std::vector<std::string> label_names, std::vector<double> bounds)
      : FamilyBase(std::move(name), std::move(help), type,
                   std::move(label_names)),
        bounds_(std::move(bounds)) {}

  // The child for `values` (one per label name, in order), created on first
  // use; it lives as long as the registry. Takes a lock: keep the pointer.
  T* WithLabels(LabelValues values) ABSL_LOCKS_EXCLUDED(mu_);

  // The bucket bounds (histograms).
  const std::vector<double>& bounds() const { return bounds_; }

  void AppendText(std::string* out) const override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  std::unique_ptr<T> MakeChild() const;

  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, std::unique_ptr<T>> children_ ABSL_GUARDED_BY(mu_);
};

// One sample a collector reports.
struct CollectedSample {
  LabelValues label_values;
  double value = 0;
};

// A counter or gauge family a collector reports at scrape time.
struct CollectedFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<std::string> label_names;
  std::vector<CollectedSample> samples;

  // Adds a sample (one label value per label name).
  CollectedFamily& Add(LabelValues values, double value) {
    samples.push_back({std::move(values), value});
    return *this;
  }
};

// Reads figures when scraped and appends them as families to `out`. Runs
// on the scraping thread, with no registry lock held that hot paths take.
using Collector = std::function<void(std::deque<CollectedFamily>* out)>;

// Appends a new family to `out` and returns it (the reference stays valid
// while more families are added).
CollectedFamily& AddCollected(std::deque<CollectedFamily>* out,
                              std::string name, std::string help,
                              MetricType type,
                              std::vector<std::string> label_names = {});

class Registry;

// Keeps a collector registered; destroying it unregisters the collector
// and waits for a scrape running it to finish (so do not destroy it while
// holding a lock the collector takes).
class CollectorHandle {
 public:
  CollectorHandle() = default;
  CollectorHandle(Registry* registry, uint64_t id)
      : registry_(registry), id_(id) {}
  CollectorHandle(CollectorHandle&& other) noexcept;
  CollectorHandle& operator=(CollectorHandle&& other) noexcept;
  ~CollectorHandle();

  // Unregisters now; idempotent.
  void Reset();

 private:
  Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

// A set of metric families and collectors. Thread-safe. Registering a
// name again with the same type and labels returns the existing family;
// an invalid name or a conflicting definition is a programming error and
// aborts.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Family<Counter>* AddCounterFamily(const std::string& name,
                                    const std::string& help,
                                    std::vector<std::string> label_names = {});
  Family<Gauge>* AddGaugeFamily(const std::string& name,
                                const std::string& help,
                                std::vector<std::string> label_names = {});
  Family<Histogram>* AddHistogramFamily(
      const std::string& name, const std::string& help,
      std::vector<std::string> label_names,
      const std::vector<double>& bounds = LatencyBuckets());

  // Unlabelled shortcuts.
  Counter* AddCounter(const std::string& name, const std::string& help);
  Gauge* AddGauge(const std::string& name, const std::string& help);

  // Registers a collector, run at every scrape until the handle goes.
  [[nodiscard]] CollectorHandle AddCollector(Collector collector);

  // Every family, then every collector's, in the text format 0.0.4.
  std::string Scrape() const;

 private:
  friend class CollectorHandle;
  void RemoveCollector(uint64_t id);

  template <typename T>
  Family<T>* AddFamily(const std::string& name, const std::string& help,
                       MetricType type, std::vector<std::string> label_names,
                       std::vector<double> bounds);

  mutable absl::Mutex families_mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_
      ABSL_GUARDED_BY(families_mu_);
  // Held while collectors run, never together with families_mu_.
  mutable absl::Mutex collectors_mu_;
  std::map<uint64_t, Collector> collectors_ ABSL_GUARDED_BY(collectors_mu_);
  uint64_t next_collector_id_ ABSL_GUARDED_BY(collectors_mu_) = 1;
};

// The process-wide registry every server exposes on --metrics_port.
Registry& DefaultRegistry();

// True for a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
bool IsValidMetricName(const std::string& name);
// True for a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not "__..." ).
bool IsValidLabelName(const std::string& name);

}  // namespace parley::metrics

#endif  // PARLEY_SERVICES_COMMON_METRICS_REGISTRY_H_
