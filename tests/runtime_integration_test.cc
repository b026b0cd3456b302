// The runtime tier end to end with real processes on 127.0.0.1: a
// coordinator, three cache nodes and parley-runtime servers (the binary),
// driven only through their gRPC APIs: Coordinator and Deployments on the
// coordinator; InteractRuntime, Profiles, History and grpc.health.v1 on the
// runtime servers. The channel is the demo channel (deploy/demo).
// runtime_integration_tls_test runs the same over mutual TLS
// (PARLEY_TEST_TLS=1).
//
// Expected offers and segments are computed here from the channel's rules
// and flowchart (see Oracle below), never read back from the product.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "cache_node/cache_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "proto/parley/v1/history.grpc.pb.h"
#include "proto/parley/v1/profiles.grpc.pb.h"
#include "proto/parley/v1/runtime.grpc.pb.h"
#include "services/common/tls.h"
#include "tests/support/child_process.h"
#include "tests/support/local_cluster.h"

namespace parley {
namespace {

namespace v1 = ::parley::v1;
using ::google::protobuf::util::TimeUtil;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr char kChannel[] = "demo";
constexpr char kLevel[] = "Customer";
constexpr char kHero[] = "HomePageHero";
constexpr char kCheckout[] = "CheckoutSidebar";
constexpr absl::Duration kCallDeadline = absl::Seconds(10);

// ---------------------------------------------------------------- plumbing

std::unique_ptr<grpc::ClientContext> Context(
    absl::Duration deadline = kCallDeadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return context;
}

// The credentials of every channel of the test: the cluster's client
// credentials (mutual TLS in runtime_integration_tls_test) once it started.
std::shared_ptr<grpc::ChannelCredentials>& Credentials() {
  static auto* credentials = new std::shared_ptr<grpc::ChannelCredentials>(
      grpc::InsecureChannelCredentials());
  return *credentials;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  return grpc::CreateCustomChannel(address, Credentials(), args);
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout,
               absl::Duration period = absl::Milliseconds(5)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(period);
  }
  return condition();
}

v1::InteractiveChannel DemoChannel() {
  const std::string path =
      testing::RunfilePath("deploy/demo/demo_channel.json");
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << "cannot read " << path;
  std::stringstream text;
  text << file.rdbuf();
  v1::InteractiveChannel channel;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(text.str(), &channel);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  return channel;
}

v1::NameValue Number(const std::string& name, double value) {
  v1::NameValue out;
  out.set_name(name);
  out.set_number_value(value);
  return out;
}

v1::NameValue String(const std::string& name, const std::string& value) {
  v1::NameValue out;
  out.set_name(name);
  out.set_string_value(value);
  return out;
}

v1::NameValue DateTime(const std::string& name, absl::Time value) {
  v1::NameValue out;
  out.set_name(name);
  out.mutable_datetime_value()->set_seconds(absl::ToUnixSeconds(value));
  return out;
}

template <typename Response>
std::string Advisories(const Response& response) {
  std::vector<std::string> parts;
  for (const v1::AdvisoryMessage& a : response.advisory_messages()) {
    parts.push_back(absl::StrCat(v1::AdvisoryCode_Name(a.code()), "(",
                                 v1::ResponseStatus_Name(a.level()),
                                 "): ", a.message(), " [", a.detail(), "]"));
  }
  return absl::StrCat(v1::ResponseStatus_Name(response.status()), " {",
                      absl::StrJoin(parts, "; "), "}");
}

template <typename Response>
bool HasAdvisory(const Response& response, v1::AdvisoryCode code) {
  for (const v1::AdvisoryMessage& a : response.advisory_messages()) {
    if (a.code() == code) return true;
  }
  return false;
}

std::vector<std::string> OfferNames(const v1::OfferList& list) {
  std::vector<std::string> names;
  for (const v1::Offer& offer : list.offers()) names.push_back(offer.name());
  return names;
}

const v1::NameValue* FindValue(
    const google::protobuf::RepeatedPtrField<v1::NameValue>& values,
    const std::string& name) {
  for (const v1::NameValue& value : values) {
    if (value.name() == name) return &value;
  }
  return nullptr;
}

// ---------------------------------------------------------------- visitors

// A visitor of the demo channel's Customer level; unset attributes are
// NULL (an empty CSV field).
struct Visitor {
  int64_t id = 0;
  absl::optional<double> age;
  absl::optional<std::string> tier;
  absl::optional<absl::Time> last_purchase;
};

absl::Time DaysAgo(int days) {
  // Whole seconds: what the CSV carries.
  return absl::FromUnixSeconds(
      absl::ToUnixSeconds(absl::Now() - absl::Hours(24) * days));
}

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

std::string ProfilesCsv(const std::vector<Visitor>& visitors) {
  std::string csv = "CustomerID,Age,Tier,LastPurchase\n";
  for (const Visitor& v : visitors) {
    absl::StrAppend(&csv, v.id, ",", v.age ? absl::StrCat(*v.age) : "", ",",
                    v.tier.value_or(""), ",",
                    v.last_purchase ? Rfc3339(*v.last_purchase) : "", "\n");
  }
  return csv;
}

// ---------------------------------------------------------------- oracle

// The demo channel's behaviour, computed independently of the product from
// the channel's definition: the Web flowchart (mirrored box by box: the
// channel's expressions are few and fixed) and the treatment rules
// (segment, zone, windows, scores, eligibility).
class Oracle {
 public:
  explicit Oracle(v1::InteractiveChannel channel)
      : channel_(std::move(channel)) {
    for (const v1::Flowchart& flowchart : channel_.flowcharts()) {
      for (const v1::FlowchartBox& box : flowchart.boxes()) {
        if (box.has_sample()) sample_ = box.sample();
      }
    }
    EXPECT_EQ(sample_.cells_size(), 2) << "the mirror expects two cells";
  }

  // FNV-1a over the key from the mixed seed, then the key length mixed in
  // with SplitMix64's finalizer, as specified for Sample boxes
  // (services/runtime/segmentation/sample_hash.h: fixed forever).
  static double SamplePoint(uint64_t seed, const std::string& key) {
    auto mix = [](uint64_t x) {
      x += 0x9e3779b97f4a7c15ULL;
      x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
      x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
      return x ^ (x >> 31);
    };
    uint64_t hash = 0xcbf29ce484222325ULL ^ mix(seed);
    for (const char c : key) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 0x100000001b3ULL;
    }
    hash = mix(hash ^ key.size());
    const double point = static_cast<double>(hash >> 11) * 0x1.0p-53 * 100.0;
    return point < 100.0 ? point : std::nextafter(100.0, 0.0);
  }

  // The visitor's key for Sample boxes: the audience ID as text, the
  // number written in full ("CustomerID=42").
  static std::string VisitorKey(int64_t id) {
    return absl::StrCat("CustomerID=", id);
  }

  // Whether the visitor goes through the Sample box.
  bool Sampled(const Visitor& v, absl::Time now) const {
    return Branch(v, now).empty();
  }

  // The Web flowchart's segments for `v` (channel order) and the boxes
  // visited.
  std::vector<std::string> Segments(const Visitor& v, absl::Time now,
                                    std::vector<std::string>* path) const {
    std::vector<std::string> boxes = {"Recency", "Split"};
    std::string populate = Branch(v, now);
    if (populate.empty()) {
      boxes.push_back("Sample");
      const double point = SamplePoint(sample_.seed(), VisitorKey(v.id));
      double end = 0;
      for (const v1::SampleCell& cell : sample_.cells()) {
        end += cell.percent();
        if (point < end) {
          populate = cell.next_box();
          break;
        }
      }
    }
    std::vector<std::string> segments;
    if (!populate.empty()) {
      boxes.push_back(populate);
      for (const v1::Flowchart& flowchart : channel_.flowcharts()) {
        for (const v1::FlowchartBox& box : flowchart.boxes()) {
          if (box.name() != populate) continue;
          for (const std::string& s : box.populate_segments().segments()) {
            segments.push_back(s);
          }
        }
      }
    }
    if (path != nullptr) *path = boxes;
    return InChannelOrder(segments);
  }

