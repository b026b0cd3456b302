// soak_driver: a bounded soak run of a DISTRIBUTED server group. A steady,
// mixed session workload runs for --warmup_seconds, then for
// --duration_seconds, and every --interval_seconds the driver samples:
// calls completed per second, failed calls, the interval's p50/p99
// latency, and for each watched process its resident memory (VmRSS from
// /proc/<pid>/status), its CPU use and a few gauges of its metrics (RocksDB
// memtable and block cache of the cache nodes, near-cache sessions of the
// runtime servers, the coordinator's broadcast head). One CSV row per
// sample (--csv), a progress line per sample on stderr, and a JSON summary
// of the measured time per call kind (--summary).
//
// The workload: --concurrency visitors, each keeping its share of
// --sessions live sessions, paced together at --rate calls per second (an
// open loop: a call's latency counts from when it was due; --rate=0: a
// closed loop at the concurrency). Each call advances one of the visitor's
// sessions, picked at random, by one step of a visit:
//   StartSession (a random customer of --customers, CartValue, Device),
//   GetOffers HomePageHero (2), PostEvent OfferShown,
//   GetOffers CheckoutSidebar (1),
//   PostEvent OfferAccepted (3 in 4) or OfferRejected with a treatment
//   code the session was given (skipped when it got none),
//   GetOffers HomePageHero (2), EndSession.
// An ended session is replaced by a new one, so the live sessions stay
// bounded; --abandon_fraction of the visits leave without EndSession (the
// group's session timeout frees them). Each call goes to a runtime server
// picked at random. A call fails on a gRPC error or a status other than
// SUCCESS; its session is then dropped and replaced.
//
// Setup: deploys the demo channel (--demo_channel) to the group and loads
// --customers profiles; --prepare_only instead waits for the cache tier
// and creates the group (DISTRIBUTED, --session_timeout_seconds,
// --near_cache_max_entries), for the runtime servers that wait for it.
// bench/run_soak.sh runs it against a private cluster.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/load_driver.h"
#include "bench/runtime_setup.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "httplib.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "proto/parley/v1/profiles.grpc.pb.h"
#include "proto/parley/v1/runtime.grpc.pb.h"
#include "services/client/parameters.h"
#include "services/common/grpc_status.h"
#include "services/common/metrics/text_parser.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:7400",
          "host:port of the coordinator of the cluster to soak");
ABSL_FLAG(std::string, runtimes, "",
          "comma-separated host:port of the group's runtime servers");
ABSL_FLAG(std::string, group, "soak", "the server group the runtimes serve");
ABSL_FLAG(bool, prepare_only, false,
          "only wait until the cache tier is ready and create the group "
          "(DISTRIBUTED, --session_timeout_seconds) unless it exists, then "
          "exit (0: done)");
ABSL_FLAG(int, session_timeout_seconds, 60,
          "the group's session timeout (with --prepare_only): how long an "
          "abandoned session lives");
ABSL_FLAG(int, near_cache_max_entries, -1,
          "the group's near-cache size (with --prepare_only); -1: the "
          "group's default");
ABSL_FLAG(std::string, demo_channel, "deploy/demo/demo_channel.json",
          "the channel (JSON) deployed and visited");
ABSL_FLAG(int, customers, 2000,
          "profiles loaded (CustomerID 1..N, as scripts/demo_setup.py makes "
          "them); each visit is a random one");
ABSL_FLAG(int, sessions, 1000, "live sessions, spread over the visitors");
ABSL_FLAG(int, concurrency, 16, "visitors: calls in flight at most");
ABSL_FLAG(double, rate, 400,
          "calls per second over all visitors (open loop); 0: a closed loop "
          "at --concurrency");
ABSL_FLAG(double, abandon_fraction, 0.05,
          "share of visits that leave without EndSession");
ABSL_FLAG(double, warmup_seconds, 60, "load before the measured time");
ABSL_FLAG(double, duration_seconds, 600, "measured time");
ABSL_FLAG(double, interval_seconds, 10, "time between samples");
ABSL_FLAG(std::string, server_pids, "",
          "name=pid,... of the processes whose RSS and CPU use are sampled");
ABSL_FLAG(std::string, metrics_ports, "",
          "name=port,... of the processes' metrics endpoints on 127.0.0.1 "
          "(names as in --server_pids: coordinator*, node*, runtime*)");
