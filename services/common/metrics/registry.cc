#include "services/common/metrics/registry.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/metrics/text_format.h"

namespace parley::metrics {
namespace {

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "metrics: %s\n", message.c_str());
  std::abort();
}

bool IsNameChar(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
    return true;
  }
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool IsValidName(const std::string& name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, colon)) return false;
  }
  return true;
}

}  // namespace

bool IsValidMetricName(const std::string& name) {
  return IsValidName(name, /*colon=*/true);
}

bool IsValidLabelName(const std::string& name) {
  return IsValidName(name, /*colon=*/false) && name.rfind("__", 0) != 0;
}

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

void FamilyBase::CheckLabelCount(const LabelValues& values) const {
  if (values.size() != label_names_.size()) {
    Fail(absl::StrCat(name_, " has labels (", absl::StrJoin(label_names_, ","),
                      ") but got ", values.size(), " value(s)"));
  }
}

template <typename T>
T* Family<T>::WithLabels(LabelValues values) {
  CheckLabelCount(values);
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = children_.try_emplace(std::move(values));
  if (inserted) it->second = MakeChild();
  return it->second.get();
}

template <>
std::unique_ptr<Counter> Family<Counter>::MakeChild() const {
  return std::make_unique<Counter>();
}

template <>
std::unique_ptr<Gauge> Family<Gauge>::MakeChild() const {
  return std::make_unique<Gauge>();
}

template <>
std::unique_ptr<Histogram> Family<Histogram>::MakeChild() const {
  return std::make_unique<Histogram>(&bounds_);
}

template <>
void Family<Counter>::AppendText(std::string* out) const {
  AppendFamilyHeader(out, name(), help(), type());
  absl::MutexLock lock(&mu_);
  for (const auto& [values, counter] : children_) {
    AppendSample(out, name(), label_names(), values,
                 static_cast<double>(counter->value()));
  }
}

template <>
void Family<Gauge>::AppendText(std::string* out) const {
  AppendFamilyHeader(out, name(), help(), type());
  absl::MutexLock lock(&mu_);
  for (const auto& [values, gauge] : children_) {
    AppendSample(out, name(), label_names(), values, gauge->value());
  }
}

template <>
void Family<Histogram>::AppendText(std::string* out) const {
  AppendFamilyHeader(out, name(), help(), type());
  const std::string bucket = absl::StrCat(name(), "_bucket");
  const std::string sum = absl::StrCat(name(), "_sum");
  const std::string count = absl::StrCat(name(), "_count");
  std::vector<std::string> bound_labels;
  bound_labels.reserve(bounds_.size() + 1);
  for (double bound : bounds_) bound_labels.push_back(FormatValue(bound));
  bound_labels.push_back("+Inf");
  absl::MutexLock lock(&mu_);
  for (const auto& [values, histogram] : children_) {
    const Histogram::Snapshot snapshot = histogram->Read();
    for (size_t i = 0; i < snapshot.cumulative.size(); ++i) {
      AppendSample(out, bucket, label_names(), values,
                   static_cast<double>(snapshot.cumulative[i]), "le",
                   bound_labels[i]);
    }
    AppendSample(out, sum, label_names(), values, snapshot.sum);
    AppendSample(out, count, label_names(), values,
                 static_cast<double>(snapshot.cumulative.back()));
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

CollectedFamily& AddCollected(std::deque<CollectedFamily>* out,
                              std::string name, std::string help,
                              MetricType type,
                              std::vector<std::string> label_names) {
  CollectedFamily& family = out->emplace_back();
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  family.label_names = std::move(label_names);
  return family;
}

CollectorHandle::CollectorHandle(CollectorHandle&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)),
      id_(std::exchange(other.id_, 0)) {}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

CollectorHandle::~CollectorHandle() { Reset(); }

void CollectorHandle::Reset() {
  if (registry_ != nullptr) registry_->RemoveCollector(id_);
  registry_ = nullptr;
  id_ = 0;
}

template <typename T>
Family<T>* Registry::AddFamily(const std::string& name, const std::string& help,
                               MetricType type,
                               std::vector<std::string> label_names,
                               std::vector<double> bounds) {
  if (!IsValidMetricName(name)) Fail(absl::StrCat("bad metric name ", name));
  for (const std::string& label : label_names) {
    if (!IsValidLabelName(label) ||
        (type == MetricType::kHistogram && label == "le")) {
      Fail(absl::StrCat("bad label name ", label, " of ", name));
    }
  }
  for (size_t i = 1; i < bounds.size(); ++i) {
    if (!(bounds[i - 1] < bounds[i])) {
      Fail(absl::StrCat("bucket bounds of ", name, " not ascending"));
    }
  }
  absl::MutexLock lock(&families_mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<Family<T>*>(it->second.get());
    if (existing == nullptr || existing->type() != type ||
        existing->label_names() != label_names ||
        existing->bounds() != bounds) {
      Fail(absl::StrCat(name, " registered twice, differently"));
    }
    return existing;
  }
  auto family = std::make_unique<Family<T>>(
      name, help, type, std::move(label_names), std::move(bounds));
  Family<T>* result = family.get();
  families_.emplace(name, std::move(family));
  return result;
}

Family<Counter>* Registry::AddCounterFamily(
    const std::string& name, const std::string& help,
    std::vector<std::string> label_names) {
  return AddFamily<Counter>(name, help, MetricType::kCounter,
                            std::move(label_names), {});
}

Family<Gauge>* Registry::AddGaugeFamily(const std::string& name,
                                        const std::string& help,
                                        std::vector<std::string> label_names) {
  return AddFamily<Gauge>(name, help, MetricType::kGauge,
                          std::move(label_names), {});
}

Family<Histogram>* Registry::AddHistogramFamily(
    const std::string& name, const std::string& help,
    std::vector<std::string> label_names, const std::vector<double>& bounds) {
  return AddFamily<Histogram>(name, help, MetricType::kHistogram,
                              std::move(label_names), bounds);
}

Counter* Registry::AddCounter(const std::string& name,
                              const std::string& help) {
  return AddCounterFamily(name, help)->WithLabels({});
}

Gauge* Registry::AddGauge(const std::string& name, const std::string& help) {
  return AddGaugeFamily(name, help)->WithLabels({});
}

CollectorHandle Registry::AddCollector(Collector collector) {
  absl::MutexLock lock(&collectors_mu_);
  const uint64_t id = next_collector_id_++;
  collectors_.emplace(id, std::move(collector));
  return CollectorHandle(this, id);
}

void Registry::RemoveCollector(uint64_t id) {
  absl::MutexLock lock(&collectors_mu_);
  collectors_.erase(id);
}

std::string Registry::Scrape() const {
  std::string out;
  {
    absl::MutexLock lock(&families_mu_);
    for (const auto& [name, family] : families_) family->AppendText(&out);
  }
  std::deque<CollectedFamily> collected;
  {
    absl::MutexLock lock(&collectors_mu_);
    for (const auto& [id, collector] : collectors_) collector(&collected);
  }
  for (const CollectedFamily& family : collected) {
    AppendFamilyHeader(&out, family.name, family.help, family.type);
    for (const CollectedSample& sample : family.samples) {
      AppendSample(&out, family.name, family.label_names, sample.label_values,
                   sample.value);
    }
  }
  return out;
}

Registry& DefaultRegistry() {
  static Registry* const registry = new Registry();
  return *registry;
}

}  // namespace parley::metrics