  // The best `n` offers for a visitor in `segments` at interaction point
  // `ip`, leaving out `suppressed` ones; `cart_value` is the CartValue
  // session parameter (NULL when unset).
  std::vector<std::string> Offers(const std::vector<std::string>& segments,
                                  const std::string& ip, const Visitor& v,
                                  absl::optional<double> cart_value,
                                  const std::set<std::string>& suppressed,
                                  absl::Time now, int n) const {
    std::string zone;
    for (const v1::InteractionPoint& point : channel_.interaction_points()) {
      if (point.name() == ip) zone = point.zone();
    }
    EXPECT_FALSE(zone.empty()) << ip;
    struct Candidate {
      double score;
      int64_t effective;
      int index;
      std::string name;
    };
    std::map<std::string, Candidate> best;
    for (const v1::TreatmentRule& rule : channel_.treatment_rules()) {
      if (rule.disabled()) continue;
      if (std::find(segments.begin(), segments.end(), rule.segment()) ==
          segments.end()) {
        continue;
      }
      if (!rule.zone().empty() && rule.zone() != zone) continue;
      if (!InWindow(rule.has_effective_time(), rule.effective_time(),
                    rule.has_expiration_time(), rule.expiration_time(), now)) {
        continue;
      }
      int index = -1;
      for (int i = 0; i < channel_.offers_size(); ++i) {
        if (channel_.offers(i).name() == rule.offer()) index = i;
      }
      EXPECT_GE(index, 0) << rule.offer();
      if (index < 0) continue;
      const v1::OfferDefinition& offer = channel_.offers(index);
      if (!InWindow(offer.has_effective_time(), offer.effective_time(),
                    offer.has_expiration_time(), offer.expiration_time(),
                    now)) {
        continue;
      }
      if (suppressed.count(offer.name()) > 0) continue;
      if (!Eligible(rule.eligibility(), v, cart_value)) continue;
      EXPECT_TRUE(rule.score_expression().empty()) << "not mirrored";
      const double score =
          rule.has_marketing_score() ? rule.marketing_score().value() : 50;
      auto it = best.find(offer.name());
      if (it == best.end()) {
        best[offer.name()] = Candidate{score,
                                       offer.has_effective_time()
                                           ? offer.effective_time().seconds()
                                           : INT64_MIN,
                                       index, offer.name()};
      } else if (score > it->second.score) {
        it->second.score = score;
      }
    }
    std::vector<Candidate> ranked;
    for (const auto& [name, candidate] : best) ranked.push_back(candidate);
    EXPECT_EQ(channel_.tie_break(), v1::TIE_BREAK_NEWER_OFFER);
    std::sort(ranked.begin(), ranked.end(),
              [](const Candidate& a, const Candidate& b) {
                if (a.score != b.score) return a.score > b.score;
                if (a.effective != b.effective) {
                  return a.effective > b.effective;
                }
                return a.index > b.index;
              });
    std::vector<std::string> names;
    for (const Candidate& c : ranked) {
      if (static_cast<int>(names.size()) == n) break;
      names.push_back(c.name);
    }
    return names;
  }

  std::string DefaultString(const std::string& ip) const {
    for (const v1::InteractionPoint& point : channel_.interaction_points()) {
      if (point.name() == ip) return point.default_string();
    }
    return "";
  }

 private:
  // The Split box: the segment box a deciding branch leads to, or "" for
  // the otherwise box (Sample). NULL conditions count as false.
  static std::string Branch(const Visitor& v, absl::Time now) {
    if (v.tier.has_value() && *v.tier == "Gold") return "PopGold";
    if (v.age.has_value() && *v.age < 30) return "PopYoung";
    if (v.last_purchase.has_value()) {
      // DAYS_BETWEEN(LastPurchase, NOW()) > 180; callers keep purchases
      // days away from the boundary, so rounding does not matter.
      const double days = (now - *v.last_purchase) / absl::Hours(24);
      EXPECT_GT(std::fabs(days - 180), 2) << "too close to call";
      if (days > 180) return "PopLapsed";
    }
    return "";
  }

  static bool Eligible(const std::string& expression, const Visitor& v,
                       absl::optional<double> cart_value) {
    if (expression.empty()) return true;
    if (expression == "Age >= 18") return v.age.has_value() && *v.age >= 18;
    if (expression == "CartValue >= 50") {
      return cart_value.has_value() && *cart_value >= 50;
    }
    ADD_FAILURE() << "eligibility not mirrored: " << expression;
    return false;
  }

  static bool InWindow(bool has_effective,
                       const google::protobuf::Timestamp& effective,
                       bool has_expiration,
                       const google::protobuf::Timestamp& expiration,
                       absl::Time now) {
    const int64_t seconds = absl::ToUnixSeconds(now);
    if (has_effective && seconds < effective.seconds()) return false;
    if (has_expiration && seconds >= expiration.seconds()) return false;
    return true;
  }

  std::vector<std::string> InChannelOrder(
      const std::vector<std::string>& segments) const {
    std::vector<std::string> ordered;
    for (const v1::SmartSegment& s : channel_.segments()) {
      if (std::find(segments.begin(), segments.end(), s.name()) !=
          segments.end()) {
        ordered.push_back(s.name());
      }
    }
    return ordered;
  }

  const v1::InteractiveChannel channel_;
  v1::SampleBox sample_;
};

// ---------------------------------------------------------------- runtime

// Stubs for one runtime server.
struct Runtime {
  std::string member_id;
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::InteractRuntime::Stub> interact;
  std::unique_ptr<v1::Profiles::Stub> profiles;
  std::unique_ptr<v1::History::Stub> history;
  std::unique_ptr<Health::Stub> health;

  Runtime(std::string member, std::string addr)
      : member_id(std::move(member)),
        address(std::move(addr)),
        channel(Channel(address)),
        interact(v1::InteractRuntime::NewStub(channel)),
        profiles(v1::Profiles::NewStub(channel)),
        history(v1::History::NewStub(channel)),
        health(Health::NewStub(channel)) {}

  // grpc.health.v1 status of the server as a whole; UNKNOWN when the call
  // fails.
  HealthCheckResponse::ServingStatus HealthStatus() const {
    HealthCheckResponse response;
    if (!health
             ->Check(Context(absl::Seconds(1)).get(), HealthCheckRequest(),
                     &response)
             .ok()) {
      return HealthCheckResponse::UNKNOWN;
    }
    return response.status();
  }

  v1::StartSessionResponse StartSession(
      const std::string& session_id, int64_t customer_id,
      std::vector<v1::NameValue> parameters = {},
      grpc::Status* status = nullptr) const {
    v1::StartSessionRequest request;
    request.set_session_id(session_id);
    request.set_interactive_channel(kChannel);
    request.set_audience_level(kLevel);
    *request.add_audience_id() =
        Number("CustomerID", static_cast<double>(customer_id));
    for (v1::NameValue& p : parameters) *request.add_parameters() = p;
    v1::StartSessionResponse response;
    const grpc::Status s =
        interact->StartSession(Context().get(), request, &response);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << member_id << ": " << s.error_message();
    }
    return response;
  }

  v1::GetOffersResponse GetOffers(
      const std::string& session_id, const std::string& ip, uint32_t n,
      grpc::Status* status = nullptr,
      std::vector<v1::NameValue> parameters = {}) const {
    v1::GetOffersRequest request;
    request.set_session_id(session_id);
    request.set_interaction_point(ip);
    request.set_number_requested(n);
    for (v1::NameValue& p : parameters) *request.add_parameters() = p;
    v1::GetOffersResponse response;
    const grpc::Status s =
        interact->GetOffers(Context().get(), request, &response);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << member_id << ": " << s.error_message();
    }
    return response;
  }

  v1::PostEventResponse PostEvent(const std::string& session_id,
                                  const std::string& event,
                                  std::vector<v1::NameValue> parameters = {},
                                  grpc::Status* status = nullptr) const {
    v1::PostEventRequest request;
    request.set_session_id(session_id);
    request.set_event_name(event);
    for (v1::NameValue& p : parameters) *request.add_parameters() = p;
    v1::PostEventResponse response;
    const grpc::Status s =
        interact->PostEvent(Context().get(), request, &response);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << member_id << ": " << s.error_message();
    }
    return response;
  }

  v1::GetProfileResponse GetProfile(const std::string& session_id) const {
    v1::GetProfileRequest request;
    request.set_session_id(session_id);
    v1::GetProfileResponse response;
    const grpc::Status s =
        interact->GetProfile(Context().get(), request, &response);
    EXPECT_TRUE(s.ok()) << member_id << ": " << s.error_message();
    return response;
  }

  // Loads the visitors' profiles through Profiles.LoadProfiles; the final
  // report.
  v1::LoadProfilesProgress LoadProfiles(
      const std::vector<Visitor>& visitors) const {
    const std::string csv = ProfilesCsv(visitors);
    auto context = Context(absl::Seconds(30));
    auto stream = profiles->LoadProfiles(context.get());
    v1::LoadProfilesRequest request;
    request.set_interactive_channel(kChannel);
    request.set_audience_level(kLevel);
    request.set_csv_chunk(csv);
    EXPECT_TRUE(stream->Write(request));
    EXPECT_TRUE(stream->WritesDone());
    v1::LoadProfilesProgress progress;
    v1::LoadProfilesProgress last;
    while (stream->Read(&progress)) last = progress;
    const grpc::Status status = stream->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(last.done());
    EXPECT_EQ(last.rows_stored(), static_cast<int64_t>(visitors.size()))
        << last.ShortDebugString();
    EXPECT_EQ(last.rows_rejected(), 0) << last.ShortDebugString();
    return last;
  }

  // The group's history as exported (JSON lines), parsed.
  std::vector<v1::HistoryRecord> ExportHistory() const {
    v1::ExportHistoryRequest request;
    request.set_format(v1::JSON_LINES);
    auto context = Context(absl::Seconds(30));
    auto reader = history->ExportHistory(context.get(), request);
    std::string data;
    uint64_t counted = 0;
    v1::ExportHistoryChunk chunk;
    while (reader->Read(&chunk)) {
      data += chunk.data();
      counted += chunk.records();
    }
    const grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<v1::HistoryRecord> records;
    for (absl::string_view line : absl::StrSplit(data, '\n')) {
      if (line.empty()) continue;
      v1::HistoryRecord record;
      const auto parsed = google::protobuf::util::JsonStringToMessage(
          std::string(line), &record);
      EXPECT_TRUE(parsed.ok()) << parsed.ToString() << ": " << line;
      records.push_back(std::move(record));
    }
    EXPECT_EQ(counted, records.size());
    return records;
  }
};