ABSL_FLAG(std::string, csv, "soak.csv", "where the samples are written");
ABSL_FLAG(std::string, summary, "",
          "where the JSON summary is written (empty: stdout)");
ABSL_FLAG(int, expect_nodes, 3,
          "wait until the partition table names this many cache nodes, each "
          "on the table's epoch and serving all its partitions");
ABSL_FLAG(double, ready_timeout_seconds, 120,
          "how long to wait for the tier, the deployment and the profiles");
ABSL_FLAG(double, call_timeout_seconds, 10, "deadline of each call");

namespace parley::bench {
namespace {

namespace v1 = parley::v1;

constexpr char kProgram[] = "soak_driver";

enum CallKind : int { kStart = 0, kGetOffers, kPostEvent, kEnd, kCallKinds };
constexpr const char* kCallNames[kCallKinds] = {"StartSession", "GetOffers",
                                                "PostEvent", "EndSession"};

// ------------------------------------------------------------ statistics

// What the visitors record and the sampler reads.
class SoakStats {
 public:
  struct Interval {
    uint64_t calls = 0;
    uint64_t failed = 0;
    LatencyHistogram histogram;
    std::string first_error;
  };
  struct Totals {
    uint64_t calls = 0;
    uint64_t failed = 0;
    LatencyHistogram histogram;
  };

  void Record(CallKind kind, bool ok, int64_t nanos, absl::string_view error) {
    absl::MutexLock lock(&mu_);
    ++interval_.calls;
    ++all_calls_;
    if (ok) {
      interval_.histogram.Record(nanos);
    } else {
      ++interval_.failed;
      ++all_failed_;
      if (interval_.first_error.empty()) {
        interval_.first_error = absl::StrCat(kCallNames[kind], ": ", error);
      }
      if (first_error_.empty()) first_error_ = interval_.first_error;
    }
    if (!measuring_) return;
    Totals& totals = totals_[kind];
    ++totals.calls;
    if (ok) {
      totals.histogram.Record(nanos);
    } else {
      ++totals.failed;
    }
  }

  // From now on calls count in the measured totals.
  void StartMeasuring() {
    absl::MutexLock lock(&mu_);
    measuring_ = true;
  }

  // The calls since the last call of this, and starts a new interval.
  Interval TakeInterval() {
    absl::MutexLock lock(&mu_);
    Interval out = std::move(interval_);
    interval_ = Interval();
    return out;
  }

  std::vector<Totals> totals() const {
    absl::MutexLock lock(&mu_);
    return std::vector<Totals>(totals_, totals_ + kCallKinds);
  }
  uint64_t all_calls() const {
    absl::MutexLock lock(&mu_);
    return all_calls_;
  }
  uint64_t all_failed() const {
    absl::MutexLock lock(&mu_);
    return all_failed_;
  }
  std::string first_error() const {
    absl::MutexLock lock(&mu_);
    return first_error_;
  }

  // Visits: started, ended with EndSession, left without it, dropped
  // after a failed call.
  std::atomic<uint64_t> started{0};
  std::atomic<uint64_t> ended{0};
  std::atomic<uint64_t> abandoned{0};
  std::atomic<uint64_t> dropped{0};

 private:
  mutable absl::Mutex mu_;
  bool measuring_ ABSL_GUARDED_BY(mu_) = false;
  Interval interval_ ABSL_GUARDED_BY(mu_);
  Totals totals_[kCallKinds] ABSL_GUARDED_BY(mu_);
  uint64_t all_calls_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t all_failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

// ------------------------------------------------------------ visitors

// What every visitor uses.
struct VisitSetup {
  const std::vector<std::unique_ptr<v1::InteractRuntime::Stub>>* stubs;
  std::string channel;
  std::string audience_level;
  std::string id_field;
  std::string home_point;      // HomePageHero
  std::string checkout_point;  // CheckoutSidebar
  int customers = 0;
  uint32_t abandon_per_million = 0;
  absl::Duration timeout;
  SoakStats* stats = nullptr;
};

// One visitor: each operation advances one of its live sessions, picked at
// random, by one step of its visit (see the top of the file).
class VisitorSlot : public Slot {
 public:
  VisitorSlot(Window* window, uint64_t seed, Pacer* pacer,
              const VisitSetup* setup, int index, int sessions)
      : Slot(window, seed, pacer),
        setup_(setup),
        index_(index),
        visits_(static_cast<size_t>(sessions)) {}

 protected:
  void Issue() override {
    current_ = Pick(static_cast<uint32_t>(visits_.size()));
    Visit& visit = visits_[current_];
    if (visit.id.empty()) {
      visit = Visit();
      visit.id = absl::StrFormat("soak-%03d-%09d", index_, next_id_++);
      visit.leaves = Pick(1000000) < setup_->abandon_per_million;
    }
    if (visit.step == 4 && visit.code.empty()) visit.step = 5;
    v1::InteractRuntime::Stub* stub =
        (*setup_->stubs)[Pick(static_cast<uint32_t>(setup_->stubs->size()))]
            .get();
    context_.emplace();
    context_->set_deadline(absl::ToChronoTime(absl::Now() + setup_->timeout));
    switch (visit.step) {
      case 0: {
        start_.Clear();
        start_.set_session_id(visit.id);
        start_.set_interactive_channel(setup_->channel);
        start_.set_audience_level(setup_->audience_level);
        *start_.add_audience_id() = NumberParameter(
            setup_->id_field,
            static_cast<double>(Pick(static_cast<uint32_t>(setup_->customers)) +
                                1));
        *start_.add_parameters() = NumberParameter("CartValue", Pick(200));
        *start_.add_parameters() =
            TextParameter("Device", Pick(3) == 0 ? "mobile" : "web");
        start_response_.Clear();
        stub->async()->StartSession(&*context_, &start_, &start_response_,
                                    [this](grpc::Status status) {
                                      Finish(kStart, status, start_response_);
                                    });
        return;
      }
      case 1:
      case 3:
      case 5:
        offers_.Clear();
        offers_.set_session_id(visit.id);
        offers_.set_interaction_point(visit.step == 3 ? setup_->checkout_point
                                                      : setup_->home_point);
        offers_.set_number_requested(visit.step == 3 ? 1 : 2);
        offers_response_.Clear();
        stub->async()->GetOffers(&*context_, &offers_, &offers_response_,
                                 [this](grpc::Status status) {
                                   Finish(kGetOffers, status, offers_response_);
                                 });
        return;
      case 2:
      case 4:
        event_.Clear();
        event_.set_session_id(visit.id);
        if (visit.step == 2) {
          event_.set_event_name("OfferShown");
        } else {
          event_.set_event_name(Pick(4) == 0 ? "OfferRejected"
                                             : "OfferAccepted");
          *event_.add_parameters() =
              TextParameter("UACIOfferTrackingCode", visit.code);
        }
        event_response_.Clear();
        stub->async()->PostEvent(&*context_, &event_, &event_response_,
                                 [this](grpc::Status status) {
                                   Finish(kPostEvent, status, event_response_);
                                 });
        return;
      default:
        end_.Clear();
        end_.set_session_id(visit.id);
        end_response_.Clear();
        stub->async()->EndSession(&*context_, &end_, &end_response_,
                                  [this](grpc::Status status) {
                                    Finish(kEnd, status, end_response_);
                                  });
        return;
    }
  }

 private:
  struct Visit {
    std::string id;  // empty: a new visit starts at the next pick
    int step = 0;
    std::string code;  // a treatment code the session was given
    bool leaves = false;
  };

  // Records a completed call, moves its visit on and frees the slot.
  template <typename Response>
  void Finish(CallKind kind, const grpc::Status& status,
              const Response& response) {
    const int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              Clock::now() - started())
                              .count();
    std::string error;
    if (!status.ok()) {
      error = FromGrpcStatus(status).ToString();
    } else if (response.status() != v1::SUCCESS) {
      error = Advisory(response);
    }
    const bool ok = error.empty();
    setup_->stats->Record(kind, ok, nanos, error);
    Visit& visit = visits_[current_];
    if (!ok) {
      setup_->stats->dropped.fetch_add(1, std::memory_order_relaxed);
      visit.id.clear();
    } else {
      Advance(visit);
    }
    Done(ok, error);
  }