// ---------------------------------------------------------------- fixture

class RuntimeIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::FreshTempDir("runtime_integration"));
    auto cluster = testing::LocalCluster::Start(*dir_);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
    Credentials() = cluster_->client_credentials();
    channel_ = Channel(cluster_->coordinator_address());
    coordinator_ = v1::Coordinator::NewStub(channel_).release();
    deployments_ = v1::Deployments::NewStub(channel_).release();
  }

  static void TearDownTestSuite() {
    delete coordinator_;
    coordinator_ = nullptr;
    delete deployments_;
    deployments_ = nullptr;
    channel_.reset();
    delete cluster_;
    cluster_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (cluster_ == nullptr) GTEST_SKIP() << "the cluster did not start";
    demo_ = DemoChannel();
  }

  void TearDown() override {
    if (HasFailure() && cluster_ != nullptr) {
      std::cerr << "---- logs ----\n" << cluster_->Logs();
    }
    for (const std::string& member : started_) {
      cluster_->StopRuntimeServer(member, absl::Seconds(5)).IgnoreError();
    }
  }

  static grpc::Status CreateGroup(const std::string& name, v1::CacheType type) {
    v1::CreateGroupRequest request;
    request.set_name(name);
    request.mutable_settings()->set_cache_type(type);
    v1::ServerGroup group;
    return coordinator_->CreateGroup(Context().get(), request, &group);
  }

  static v1::Deployment Deploy(const std::string& group,
                               const v1::InteractiveChannel& channel,
                               const std::string& comment) {
    v1::DeployRequest request;
    request.set_group(group);
    *request.mutable_channel() = channel;
    request.set_comment(comment);
    v1::Deployment deployment;
    const grpc::Status status =
        deployments_->Deploy(Context().get(), request, &deployment);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return deployment;
  }

  // A DISTRIBUTED (or LOCAL) group with the demo channel deployed.
  void CreateGroupWithDemo(const std::string& group,
                           v1::CacheType type = v1::DISTRIBUTED) {
    const grpc::Status created = CreateGroup(group, type);
    ASSERT_TRUE(created.ok()) << created.error_message();
    const v1::Deployment deployed = Deploy(group, demo_, "v1");
    ASSERT_EQ(deployed.version(), 1u);
  }

  // Starts runtime servers `members` of `group` at once and waits until
  // each reports SERVING.
  std::vector<std::unique_ptr<Runtime>> StartRuntimes(
      const std::string& group, const std::vector<std::string>& members) {
    std::vector<std::unique_ptr<Runtime>> runtimes;
    for (const std::string& member : members) {
      testing::RuntimeServerOptions options;
      options.group = group;
      options.member_id = member;
      const absl::Status launched = cluster_->LaunchRuntimeServer(options);
      EXPECT_TRUE(launched.ok()) << launched;
      if (!launched.ok()) return {};
      started_.push_back(member);
    }
    for (const std::string& member : members) {
      absl::StatusOr<std::string> address =
          cluster_->WaitForRuntimeServerPort(member, absl::Seconds(20));
      EXPECT_TRUE(address.ok()) << address.status();
      if (!address.ok()) return {};
      runtimes.push_back(std::make_unique<Runtime>(member, *address));
    }
    for (const auto& runtime : runtimes) {
      const bool serving = WaitUntil(
          [&] {
            return runtime->HealthStatus() == HealthCheckResponse::SERVING;
          },
          absl::Seconds(20), absl::Milliseconds(10));
      EXPECT_TRUE(serving) << runtime->member_id << " never reported SERVING\n"
                           << cluster_->RuntimeServerLog(runtime->member_id);
      if (!serving) return {};
    }
    return runtimes;
  }

  static std::string* dir_;
  static testing::LocalCluster* cluster_;
  static std::shared_ptr<grpc::Channel> channel_;
  static v1::Coordinator::Stub* coordinator_;
  static v1::Deployments::Stub* deployments_;

  v1::InteractiveChannel demo_;
  // Runtime servers this test started, stopped after it.
  std::vector<std::string> started_;
};

std::string* RuntimeIntegrationTest::dir_ = nullptr;
testing::LocalCluster* RuntimeIntegrationTest::cluster_ = nullptr;
std::shared_ptr<grpc::Channel> RuntimeIntegrationTest::channel_;
v1::Coordinator::Stub* RuntimeIntegrationTest::coordinator_ = nullptr;
v1::Deployments::Stub* RuntimeIntegrationTest::deployments_ = nullptr;

// ---------------------------------------------------------------- tests