  void Advance(Visit& visit) {
    SoakStats& stats = *setup_->stats;
    if ((visit.step == 1 || visit.step == 3) && visit.code.empty() &&
        !offers_response_.offer_list().offers().empty()) {
      visit.code = offers_response_.offer_list().offers(0).treatment_code();
    }
    if (visit.step == 0) stats.started.fetch_add(1, std::memory_order_relaxed);
    if (visit.step == 5 && visit.leaves) {
      stats.abandoned.fetch_add(1, std::memory_order_relaxed);
      visit.id.clear();
      return;
    }
    if (visit.step == 6) {
      stats.ended.fetch_add(1, std::memory_order_relaxed);
      visit.id.clear();
      return;
    }
    ++visit.step;
  }

  const VisitSetup* const setup_;
  const int index_;
  std::vector<Visit> visits_;
  uint64_t next_id_ = 0;
  size_t current_ = 0;
  std::optional<grpc::ClientContext> context_;
  v1::StartSessionRequest start_;
  v1::StartSessionResponse start_response_;
  v1::GetOffersRequest offers_;
  v1::GetOffersResponse offers_response_;
  v1::PostEventRequest event_;
  v1::PostEventResponse event_response_;
  v1::EndSessionRequest end_;
  v1::EndSessionResponse end_response_;
};

// ------------------------------------------------------------ processes

// VmRSS of a process in KiB (pid 0: this one); -1 when it cannot be read.
int64_t RssKib(int pid) {
  std::ifstream file(pid == 0 ? std::string("/proc/self/status")
                              : absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(file, line)) {
    if (!absl::StartsWith(line, "VmRSS:")) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t kib = 0;
    if (fields.size() >= 2 && absl::SimpleAtoi(fields[1], &kib)) return kib;
    return -1;
  }
  return -1;
}

// The one-minute load average; -1 when it cannot be read.
double LoadAverage() {
  std::ifstream file("/proc/loadavg");
  double load = -1;
  if (!(file >> load)) return -1;
  return load;
}

// A gauge of a process's metrics sampled into the CSV.
struct Gauge {
  std::string process;  // as in --server_pids
  int port = 0;
  std::string family;
  std::string column;
  double scale = 1;  // the CSV holds value / scale
};

// The gauges worth following for a process named `name` (by its kind).
std::vector<Gauge> GaugesOf(const std::string& name, int port) {
  std::vector<Gauge> gauges;
  auto add = [&](const char* family, const char* column, double scale) {
    gauges.push_back(
        {name, port, family, absl::StrCat(column, "_", name), scale});
  };
  if (absl::StartsWith(name, "coordinator")) {
    add("parley_coordinator_broadcast_head_sequence", "broadcast_head", 1);
  } else if (absl::StartsWith(name, "node")) {
    add("parley_cache_rocksdb_memtable_bytes", "memtable_mib", 1 << 20);
    add("parley_cache_rocksdb_block_cache_usage_bytes", "block_cache_mib",
        1 << 20);
  } else if (absl::StartsWith(name, "runtime")) {
    add("parley_runtime_near_cache_sessions", "near_cache_sessions", 1);
  }
  return gauges;
}

// The sum of a family's samples in a scrape; nothing when absent or when
// the scrape does not parse.
std::optional<double> SumOf(absl::string_view scrape,
                            const std::string& family) {
  absl::StatusOr<metrics::ParsedScrape> parsed =
      metrics::ParseTextFormat(scrape);
  if (!parsed.ok()) return std::nullopt;
  return metrics::SumOfSamples(*parsed, family);
}

absl::StatusOr<std::vector<Gauge>> ParseMetricsPorts(absl::string_view flag) {
  std::vector<Gauge> gauges;
  for (absl::string_view item : absl::StrSplit(flag, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(item, '=');
    int port = 0;
    if (parts.first.empty() || !absl::SimpleAtoi(parts.second, &port) ||
        port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--metrics_ports: '", item, "' is not name=port (e.g. node1=9501)"));
    }
    for (Gauge& gauge : GaugesOf(parts.first, port)) {
      gauges.push_back(std::move(gauge));
    }
  }
  return gauges;
}

// Each gauge's value now (NaN when the scrape failed).
std::vector<double> ScrapeGauges(const std::vector<Gauge>& gauges) {
  std::vector<double> values(gauges.size(), std::nan(""));
  int scraped_port = -1;
  std::string body;
  for (size_t i = 0; i < gauges.size(); ++i) {
    if (gauges[i].port != scraped_port) {
      scraped_port = gauges[i].port;
      body.clear();
      httplib::Client client("127.0.0.1", scraped_port);
      client.set_connection_timeout(2);
      client.set_read_timeout(2);
      httplib::Result result = client.Get("/metrics");
      if (result && result->status == 200) body = result->body;
    }
    if (std::optional<double> sum = SumOf(body, gauges[i].family)) {
      values[i] = *sum / gauges[i].scale;
    }
  }
  return values;
}

// ------------------------------------------------------------ main

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", kProgram, status.ToString().c_str());
  return 1;
}

// Checks that the channel has what the visits use.
absl::Status CheckChannel(const v1::InteractiveChannel& channel) {
  if (channel.interaction_points_size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(channel.name(), ": needs two interaction points"));
  }
  for (const char* event : {"OfferShown", "OfferAccepted", "OfferRejected"}) {
    const bool found = std::any_of(
        channel.events().begin(), channel.events().end(),
        [&](const v1::EventDefinition& e) { return e.name() == event; });
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat(channel.name(), ": has no event ", event));
    }
  }
  if (channel.audience_levels(0).audience_id_fields().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(channel.name(), ": the audience level has no ID field"));
  }
  return absl::OkStatus();
}

std::string Quantiles(const LatencyHistogram& h) {
  return absl::StrFormat("\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f",
                         h.QuantileMicros(0.5), h.QuantileMicros(0.99),
                         h.QuantileMicros(0.999));
}

// A CSV cell with `decimals` decimals: empty for a value that could not be
// read.
std::string Cell(double value, int decimals = 1) {
  if (std::isnan(value) || value < 0) return "";
  return absl::StrFormat("%.*f", decimals, value);
}

int Main() {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int customers = absl::GetFlag(FLAGS_customers);
  const int session_count = absl::GetFlag(FLAGS_sessions);
  const double rate = absl::GetFlag(FLAGS_rate);
  const double warmup_s = absl::GetFlag(FLAGS_warmup_seconds);
  const double duration_s = absl::GetFlag(FLAGS_duration_seconds);
  const double interval_s = absl::GetFlag(FLAGS_interval_seconds);
  const double abandon = absl::GetFlag(FLAGS_abandon_fraction);
  const absl::Duration call_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_call_timeout_seconds));
  const absl::Duration ready_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_ready_timeout_seconds));
  if (concurrency <= 0 || customers <= 0 || session_count < concurrency ||
      rate < 0 || warmup_s < 0 || duration_s <= 0 || interval_s <= 0 ||
      abandon < 0 || abandon > 1) {
    std::fprintf(stderr,
                 "%s: --concurrency, --customers, --duration_seconds and "
                 "--interval_seconds must be positive, --rate and "
                 "--warmup_seconds not negative, --sessions at least "
                 "--concurrency, --abandon_fraction in [0, 1]\n",
                 kProgram);
    return 2;
  }
  absl::StatusOr<std::vector<Watched>> watched =
      ParseServerPids(absl::GetFlag(FLAGS_server_pids));
  if (!watched.ok()) return Fail(watched.status());
  (*watched)[0].name = "driver";
  absl::StatusOr<std::vector<Gauge>> gauges =
      ParseMetricsPorts(absl::GetFlag(FLAGS_metrics_ports));
  if (!gauges.ok()) return Fail(gauges.status());

  const std::string group = absl::GetFlag(FLAGS_group);
  auto coordinator_channel = grpc::CreateChannel(
      absl::GetFlag(FLAGS_coordinator), grpc::InsecureChannelCredentials());
  auto coordinator = v1::Coordinator::NewStub(coordinator_channel);
  absl::StatusOr<v1::PartitionTable> table = WaitForTier(
      *coordinator, absl::GetFlag(FLAGS_expect_nodes), ready_timeout);
  if (!table.ok()) return Fail(table.status());
  if (absl::GetFlag(FLAGS_prepare_only)) {
    v1::GroupSettings settings;
    settings.set_cache_type(v1::DISTRIBUTED);
    settings.mutable_session_timeout_seconds()->set_value(
        absl::GetFlag(FLAGS_session_timeout_seconds));
    if (const int near = absl::GetFlag(FLAGS_near_cache_max_entries);
        near >= 0) {
      settings.mutable_near_cache_max_entries()->set_value(near);
    }
    if (absl::Status s = CreateGroup(*coordinator, group, settings, kProgram);
        !s.ok()) {
      return Fail(s);
    }
    return 0;
  }

  std::vector<std::string> addresses =
      absl::StrSplit(absl::GetFlag(FLAGS_runtimes), ',', absl::SkipEmpty());
  if (addresses.empty()) {
    std::fprintf(stderr, "%s: --runtimes names no server\n", kProgram);
    return 2;
  }
  std::vector<std::unique_ptr<v1::InteractRuntime::Stub>> runtimes;
  std::vector<std::unique_ptr<v1::Profiles::Stub>> profiles;
  for (const std::string& address : addresses) {
    auto channel =
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    runtimes.push_back(v1::InteractRuntime::NewStub(channel));
    profiles.push_back(v1::Profiles::NewStub(channel));
  }

  absl::StatusOr<v1::InteractiveChannel> demo =
      ReadChannel(absl::GetFlag(FLAGS_demo_channel));
  if (!demo.ok()) return Fail(demo.status());
  if (absl::Status s = CheckChannel(*demo); !s.ok()) return Fail(s);
  auto deployments = v1::Deployments::NewStub(coordinator_channel);
  if (absl::Status s = Deploy(*deployments, group, *demo, kProgram); !s.ok()) {
    return Fail(s);
  }
  const absl::Time deadline = absl::Now() + ready_timeout;
  for (size_t i = 0; i < runtimes.size(); ++i) {
    if (absl::Status s =
            AwaitChannel(*runtimes[i], addresses[i], *demo, deadline);
        !s.ok()) {
      return Fail(s);
    }
  }
  if (absl::Status s = LoadProfiles(*profiles[0], *demo, customers,
                                    absl::Now() + ready_timeout);
      !s.ok()) {
    return Fail(s);
  }
  std::fprintf(stderr, "%s: loaded %d profiles through %s\n", kProgram,
               customers, addresses[0].c_str());

  // The CSV: one row per sample.
  const std::string csv_path = absl::GetFlag(FLAGS_csv);
  std::FILE* csv = std::fopen(csv_path.c_str(), "w");
  if (csv == nullptr) {
    return Fail(
        absl::UnavailableError(absl::StrCat("cannot write ", csv_path)));
  }
  std::vector<std::string> header = {"elapsed_s",
                                     "phase",
                                     "calls",
                                     "calls_per_s",
                                     "failed",
                                     "p50_us",
                                     "p99_us",
                                     "max_us",
                                     "visits_started",
                                     "visits_ended",
                                     "visits_abandoned",
                                     "visits_dropped",
                                     "load1",
                                     "machine_busy_pct"};
  for (const Watched& w : *watched) header.push_back("rss_kib_" + w.name);
  for (const Watched& w : *watched) header.push_back("cpu_pct_" + w.name);
  for (const Gauge& g : *gauges) header.push_back(g.column);
  std::fprintf(csv, "%s\n", absl::StrJoin(header, ",").c_str());
  std::fflush(csv);

  // The visitors.
  SoakStats stats;
  VisitSetup setup;
  setup.stubs = &runtimes;
  setup.channel = demo->name();
  setup.audience_level = demo->audience_levels(0).name();
  setup.id_field = demo->audience_levels(0).audience_id_fields(0).name();
  setup.home_point = demo->interaction_points(0).name();
  setup.checkout_point = demo->interaction_points(1).name();
  setup.customers = customers;
  setup.abandon_per_million = static_cast<uint32_t>(std::lround(abandon * 1e6));
  setup.timeout = call_timeout;
  setup.stats = &stats;
  Window window;
  std::unique_ptr<Pacer> pacer;
  if (rate > 0) pacer = std::make_unique<Pacer>(rate);
  std::vector<std::unique_ptr<Slot>> slots;
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < concurrency; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    const int share =
        session_count / concurrency + (i < session_count % concurrency ? 1 : 0);
    slots.push_back(std::make_unique<VisitorSlot>(&window, seed, pacer.get(),
                                                  &setup, i, share));
  }

  // Sample times: every interval, the end of the warm-up and the end.
  const double end_s = warmup_s + duration_s;
  std::vector<double> marks;
  for (int k = 1; k * interval_s < end_s - 1e-6; ++k) {
    marks.push_back(k * interval_s);
  }
  if (warmup_s > 0) marks.push_back(warmup_s);
  marks.push_back(end_s);
  std::sort(marks.begin(), marks.end());
  marks.erase(
      std::unique(marks.begin(), marks.end(),
                  [](double a, double b) { return std::fabs(a - b) < 1e-6; }),
      marks.end());

  std::fprintf(
      stderr,
      "%s: %d visitors, %d live sessions, %s; %.0f s warm-up + %.0f "
      "s measured, a sample every %.0f s\n",
      kProgram, concurrency, session_count,
      rate > 0 ? absl::StrFormat("%.0f calls/s", rate).c_str() : "closed loop",
      warmup_s, duration_s, interval_s);
  const long cpus = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  std::vector<double> cpu_before;
  for (const Watched& w : *watched) cpu_before.push_back(CpuSeconds(w.pid));
  double machine_before = CpuSeconds(-1);
  const Clock::time_point start = Clock::now();
  Clock::time_point last = start;
  window.SetPhase(warmup_s > 0 ? Window::kWarmup : Window::kMeasure);
  if (warmup_s <= 0) stats.StartMeasuring();
  if (pacer != nullptr) pacer->Start(&window);
  for (auto& slot : slots) slot->Start();

  for (double mark : marks) {
    const Clock::time_point due =
        start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(mark));
    const Clock::time_point now_before = Clock::now();
    if (due > now_before) absl::SleepFor(absl::FromChrono(due - now_before));
    SoakStats::Interval interval = stats.TakeInterval();
    const Clock::time_point now = Clock::now();
    const double seconds = std::chrono::duration<double>(now - last).count();
    last = now;
    const bool in_warmup = mark <= warmup_s + 1e-6 && warmup_s > 0;
    if (in_warmup && std::fabs(mark - warmup_s) < 1e-6) {
      stats.StartMeasuring();
      window.SetPhase(Window::kMeasure);
    }
    std::vector<int64_t> rss;
    std::vector<double> cpu;
    for (size_t i = 0; i < watched->size(); ++i) {
      rss.push_back(RssKib((*watched)[i].pid));
      const double after = CpuSeconds((*watched)[i].pid);
      cpu.push_back(after < 0 || cpu_before[i] < 0
                        ? -1
                        : 100.0 * (after - cpu_before[i]) / seconds);
      cpu_before[i] = after;
    }
    const double machine_after = CpuSeconds(-1);
    const double machine =
        machine_after < 0 || machine_before < 0
            ? -1
            : 100.0 * (machine_after - machine_before) / (seconds * cpus);
    machine_before = machine_after;
    const double load = LoadAverage();
    const std::vector<double> gauge_values = ScrapeGauges(*gauges);

    const double calls_per_s = interval.calls / seconds;
    const double p50 = interval.histogram.QuantileMicros(0.5);
    const double p99 = interval.histogram.QuantileMicros(0.99);
    std::vector<std::string> row = {
        absl::StrFormat("%.0f", mark),
        in_warmup ? "warmup" : "measure",
        absl::StrCat(interval.calls),
        absl::StrFormat("%.1f", calls_per_s),
        absl::StrCat(interval.failed),
        absl::StrFormat("%.0f", p50),
        absl::StrFormat("%.0f", p99),
        absl::StrFormat("%.0f", interval.histogram.QuantileMicros(1.0)),
        absl::StrCat(stats.started.load()),
        absl::StrCat(stats.ended.load()),
        absl::StrCat(stats.abandoned.load()),
        absl::StrCat(stats.dropped.load()),
        Cell(load, 2),
        Cell(machine)};
    for (int64_t kib : rss) row.push_back(kib < 0 ? "" : absl::StrCat(kib));
    for (double c : cpu) row.push_back(Cell(c));
    for (double g : gauge_values) row.push_back(Cell(g, 2));
    std::fprintf(csv, "%s\n", absl::StrJoin(row, ",").c_str());
    std::fflush(csv);

    std::vector<std::string> memory;
    for (size_t i = 1; i < watched->size(); ++i) {
      memory.push_back(rss[i] < 0
                           ? absl::StrCat((*watched)[i].name, " gone")
                           : absl::StrFormat("%s %.1f", (*watched)[i].name,
                                             rss[i] / 1024.0));
    }
    std::fprintf(stderr,
                 "%s: %4.0f/%.0f s %-7s %6.1f calls/s, %llu failed, p50 %.2f "
                 "ms, p99 %.2f ms | RSS MiB: %s | load %.2f\n",
                 kProgram, mark, end_s, in_warmup ? "warmup" : "measure",
                 calls_per_s, static_cast<unsigned long long>(interval.failed),
                 p50 / 1000, p99 / 1000, absl::StrJoin(memory, ", ").c_str(),
                 load);
    if (!interval.first_error.empty()) {
      std::fprintf(stderr, "%s:   first error of the interval: %s\n", kProgram,
                   interval.first_error.c_str());
    }
  }
  std::fclose(csv);

  window.SetPhase(Window::kStop);
  if (pacer != nullptr) pacer->Stop();
  const absl::Duration drain = call_timeout + absl::Seconds(20);
  const bool drained = window.WaitStopped(drain);

  // The summary of the measured time.
  const std::vector<SoakStats::Totals> totals = stats.totals();
  LatencyHistogram all;
  uint64_t measured_calls = 0, measured_failed = 0;
  std::vector<std::string> kinds;
  for (int k = 0; k < kCallKinds; ++k) {
    all.Merge(totals[k].histogram);
    measured_calls += totals[k].calls;
    measured_failed += totals[k].failed;
    kinds.push_back(
        absl::StrFormat("{\"call\":%s,\"calls\":%d,\"failed\":%d,%s}",
                        JsonString(kCallNames[k]), totals[k].calls,
                        totals[k].failed, Quantiles(totals[k].histogram)));
  }
  const std::string summary = absl::StrFormat(
      "{\"rate\":%.1f,\"concurrency\":%d,\"sessions\":%d,\"customers\":%d,"
      "\"abandon_fraction\":%.3f,\"warmup_seconds\":%.0f,"
      "\"duration_seconds\":%.0f,\"interval_seconds\":%.0f,"
      "\"runtimes\":%d,\"calls\":%d,\"failed\":%d,"
      "\"measured\":{\"calls\":%d,\"failed\":%d,\"calls_per_s\":%.1f,%s},"
      "\"calls_by_kind\":[%s],\"visits_started\":%d,\"visits_ended\":%d,"
      "\"visits_abandoned\":%d,\"visits_dropped\":%d,\"drained\":%s,"
      "\"first_error\":%s}",
      rate, concurrency, session_count, customers, abandon, warmup_s,
      duration_s, interval_s, static_cast<int>(runtimes.size()),
      stats.all_calls(), stats.all_failed(), measured_calls, measured_failed,
      measured_calls / duration_s, Quantiles(all), absl::StrJoin(kinds, ","),
      stats.started.load(), stats.ended.load(), stats.abandoned.load(),
      stats.dropped.load(), drained ? "true" : "false",
      JsonString(stats.first_error()));
  const std::string summary_path = absl::GetFlag(FLAGS_summary);
  if (summary_path.empty()) {
    std::printf("%s\n", summary.c_str());
  } else {
    std::ofstream out(summary_path);
    out << summary << "\n";
    if (!out) {
      return Fail(
          absl::UnavailableError(absl::StrCat("cannot write ", summary_path)));
    }
  }
  std::fflush(stdout);
  if (!drained) {
    // Calls still reference the slots: leave them and stop here.
    std::fprintf(stderr,
                 "%s: calls still in flight %s after the end; the servers "
                 "stopped answering\n",
                 kProgram, absl::FormatDuration(drain).c_str());
    std::fflush(stderr);
    _exit(1);
  }
  return stats.all_calls() == 0 ? 1 : 0;
}

}  // namespace
}  // namespace parley::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "soak_driver: a bounded, steady mixed session workload on a "
      "DISTRIBUTED server group, sampling throughput, latency and each "
      "process's RSS every interval.\n"
      "Example: soak_driver --coordinator=127.0.0.1:7400 "
      "--runtimes=127.0.0.1:7601,127.0.0.1:7602 --group=soak "
      "--server_pids=runtime1=1234,runtime2=1235 --csv=soak.csv");
  absl::ParseCommandLine(argc, argv);
  // As in the servers: no mutex deadlock detection on the measured path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return parley::bench::Main();
}