// A DISTRIBUTED group's session is served by whichever server a call
// reaches: started on A, offered on B, accepted on A, then B sees the
// acceptance. Business problems are advisories; malformed requests are
// gRPC errors.
TEST_F(RuntimeIntegrationTest, SessionMovesBetweenServers) {
  const std::string group = "moves";
  ASSERT_NO_FATAL_FAILURE(CreateGroupWithDemo(group));
  auto servers = StartRuntimes(group, {"moves-a", "moves-b"});
  ASSERT_EQ(servers.size(), 2u);
  const Runtime& a = *servers[0];
  const Runtime& b = *servers[1];
  const Oracle oracle(demo_);

  // A Gold customer: segments Gold and Everyone.
  const Visitor gold{1001, 40, std::string("Gold"), DaysAgo(20)};
  a.LoadProfiles({gold});
  const absl::Time now = absl::Now();
  const std::vector<std::string> segments = oracle.Segments(gold, now, nullptr);
  ASSERT_THAT(segments, ElementsAreArray({"Gold", "Everyone"}));

  const std::string session = "moves-session-1";
  const v1::StartSessionResponse started =
      a.StartSession(session, gold.id, {String("Device", "web")});
  ASSERT_EQ(started.status(), v1::SUCCESS) << Advisories(started);
  EXPECT_EQ(started.session_id(), session);

  const v1::GetOffersResponse first = b.GetOffers(session, kHero, 5);
  ASSERT_EQ(first.status(), v1::SUCCESS) << Advisories(first);
  const std::vector<std::string> expected_first =
      oracle.Offers(segments, kHero, gold, absl::nullopt, {}, now, 5);
  ASSERT_THAT(expected_first, ElementsAreArray({"GoldCard", "WinterSale"}));
  ASSERT_THAT(OfferNames(first.offer_list()), ElementsAreArray(expected_first));
  EXPECT_EQ(first.offer_list().interaction_point(), kHero);
  EXPECT_EQ(first.offer_list().default_string(), "");
  EXPECT_THAT(first.offer_list().offers(0).code(),
              ElementsAreArray({"GC", "001"}));
  EXPECT_EQ(first.offer_list().offers(0).score(), 90);
  EXPECT_EQ(first.offer_list().offers(1).score(), 50);
  const std::string gold_card_code =
      first.offer_list().offers(0).treatment_code();
  ASSERT_FALSE(gold_card_code.empty());
  EXPECT_NE(gold_card_code, first.offer_list().offers(1).treatment_code());

  // The checkout sidebar on A: Gold shipping; Big cart shipping is not
  // eligible without a CartValue.
  const v1::GetOffersResponse checkout = a.GetOffers(session, kCheckout, 5);
  ASSERT_EQ(checkout.status(), v1::SUCCESS) << Advisories(checkout);
  EXPECT_THAT(OfferNames(checkout.offer_list()),
              ElementsAreArray(oracle.Offers(segments, kCheckout, gold,
                                             absl::nullopt, {}, now, 5)));
  EXPECT_THAT(OfferNames(checkout.offer_list()),
              ElementsAreArray({"FreeShipping"}));

  // Back on B for the hero (the checkout call replaced the last
  // recommended offers), with a session parameter; then accept the Gold
  // card on A.
  const v1::GetOffersResponse hero =
      b.GetOffers(session, kHero, 5, nullptr, {String("Page", "home")});
  ASSERT_EQ(hero.status(), v1::SUCCESS) << Advisories(hero);
  ASSERT_THAT(OfferNames(hero.offer_list()), ElementsAreArray(expected_first));
  // At once, on A: A may still hold the session as it was before B's call
  // in its near cache (the invalidation is asynchronous); a treatment code
  // it does not know makes it read the tier's latest copy
  // (ATreatmentCodeFromOneServerIsAcceptedByTheOther).
  const std::string accepted_code =
      hero.offer_list().offers(0).treatment_code();
  const v1::PostEventResponse accepted =
      a.PostEvent(session, "OfferAccepted",
                  {String("UACIOfferTrackingCode", accepted_code),
                   String("Device", "mobile")});
  ASSERT_EQ(accepted.status(), v1::SUCCESS) << Advisories(accepted);

  // B: the accepted Gold card is suppressed; Winter sale (presented twice
  // so far, the limit is 3) is still offered.
  const v1::GetOffersResponse after = b.GetOffers(session, kHero, 5);
  ASSERT_EQ(after.status(), v1::SUCCESS) << Advisories(after);
  EXPECT_THAT(
      OfferNames(after.offer_list()),
      ElementsAreArray(oracle.Offers(segments, kHero, gold, absl::nullopt,
                                     {"GoldCard"}, absl::Now(), 5)));
  EXPECT_THAT(OfferNames(after.offer_list()), ElementsAreArray({"WinterSale"}));

  // B's GetProfile: the profile, then the session's parameters as A's
  // event left them.
  const v1::GetProfileResponse profile = b.GetProfile(session);
  ASSERT_EQ(profile.status(), v1::SUCCESS) << Advisories(profile);
  const v1::NameValue* age = FindValue(profile.profile(), "Age");
  ASSERT_NE(age, nullptr) << profile.ShortDebugString();
  EXPECT_EQ(age->number_value(), 40);
  const v1::NameValue* tier = FindValue(profile.profile(), "Tier");
  ASSERT_NE(tier, nullptr);
  EXPECT_EQ(tier->string_value(), "Gold");
  const v1::NameValue* last = FindValue(profile.profile(), "LastPurchase");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->datetime_value().seconds(),
            absl::ToUnixSeconds(*gold.last_purchase));
  const v1::NameValue* device = FindValue(profile.profile(), "Device");
  ASSERT_NE(device, nullptr) << profile.ShortDebugString();
  EXPECT_EQ(device->string_value(), "mobile");
  const v1::NameValue* tracking =
      FindValue(profile.profile(), "UACIOfferTrackingCode");
  ASSERT_NE(tracking, nullptr);
  EXPECT_EQ(tracking->string_value(), accepted_code);

  // Business problems: advisories with status ERROR.
  for (const Runtime* server : {&a, &b}) {
    const v1::GetOffersResponse unknown_session =
        server->GetOffers("no-such-session", kHero, 1);
    EXPECT_EQ(unknown_session.status(), v1::ERROR);
    EXPECT_TRUE(HasAdvisory(unknown_session, v1::INVALID_SESSION_ID))
        << Advisories(unknown_session);
    EXPECT_THAT(unknown_session.offer_list().offers(), IsEmpty());

    const v1::GetOffersResponse unknown_ip =
        server->GetOffers(session, "NoSuchPoint", 1);
    EXPECT_EQ(unknown_ip.status(), v1::ERROR);
    EXPECT_TRUE(HasAdvisory(unknown_ip, v1::INVALID_INTERACTION_POINT))
        << Advisories(unknown_ip);
    EXPECT_THAT(unknown_ip.offer_list().offers(), IsEmpty());

    const v1::PostEventResponse unknown_event =
        server->PostEvent(session, "NoSuchEvent");
    EXPECT_EQ(unknown_event.status(), v1::ERROR);
    EXPECT_TRUE(HasAdvisory(unknown_event, v1::INVALID_EVENT_NAME))
        << Advisories(unknown_event);

    const v1::PostEventResponse bad_code = server->PostEvent(
        session, "OfferAccepted", {String("UACIOfferTrackingCode", "nope")});
    EXPECT_EQ(bad_code.status(), v1::ERROR);
    EXPECT_TRUE(HasAdvisory(bad_code, v1::INVALID_OFFER_TRACKING_CODE))
        << Advisories(bad_code);

    // Malformed: no session id.
    grpc::Status status;
    server->GetOffers("", kHero, 1, &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    server->StartSession("", gold.id, {}, &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    server->PostEvent("", "OfferShown", {}, &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
  }
}

// A client that alternates servers reads its own writes: the server it
// comes back to may hold an older copy of the session in its near cache,
// yet a treatment code the other server just returned is accepted.
//
// DISABLED because of a product bug; it fails today (5-14 of the 30
// rounds). PostEvent (services/runtime/engine/post_event.cc) looks the
// tracking code up in the session as SessionStore::Get returned it, and
// DistributedSessionStore::Get serves A's near-cache copy, which lacks B's
// last recommended offers until B's invalidation (published
// asynchronously) reaches A. The code is then reported
// INVALID_OFFER_TRACKING_CODE and nothing is written, so the
// compare-and-set that protects the other calls from stale copies never
// runs.
TEST_F(RuntimeIntegrationTest,
       ATreatmentCodeFromOneServerIsAcceptedByTheOther) {
  const std::string group = "ping-pong";
  ASSERT_NO_FATAL_FAILURE(CreateGroupWithDemo(group));
  auto servers = StartRuntimes(group, {"ping-pong-a", "ping-pong-b"});
  ASSERT_EQ(servers.size(), 2u);
  const Runtime& a = *servers[0];
  const Runtime& b = *servers[1];
  const Visitor lapsed{1002, 50, std::string("Silver"), DaysAgo(400)};
  a.LoadProfiles({lapsed});

  constexpr int kRounds = 30;
  int failed = 0;
  std::string first_failure;
  for (int i = 0; i < kRounds; ++i) {
    const std::string session = absl::StrCat("ping-pong-", i);
    ASSERT_EQ(a.StartSession(session, lapsed.id).status(), v1::SUCCESS);
    const v1::GetOffersResponse offers = b.GetOffers(session, kHero, 2);
    ASSERT_EQ(offers.status(), v1::SUCCESS) << Advisories(offers);
    ASSERT_EQ(offers.offer_list().offers_size(), 2);
    const v1::PostEventResponse accepted =
        a.PostEvent(session, "OfferAccepted",
                    {String("UACIOfferTrackingCode",
                            offers.offer_list().offers(0).treatment_code())});
    if (accepted.status() != v1::SUCCESS) {
      if (failed++ == 0) first_failure = Advisories(accepted);
    }
  }
  EXPECT_EQ(failed, 0) << failed << " of " << kRounds
                       << " acceptances on A of a code B had just returned "
                          "failed; the first: "
                       << first_failure;
}

// GetOffers traffic on both servers while v2 is deployed: no call fails,
// both servers serve v2 within a second of Deploy returning (and never v1
// again), Rollback brings v1 back, Undeploy ends the channel.
TEST_F(RuntimeIntegrationTest, DeployV2UnderTrafficFailsNothing) {
  const std::string group = "rollout";
  ASSERT_NO_FATAL_FAILURE(CreateGroupWithDemo(group));
  auto servers = StartRuntimes(group, {"rollout-a", "rollout-b"});
  ASSERT_EQ(servers.size(), 2u);
  const Oracle oracle(demo_);

  // v2 differs in what an exhausted session sees at the hero: the default
  // string.
  v1::InteractiveChannel v2 = demo_;
  for (v1::InteractionPoint& ip : *v2.mutable_interaction_points()) {
    if (ip.name() == kHero) ip.set_default_string("Welcome to v2");
  }
  const std::string v1_text = oracle.DefaultString(kHero);
  const std::string v2_text = "Welcome to v2";
  ASSERT_FALSE(v1_text.empty());

  // Lapsed customers get Come back and Winter sale, each shown at most 3
  // times in a session: after three calls the hero shows its default
  // string.
  const Visitor lapsed{1003, 50, std::string("Silver"), DaysAgo(400)};
  servers[0]->LoadProfiles({lapsed});
  constexpr int kSessionsPerServer = 2;
  struct Worker {
    const Runtime* server;
    int server_index;
    std::string session;
  };
  std::vector<Worker> workers;
  for (int s = 0; s < 2; ++s) {
    for (int i = 0; i < kSessionsPerServer; ++i) {
      Worker worker{servers[s].get(), s, absl::StrCat("rollout-", s, "-", i)};
      ASSERT_EQ(worker.server->StartSession(worker.session, lapsed.id).status(),
                v1::SUCCESS);
      for (int call = 0; call < 3; ++call) {
        const v1::GetOffersResponse r =
            worker.server->GetOffers(worker.session, kHero, 5);
        ASSERT_EQ(r.status(), v1::SUCCESS) << Advisories(r);
        EXPECT_THAT(OfferNames(r.offer_list()),
                    ElementsAreArray({"ComeBack", "WinterSale"}));
      }
      const v1::GetOffersResponse exhausted =
          worker.server->GetOffers(worker.session, kHero, 5);
      ASSERT_THAT(exhausted.offer_list().offers(), IsEmpty());
      ASSERT_EQ(exhausted.offer_list().default_string(), v1_text);
      workers.push_back(worker);
    }
  }

  struct Call {
    int server;
    absl::Time sent;
    absl::Time received;
    grpc::Status status;
    v1::GetOffersResponse response;
  };
  std::atomic<bool> stop{false};
  std::vector<std::vector<Call>> calls(workers.size());
  std::vector<std::thread> threads;
  const absl::Time traffic_start = absl::Now();
  for (size_t w = 0; w < workers.size(); ++w) {
    threads.emplace_back([&, w] {
      const Worker& worker = workers[w];
      // Bounded even if the main thread never says stop.
      while (!stop.load() && absl::Now() - traffic_start < absl::Seconds(8)) {
        Call call;
        call.server = worker.server_index;
        call.sent = absl::Now();
        call.response =
            worker.server->GetOffers(worker.session, kHero, 5, &call.status);
        call.received = absl::Now();
        calls[w].push_back(std::move(call));
      }
    });
  }
  absl::SleepFor(absl::Seconds(1));
  const absl::Time deploy_called = absl::Now();
  const v1::Deployment deployed = Deploy(group, v2, "v2: new hero default");
  const absl::Time deploy_returned = absl::Now();
  EXPECT_EQ(deployed.version(), 2u);
  EXPECT_TRUE(deployed.active());
  // Keep the traffic going past the switch.
  absl::SleepFor(absl::Milliseconds(1500));
  stop = true;
  for (std::thread& t : threads) t.join();

  int64_t total = 0;
  int64_t failed = 0;
  std::string first_failure;
  absl::Time first_v2[2] = {absl::InfiniteFuture(), absl::InfiniteFuture()};
  int64_t per_server[2] = {0, 0};
  for (const auto& worker_calls : calls) {
    for (const Call& call : worker_calls) {
      ++total;
      ++per_server[call.server];
      const bool ok = call.status.ok() &&
                      call.response.status() == v1::SUCCESS &&
                      call.response.offer_list().offers().empty() &&
                      (call.response.offer_list().default_string() == v1_text ||
                       call.response.offer_list().default_string() == v2_text);
      if (!ok) {
        if (failed++ == 0) {
          first_failure = absl::StrCat(call.status.error_message(), " ",
                                       call.response.ShortDebugString());
        }
        continue;
      }
      if (call.response.offer_list().default_string() == v2_text) {
        EXPECT_GE(call.received, deploy_called) << "v2 served before Deploy";
        first_v2[call.server] = std::min(first_v2[call.server], call.received);
      }
    }
  }
  EXPECT_EQ(failed, 0) << failed << " of " << total
                       << " calls failed; first: " << first_failure;
  EXPECT_GT(per_server[0], 100) << "too little traffic on A";
  EXPECT_GT(per_server[1], 100) << "too little traffic on B";
  for (int s = 0; s < 2; ++s) {
    ASSERT_NE(first_v2[s], absl::InfiniteFuture())
        << servers[s]->member_id << " never served v2";
    EXPECT_LE(first_v2[s] - deploy_returned, absl::Seconds(1))
        << servers[s]->member_id << " switched to v2 "
        << absl::FormatDuration(first_v2[s] - deploy_returned)
        << " after Deploy returned";
    std::cout << servers[s]->member_id << " served v2 "
              << absl::FormatDuration(first_v2[s] - deploy_returned)
              << " after Deploy returned (" << per_server[s] << " calls)\n";
  }
  // Atomic switch: once a server answered with v2, every call sent to it
  // afterwards is v2.
  for (const auto& worker_calls : calls) {
    for (const Call& call : worker_calls) {
      if (call.sent > first_v2[call.server]) {
        EXPECT_EQ(call.response.offer_list().default_string(), v2_text)
            << servers[call.server]->member_id << " went back to v1";
      }
    }
  }

  // Serves `text` at the hero, on every worker's session, within a second.
  auto all_serve = [&](const std::string& text, absl::Time since) {
    for (const Worker& worker : workers) {
      std::string seen;
      const bool switched = WaitUntil(
          [&] {
            const v1::GetOffersResponse r =
                worker.server->GetOffers(worker.session, kHero, 5);
            EXPECT_EQ(r.status(), v1::SUCCESS) << Advisories(r);
            seen = r.offer_list().default_string();
            return seen == text;
          },
          absl::Seconds(1) - (absl::Now() - since), absl::Milliseconds(1));
      EXPECT_TRUE(switched) << worker.server->member_id << " still serves '"
                            << seen << "', not '" << text << "'";
    }
  };

  // Rollback to v1: a new version (3) with v1's content.
  v1::RollbackRequest rollback;
  rollback.set_group(group);
  rollback.set_channel(kChannel);
  rollback.set_version(1);
  rollback.set_comment("back to v1");
  v1::Deployment rolled_back;
  const grpc::Status rollback_status =
      deployments_->Rollback(Context().get(), rollback, &rolled_back);
  ASSERT_TRUE(rollback_status.ok()) << rollback_status.error_message();
  EXPECT_EQ(rolled_back.version(), 3u);
  EXPECT_EQ(rolled_back.rolled_back_from(), 1u);
  all_serve(v1_text, absl::Now());

  // Undeploy: sessions of the channel get INVALID_INTERACTIVE_CHANNEL, and
  // so do new ones.
  v1::UndeployRequest undeploy;
  undeploy.set_group(group);
  undeploy.set_channel(kChannel);
  v1::UndeployResponse undeployed;
  const grpc::Status undeploy_status =
      deployments_->Undeploy(Context().get(), undeploy, &undeployed);
  ASSERT_TRUE(undeploy_status.ok()) << undeploy_status.error_message();
  EXPECT_EQ(undeployed.version(), 3u);
  const absl::Time undeploy_returned = absl::Now();
  for (const Worker& worker : workers) {
    v1::GetOffersResponse last;
    const bool gone = WaitUntil(
        [&] {
          grpc::Status status;
          last = worker.server->GetOffers(worker.session, kHero, 5, &status);
          EXPECT_TRUE(status.ok()) << status.error_message();
          return HasAdvisory(last, v1::INVALID_INTERACTIVE_CHANNEL);
        },
        absl::Seconds(1) - (absl::Now() - undeploy_returned),
        absl::Milliseconds(1));
    EXPECT_TRUE(gone) << worker.server->member_id << ": " << Advisories(last);
    EXPECT_EQ(last.status(), v1::ERROR);
    EXPECT_THAT(last.offer_list().offers(), IsEmpty());
  }
  for (const auto& server : servers) {
    const v1::StartSessionResponse r =
        server->StartSession(absl::StrCat(server->member_id, "-new"), 1003);
    EXPECT_EQ(r.status(), v1::ERROR);
    EXPECT_TRUE(HasAdvisory(r, v1::INVALID_INTERACTIVE_CHANNEL))
        << Advisories(r);
  }
}

// Contacts, acceptances and rejections posted on both servers are exported
// once each, from either server.
TEST_F(RuntimeIntegrationTest, HistoryExportHoldsEveryEventOnce) {
  const std::string group = "history";
  ASSERT_NO_FATAL_FAILURE(CreateGroupWithDemo(group));
  auto servers = StartRuntimes(group, {"history-a", "history-b"});
  ASSERT_EQ(servers.size(), 2u);

  constexpr int kSessions = 20;
  std::vector<Visitor> visitors;
  for (int i = 0; i < kSessions; ++i) {
    // Gold (Gold card, Winter sale) or lapsed (Come back, Winter sale).
    visitors.push_back(
        i % 3 == 0
            ? Visitor{3000 + i, 40, std::string("Gold"), DaysAgo(20)}
            : Visitor{3000 + i, 50, std::string("Silver"), DaysAgo(400)});
  }
  servers[0]->LoadProfiles(visitors);

  // (kind, treatment code) -> the record expected.
  std::map<std::pair<v1::HistoryKind, std::string>, v1::HistoryRecord> expected;
  auto expect = [&](v1::HistoryKind kind, const std::string& session,
                    const Visitor& v, const v1::Offer& offer) {
    v1::HistoryRecord record;
    record.set_kind(kind);
    record.set_session_id(session);
    record.set_interactive_channel(kChannel);
    record.set_audience_level(kLevel);
    record.set_audience_id(absl::StrCat("CustomerID=", v.id));
    record.set_offer(offer.name());
    record.set_treatment_code(offer.treatment_code());
    record.set_interaction_point(kHero);
    EXPECT_TRUE(
        expected.emplace(std::make_pair(kind, offer.treatment_code()), record)
            .second)
        << "treatment code repeated: " << offer.treatment_code();
  };
  const absl::Time begin =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  for (int i = 0; i < kSessions; ++i) {
    const Visitor& v = visitors[i];
    const std::string session = absl::StrCat("history-", i);
    // Started on one server, served by the other for half of them.
    const Runtime& starter = *servers[i % 2];
    const Runtime& server = *servers[(i / 2) % 2];
    ASSERT_EQ(starter.StartSession(session, v.id).status(), v1::SUCCESS);
    const v1::GetOffersResponse offers = server.GetOffers(session, kHero, 5);
    ASSERT_EQ(offers.status(), v1::SUCCESS) << Advisories(offers);
    ASSERT_EQ(offers.offer_list().offers_size(), 2);
    const v1::Offer& o1 = offers.offer_list().offers(0);
    const v1::Offer& o2 = offers.offer_list().offers(1);
    if (i % 2 == 0) {
      // A contact for every offer shown, then an acceptance.
      const v1::PostEventResponse shown =
          server.PostEvent(session, "OfferShown");
      ASSERT_EQ(shown.status(), v1::SUCCESS) << Advisories(shown);
      expect(v1::CONTACT, session, v, o1);
      expect(v1::CONTACT, session, v, o2);
      const v1::PostEventResponse accepted = server.PostEvent(
          session, "OfferAccepted",
          {String("UACIOfferTrackingCode", o1.treatment_code())});
      ASSERT_EQ(accepted.status(), v1::SUCCESS) << Advisories(accepted);
      expect(v1::ACCEPTANCE, session, v, o1);
    } else {
      // A contact for one offer, a rejection of the other.
      const v1::PostEventResponse shown = server.PostEvent(
          session, "OfferShown",
          {String("UACIOfferTrackingCode", o2.treatment_code())});
      ASSERT_EQ(shown.status(), v1::SUCCESS) << Advisories(shown);
      expect(v1::CONTACT, session, v, o2);
      const v1::PostEventResponse rejected = server.PostEvent(
          session, "OfferRejected",
          {String("UACIOfferTrackingCode", o1.treatment_code())});
      ASSERT_EQ(rejected.status(), v1::SUCCESS) << Advisories(rejected);
      expect(v1::REJECTION, session, v, o1);
    }
  }
  const absl::Time end = absl::Now();
  ASSERT_EQ(expected.size(), static_cast<size_t>(kSessions / 2 * 5));

  for (const auto& server : servers) {
    // History is appended asynchronously: wait (bounded) for all of it.
    std::vector<v1::HistoryRecord> records;
    WaitUntil(
        [&] {
          records = server->ExportHistory();
          return records.size() >= expected.size();
        },
        absl::Seconds(10), absl::Milliseconds(100));
    EXPECT_EQ(records.size(), expected.size()) << server->member_id;
    std::map<std::pair<v1::HistoryKind, std::string>, int> seen;
    for (const v1::HistoryRecord& record : records) {
      const auto key = std::make_pair(record.kind(), record.treatment_code());
      ++seen[key];
      auto it = expected.find(key);
      if (it == expected.end()) {
        ADD_FAILURE() << "unexpected record " << record.ShortDebugString();
        continue;
      }
      const v1::HistoryRecord& want = it->second;
      EXPECT_EQ(record.session_id(), want.session_id());
      EXPECT_EQ(record.interactive_channel(), want.interactive_channel());
      EXPECT_EQ(record.audience_level(), want.audience_level());
      EXPECT_EQ(record.audience_id(), want.audience_id());
      EXPECT_EQ(record.offer(), want.offer());
      EXPECT_EQ(record.interaction_point(), want.interaction_point());
      const absl::Time time = absl::FromUnixMillis(
          TimeUtil::TimestampToMilliseconds(record.time()));
      EXPECT_GE(time, begin) << record.ShortDebugString();
      EXPECT_LE(time, end) << record.ShortDebugString();
    }
    for (const auto& [key, want] : expected) {
      EXPECT_EQ(seen[key], 1)
          << server->member_id << ": " << v1::HistoryKind_Name(key.first) << " "
          << key.second << " exported " << seen[key] << " times";
    }
    // Oldest first.
    for (size_t i = 1; i < records.size(); ++i) {
      EXPECT_LE(TimeUtil::TimestampToMilliseconds(records[i - 1].time()),
                TimeUtil::TimestampToMilliseconds(records[i].time()));
    }
  }
}

// SERVING means ready: the first SERVING a new server of a group with a
// deployment reports, it already serves the channel. A server started
// before its group exists does not serve until the group is created.
TEST_F(RuntimeIntegrationTest,
       ServerBecomesHealthyOnlyAfterLoadingDeployments) {
  {
    const std::string group = "warm";
    ASSERT_NO_FATAL_FAILURE(CreateGroupWithDemo(group));
    testing::RuntimeServerOptions options;
    options.group = group;
    options.member_id = "warm-1";
    absl::StatusOr<std::string> address = cluster_->StartRuntimeServer(options);
    ASSERT_TRUE(address.ok()) << address.status();
    started_.push_back(options.member_id);
    const Runtime server(options.member_id, *address);
    int not_serving = 0;
    const bool serving = WaitUntil(
        [&] {
          if (server.HealthStatus() == HealthCheckResponse::SERVING)
            return true;
          ++not_serving;
          return false;
        },
        absl::Seconds(20), absl::Milliseconds(1));
    ASSERT_TRUE(serving) << cluster_->RuntimeServerLog(options.member_id);
    // Right after the first SERVING: the channel is there.
    const v1::StartSessionResponse started =
        server.StartSession("warm-session", 9999001);
    EXPECT_FALSE(HasAdvisory(started, v1::INVALID_INTERACTIVE_CHANNEL))
        << Advisories(started) << " (after " << not_serving
        << " NOT_SERVING answers)";
    EXPECT_NE(started.status(), v1::ERROR) << Advisories(started);
    const v1::GetOffersResponse offers =
        server.GetOffers("warm-session", kHero, 1);
    EXPECT_EQ(offers.status(), v1::SUCCESS) << Advisories(offers);
  }
  {
    const std::string group = "late";
    testing::RuntimeServerOptions options;
    options.group = group;
    options.member_id = "late-1";
    ASSERT_TRUE(cluster_->LaunchRuntimeServer(options).ok());
    started_.push_back(options.member_id);
    absl::SleepFor(absl::Milliseconds(1500));
    // Waiting for its group: not listening, or listening but NOT_SERVING.
    if (cluster_->RuntimeServerListening(options.member_id)) {
      const Runtime early(options.member_id,
                          cluster_->runtime_server_address(options.member_id));
      EXPECT_NE(early.HealthStatus(), HealthCheckResponse::SERVING)
          << "serving a group that does not exist";
    }
    ASSERT_TRUE(
        cluster_
            ->WaitForRuntimeServerPort(options.member_id, absl::ZeroDuration())
            .status()
            .code() != absl::StatusCode::kUnavailable)
        << "it exited while waiting for its group";

    ASSERT_NO_FATAL_FAILURE(CreateGroupWithDemo(group));
    absl::StatusOr<std::string> address = cluster_->WaitForRuntimeServerPort(
        options.member_id, absl::Seconds(10));
    ASSERT_TRUE(address.ok()) << address.status();
    const Runtime server(options.member_id, *address);
    ASSERT_TRUE(WaitUntil(
        [&] { return server.HealthStatus() == HealthCheckResponse::SERVING; },
        absl::Seconds(10), absl::Milliseconds(10)))
        << cluster_->RuntimeServerLog(options.member_id);

    // A member of the group, at the address it listens on.
    v1::ListMembersRequest list;
    list.set_group(group);
    v1::MembershipView view;
    ASSERT_TRUE(coordinator_->ListMembers(Context().get(), list, &view).ok());
    ASSERT_EQ(view.members_size(), 1) << view.ShortDebugString();
    EXPECT_EQ(view.members(0).id(), options.member_id);
    EXPECT_EQ(view.members(0).role(), v1::RUNTIME_SERVER);
    EXPECT_EQ(view.members(0).address(), *address);

    // The deployment made right after the group may have come after the
    // server's first snapshot: give it a moment.
    v1::StartSessionResponse started;
    EXPECT_TRUE(WaitUntil(
        [&] {
          started = server.StartSession("late-session", 9999002);
          return !HasAdvisory(started, v1::INVALID_INTERACTIVE_CHANNEL);
        },
        absl::Seconds(2)))
        << Advisories(started);
    EXPECT_NE(started.status(), v1::ERROR) << Advisories(started);
  }
}

// TestRun over generated rows: per-row segments and paths, and the segment
// counts, equal a brute-force evaluation of the Web flowchart (Sample box
// included, through the specified hash); for a subset, live sessions of the
// same visitors get the offers those segments imply.
TEST_F(RuntimeIntegrationTest, TestRunCountsMatchBruteForce) {
  const std::string group = "test-run";
  ASSERT_NO_FATAL_FAILURE(CreateGroupWithDemo(group));
  auto servers = StartRuntimes(group, {"test-run-a"});
  ASSERT_EQ(servers.size(), 1u);
  const Runtime& server = *servers[0];
  const Oracle oracle(demo_);

  constexpr int kRows = 500;
  std::mt19937 random(20261126);
  auto chance = [&](int percent) {
    return std::uniform_int_distribution<int>(0, 99)(random) < percent;
  };
  std::vector<Visitor> visitors;
  for (int i = 0; i < kRows; ++i) {
    Visitor v;
    v.id = 500001 + i;
    if (!chance(5)) v.age = std::uniform_int_distribution<int>(16, 75)(random);
    if (!chance(5)) {
      static const char* const kTiers[] = {"Gold", "Silver", "Bronze", "gold"};
      v.tier = kTiers[std::uniform_int_distribution<int>(0, 3)(random)];
    }
    if (!chance(5)) {
      // Days ago, never within a few days of the 180-day boundary.
      int days = std::uniform_int_distribution<int>(1, 700)(random);
      if (days >= 175 && days <= 185) days += 20;
      v.last_purchase = DaysAgo(days);
    }
    visitors.push_back(v);
  }

  v1::TestRunRequest request;
  request.set_interactive_channel(kChannel);
  request.set_flowchart("Web");
  for (const Visitor& v : visitors) {
    v1::TestRow* row = request.add_rows();
    *row->add_values() = Number("CustomerID", static_cast<double>(v.id));
    if (v.age) *row->add_values() = Number("Age", *v.age);
    if (v.tier) *row->add_values() = String("Tier", *v.tier);
    if (v.last_purchase) {
      *row->add_values() = DateTime("LastPurchase", *v.last_purchase);
    }
  }
  const absl::Time now = absl::Now();
  v1::TestRunResponse response;
  const grpc::Status status = server.interact->TestRun(
      Context(absl::Seconds(30)).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.status(), v1::SUCCESS) << Advisories(response);
  ASSERT_EQ(response.rows_size(), kRows);

  std::map<std::string, uint64_t> expected_counts = {
      {"Gold", 0}, {"Young", 0}, {"Lapsed", 0}, {"Everyone", 0}};
  int sampled = 0;
  std::map<std::vector<std::string>, int> sampled_cells;
  for (int i = 0; i < kRows; ++i) {
    const v1::TestRowResult& row = response.rows(i);
    std::vector<std::string> path;
    const std::vector<std::string> segments =
        oracle.Segments(visitors[i], now, &path);
    for (const std::string& s : segments) ++expected_counts[s];
    if (oracle.Sampled(visitors[i], now)) {
      ++sampled;
      ++sampled_cells[segments];
    }
    EXPECT_EQ(row.row(), static_cast<uint32_t>(i + 1));
    EXPECT_THAT(row.errors(), IsEmpty()) << "row " << i + 1;
    EXPECT_THAT(row.segments(), ElementsAreArray(segments))
        << "row " << i + 1 << " (CustomerID " << visitors[i].id << ")";
    EXPECT_THAT(row.path(), ElementsAreArray(path)) << "row " << i + 1;
  }
  std::vector<std::pair<std::string, uint64_t>> counts;
  for (const v1::SegmentCount& c : response.segment_counts()) {
    counts.emplace_back(c.segment(), c.visitors());
  }
  EXPECT_THAT(counts,
              ElementsAreArray(std::vector<std::pair<std::string, uint64_t>>{
                  {"Gold", expected_counts["Gold"]},
                  {"Young", expected_counts["Young"]},
                  {"Lapsed", expected_counts["Lapsed"]},
                  {"Everyone", expected_counts["Everyone"]}}));
  EXPECT_EQ(expected_counts["Everyone"], static_cast<uint64_t>(kRows));
  // The rows exercise every path, the Sample box's both cells included.
  EXPECT_GT(expected_counts["Gold"], 50u);
  EXPECT_GT(expected_counts["Lapsed"], 50u);
  EXPECT_GT(sampled, 60);
  const std::vector<std::string> young = {"Young", "Everyone"};
  const std::vector<std::string> everyone = {"Everyone"};
  EXPECT_GT(sampled_cells[young], 20);
  EXPECT_GT(sampled_cells[everyone], 20);

  // Live sessions of a subset (sampled rows first): the offers the
  // segments imply.
  std::vector<Visitor> live;
  for (const Visitor& v : visitors) {
    if (live.size() < 40 && oracle.Sampled(v, now)) live.push_back(v);
  }
  for (const Visitor& v : visitors) {
    if (live.size() < 50 && !oracle.Sampled(v, now)) live.push_back(v);
  }
  server.LoadProfiles(live);
  for (const Visitor& v : live) {
    const std::string session = absl::StrCat("test-run-", v.id);
    const v1::StartSessionResponse started = server.StartSession(session, v.id);
    ASSERT_EQ(started.status(), v1::SUCCESS) << Advisories(started);
    const v1::GetOffersResponse offers = server.GetOffers(session, kHero, 10);
    ASSERT_EQ(offers.status(), v1::SUCCESS) << Advisories(offers);
    const absl::Time at = absl::Now();
    EXPECT_THAT(
        OfferNames(offers.offer_list()),
        ElementsAreArray(oracle.Offers(oracle.Segments(v, at, nullptr), kHero,
                                       v, absl::nullopt, {}, at, 10)))
        << "CustomerID " << v.id;
  }
}

// A LOCAL group keeps sessions in its server's memory: they work as usual,
// never reach the cache tier, and end with the process.
TEST_F(RuntimeIntegrationTest, LocalGroupKeepsSessionsInMemory) {
  const std::string group = "local";
  ASSERT_NO_FATAL_FAILURE(CreateGroupWithDemo(group, v1::LOCAL));
  auto servers = StartRuntimes(group, {"local-1"});
  ASSERT_EQ(servers.size(), 1u);
  const Runtime& server = *servers[0];
  const Oracle oracle(demo_);

  const Visitor young{6001, 22, std::string("Silver"), DaysAgo(30)};
  server.LoadProfiles({young});
  const absl::Time now = absl::Now();
  const std::vector<std::string> segments =
      oracle.Segments(young, now, nullptr);
  ASSERT_THAT(segments, ElementsAreArray({"Young", "Everyone"}));

  const std::string session = "local-session";
  const v1::StartSessionResponse started =
      server.StartSession(session, young.id, {Number("CartValue", 80)});
  ASSERT_EQ(started.status(), v1::SUCCESS) << Advisories(started);
  const v1::GetOffersResponse hero = server.GetOffers(session, kHero, 5);
  ASSERT_EQ(hero.status(), v1::SUCCESS) << Advisories(hero);
  EXPECT_THAT(OfferNames(hero.offer_list()),
              ElementsAreArray(oracle.Offers(segments, kHero, young,
                                             absl::nullopt, {}, now, 5)));
  EXPECT_THAT(OfferNames(hero.offer_list()),
              ElementsAreArray({"Newsletter", "WinterSale"}));
  // CartValue 80 makes Big cart shipping eligible at the checkout.
  const v1::GetOffersResponse checkout =
      server.GetOffers(session, kCheckout, 5);
  ASSERT_EQ(checkout.status(), v1::SUCCESS) << Advisories(checkout);
  EXPECT_THAT(OfferNames(checkout.offer_list()),
              ElementsAreArray(
                  oracle.Offers(segments, kCheckout, young, 80.0, {}, now, 5)));
  ASSERT_THAT(OfferNames(checkout.offer_list()),
              ElementsAreArray({"Newsletter", "FreeShipping"}));
  const v1::PostEventResponse accepted = server.PostEvent(
      session, "OfferAccepted",
      {String("UACIOfferTrackingCode",
              checkout.offer_list().offers(0).treatment_code())});
  EXPECT_EQ(accepted.status(), v1::SUCCESS) << Advisories(accepted);
  const v1::GetProfileResponse profile = server.GetProfile(session);
  ASSERT_EQ(profile.status(), v1::SUCCESS) << Advisories(profile);
  const v1::NameValue* cart = FindValue(profile.profile(), "CartValue");
  ASSERT_NE(cart, nullptr) << profile.ShortDebugString();
  EXPECT_EQ(cart->number_value(), 80);

  // Not in the cache tier.
  cache::CacheClientOptions options;
  options.coordinator_address = cluster_->coordinator_address();
  options.credentials = Credentials();
  auto client = cache::CacheClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<v1::ScanResponse> scan =
      (*client)->Scan(absl::StrCat("sessions/", group), "", "", 100);
  if (scan.ok()) {
    EXPECT_EQ(scan->entries_size(), 0) << scan->ShortDebugString();
  }

  // A restarted server no longer knows the session.
  ASSERT_TRUE(cluster_->StopRuntimeServer("local-1").ok());
  started_.clear();
  servers = StartRuntimes(group, {"local-1"});
  ASSERT_EQ(servers.size(), 1u);
  const v1::GetOffersResponse gone = servers[0]->GetOffers(session, kHero, 5);
  EXPECT_EQ(gone.status(), v1::ERROR);
  EXPECT_TRUE(HasAdvisory(gone, v1::INVALID_SESSION_ID)) << Advisories(gone);
}

// NUMBER audience IDs are part of a visitor's identity in full: visitors
// with IDs above 999999 are sampled by their own ID and logged with it.
//
// DISABLED because of a product bug; it fails today. AudienceIdText
// (services/runtime/engine/visitor_values.cc) writes numbers with
// absl::StrAppend(double), i.e. six significant digits: CustomerID 1234567
// becomes "CustomerID=1.23457e+06", visitors 1000000-1000004 share the
// Sample key "CustomerID=1e+06" (so land in one cell), and history records
// name such visitors ambiguously.
TEST_F(RuntimeIntegrationTest, LargeNumericAudienceIdsKeepTheirIdentity) {
  const std::string group = "large-ids";
  ASSERT_NO_FATAL_FAILURE(CreateGroupWithDemo(group));
  auto servers = StartRuntimes(group, {"large-ids-a"});
  ASSERT_EQ(servers.size(), 1u);
  const Runtime& server = *servers[0];
  const Oracle oracle(demo_);

  // Every row goes through the Sample box.
  std::vector<Visitor> visitors;
  for (int i = 0; i < 200; ++i) {
    visitors.push_back(
        Visitor{1000000 + i, 45, std::string("Silver"), DaysAgo(20)});
  }
  v1::TestRunRequest request;
  request.set_interactive_channel(kChannel);
  request.set_flowchart("Web");
  for (const Visitor& v : visitors) {
    v1::TestRow* row = request.add_rows();
    *row->add_values() = Number("CustomerID", static_cast<double>(v.id));
    *row->add_values() = Number("Age", *v.age);
    *row->add_values() = String("Tier", *v.tier);
    *row->add_values() = DateTime("LastPurchase", *v.last_purchase);
  }
  const absl::Time now = absl::Now();
  v1::TestRunResponse response;
  const grpc::Status status = server.interact->TestRun(
      Context(absl::Seconds(30)).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.rows_size(), static_cast<int>(visitors.size()));
  int mismatches = 0;
  for (size_t i = 0; i < visitors.size(); ++i) {
    ASSERT_TRUE(oracle.Sampled(visitors[i], now));
    const std::vector<std::string> expected =
        oracle.Segments(visitors[i], now, nullptr);
    const std::vector<std::string> got(response.rows(i).segments().begin(),
                                       response.rows(i).segments().end());
    if (got != expected) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0) << "of " << visitors.size()
                           << " visitors with IDs 1000000-1000199 were not "
                              "sampled by their own ID";

  // History names the visitor in full.
  const Visitor big{1234567, 45, std::string("Gold"), DaysAgo(20)};
  server.LoadProfiles({big});
  ASSERT_EQ(server.StartSession("large-ids-session", big.id).status(),
            v1::SUCCESS);
  const v1::GetOffersResponse offers =
      server.GetOffers("large-ids-session", kHero, 1);
  ASSERT_EQ(offers.offer_list().offers_size(), 1);
  ASSERT_EQ(
      server
          .PostEvent("large-ids-session", "OfferShown",
                     {String("UACIOfferTrackingCode",
                             offers.offer_list().offers(0).treatment_code())})
          .status(),
      v1::SUCCESS);
  std::vector<v1::HistoryRecord> records;
  WaitUntil(
      [&] {
        records = server.ExportHistory();
        return !records.empty();
      },
      absl::Seconds(10), absl::Milliseconds(100));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].audience_id(), "CustomerID=1234567");
}

// runtime_integration_tls_test only: the cluster really is on mutual TLS.
// A plaintext client and a TLS client without a certificate get nowhere;
// the test's own (certificate-carrying) channels work.
TEST_F(RuntimeIntegrationTest, OverMutualTlsOnlyCertifiedClientsConnect) {
  if (!cluster_->tls()) GTEST_SKIP() << "the cluster runs without TLS";
  ASSERT_NO_FATAL_FAILURE(CreateGroupWithDemo("tls"));
  std::vector<std::unique_ptr<Runtime>> runtimes =
      StartRuntimes("tls", {"tls-1"});
  ASSERT_EQ(runtimes.size(), 1u);
  EXPECT_EQ(runtimes[0]->HealthStatus(), HealthCheckResponse::SERVING);

  TlsFiles ca_only;
  ca_only.ca_file = cluster_->client_tls().ca_file;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> server_verified =
      MakeChannelCredentials(ca_only);
  ASSERT_TRUE(server_verified.ok()) << server_verified.status();
  for (const std::string& address :
       {cluster_->coordinator_address(), cluster_->cache_node_address(1),
        runtimes[0]->address}) {
    SCOPED_TRACE(address);
    for (const auto& credentials :
         {grpc::InsecureChannelCredentials(), *server_verified}) {
      auto health = Health::NewStub(grpc::CreateChannel(address, credentials));
      HealthCheckResponse response;
      EXPECT_FALSE(health
                       ->Check(Context(absl::Seconds(2)).get(),
                               HealthCheckRequest(), &response)
                       .ok());
    }
    auto health = Health::NewStub(Channel(address));
    HealthCheckResponse response;
    EXPECT_TRUE(health
                    ->Check(Context(absl::Seconds(5)).get(),
                            HealthCheckRequest(), &response)
                    .ok());
  }
}

}  // namespace
}  // namespace parley
