// The metrics endpoint of real server processes on 127.0.0.1: a
// coordinator and a cache node started with --metrics_port=0, a few gRPC
// calls, then /metrics scraped over HTTP and parsed.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/common/metrics/text_parser.h"
#include "tests/support/child_process.h"

namespace parley {
namespace {

using ::parley::metrics::FindSample;
using ::parley::metrics::FindSamples;
using ::parley::metrics::ParsedSample;
using ::parley::metrics::ParsedScrape;
using ::parley::testing::StartedServer;
namespace v1 = ::parley::v1;

constexpr char kCoordinator[] = "services/coordinator/parley-coordinator";
constexpr char kCacheNode[] = "cache_node/parley-cache-node";
constexpr int kPartitions = 8;

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  return context;
}

// A server process with its metrics port.
struct Process {
  StartedServer server;
  int metrics_port = 0;
};

// GET /metrics, parsed; fails the test on any HTTP or format error.
ParsedScrape Scrape(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  httplib::Result result = client.Get("/metrics");
  EXPECT_TRUE(result) << "scraping port " << port << ": "
                      << httplib::to_string(result.error());
  if (!result) return {};
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  absl::StatusOr<ParsedScrape> scrape = metrics::ParseTextFormat(result->body);
  EXPECT_TRUE(scrape.ok()) << scrape.status() << "\n" << result->body;
  return scrape.ok() ? *scrape : ParsedScrape();
}

bool WaitUntil(const std::function<bool()>& condition,
               absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return condition();
}

double Requests(const ParsedScrape& scrape, const std::string& service,
                const std::string& method, const std::string& code) {
  return FindSample(scrape, "parley_grpc_requests_total",
                    {{"service", service}, {"method", method}, {"code", code}})
      .value_or(0);
}

// Checks every series of a histogram: buckets cumulative in `le` order,
// ending at +Inf with the series' _count.
void ExpectWellFormedHistogram(const ParsedScrape& scrape,
                               const std::string& name) {
  auto family = scrape.find(name);
  ASSERT_NE(family, scrape.end()) << name << " missing";
  EXPECT_EQ(family->second.type, "histogram");
  // Series by their labels without "le".
  std::map<std::map<std::string, std::string>, std::vector<ParsedSample>>
      buckets;
  for (const ParsedSample& sample : family->second.samples) {
    if (sample.name != name + "_bucket") continue;
    std::map<std::string, std::string> series = sample.labels;
    series.erase("le");
    buckets[series].push_back(sample);
  }
  ASSERT_FALSE(buckets.empty()) << name << " has no series";
  for (auto& [series, samples] : buckets) {
    auto bound = [](const ParsedSample& s) {
      const std::string& le = s.labels.at("le");
      double value = HUGE_VAL;
      if (le != "+Inf") {
        EXPECT_TRUE(absl::SimpleAtod(le, &value)) << le;
      }
      return value;
    };
    std::sort(samples.begin(), samples.end(),
              [&](const ParsedSample& a, const ParsedSample& b) {
                return bound(a) < bound(b);
              });
    EXPECT_EQ(samples.back().labels.at("le"), "+Inf");
    for (size_t i = 1; i < samples.size(); ++i) {
      EXPECT_LE(samples[i - 1].value, samples[i].value)
          << name
          << " buckets not cumulative at le=" << samples[i].labels.at("le");
    }
    const std::optional<double> count =
        FindSample(scrape, name + "_count", series);
    ASSERT_TRUE(count.has_value()) << name << "_count missing";
    EXPECT_EQ(*count, samples.back().value);
    EXPECT_TRUE(FindSample(scrape, name + "_sum", series).has_value());
  }
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTempDir(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_NO_FATAL_FAILURE(
        coordinator_ = Start(kCoordinator, "coordinator",
                             {absl::StrCat("--data_dir=", dir_, "/coord"),
                              absl::StrCat("--partitions=", kPartitions),
                              "--replication_factor=1"}));
    ASSERT_NO_FATAL_FAILURE(
        cache_ = Start(
            kCacheNode, "cache-1",
            {"--node_id=cache-1", absl::StrCat("--data_dir=", dir_, "/cache-1"),
             absl::StrCat("--coordinator=", coordinator_.server.address()),
             "--lease_ttl_seconds=2", "--shutdown_grace_seconds=3"}));
    coordinator_stub_ = v1::Coordinator::NewStub(grpc::CreateChannel(
        coordinator_.server.address(), grpc::InsecureChannelCredentials()));
    cache_stub_ = v1::CacheNode::NewStub(grpc::CreateChannel(
        cache_.server.address(), grpc::InsecureChannelCredentials()));
  }

  Process Start(const std::string& binary, const std::string& name,
                std::vector<std::string> args) {
    const std::string port_file =
        absl::StrCat(dir_, "/", name, ".metrics_port");
    args.push_back("--metrics_port=0");
    args.push_back(absl::StrCat("--metrics_port_file=", port_file));
    Process process;
    absl::StatusOr<StartedServer> server = testing::StartServer(
        testing::RunfilePath(binary), std::move(args), dir_, name);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return process;
    process.server = std::move(*server);
    // Written before the gRPC port file StartServer waited for.
    absl::StatusOr<int> port =
        testing::WaitForPortFile(port_file, absl::Seconds(5));
    EXPECT_TRUE(port.ok()) << port.status();
    if (port.ok()) process.metrics_port = *port;
    return process;
  }

  std::string dir_;
  Process coordinator_;
  Process cache_;
  std::unique_ptr<v1::Coordinator::Stub> coordinator_stub_;
  std::unique_ptr<v1::CacheNode::Stub> cache_stub_;
};

TEST_F(MetricsTest, CoordinatorCountsCallsByCodeAndReportsItsState) {
  v1::CreateGroupRequest create;
  create.set_name("metrics");
  v1::ServerGroup group;
  ASSERT_TRUE(
      coordinator_stub_->CreateGroup(Context().get(), create, &group).ok());
  v1::GetGroupRequest missing;
  missing.set_name("no-such-group");
  EXPECT_EQ(coordinator_stub_->GetGroup(Context().get(), missing, &group)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::CreateGroupRequest bad;
  bad.set_name("Not A Name");
  EXPECT_EQ(
      coordinator_stub_->CreateGroup(Context().get(), bad, &group).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);

  // The cache node joins and follows the table in the background.
  ASSERT_TRUE(WaitUntil([&] {
    return FindSample(Scrape(coordinator_.metrics_port),
                      "parley_coordinator_members", {{"role", "cache"}}) == 1;
  }));
  const ParsedScrape scrape = Scrape(coordinator_.metrics_port);
  const std::string service = "parley.v1.Coordinator";
  EXPECT_EQ(Requests(scrape, service, "CreateGroup", "OK"), 1);
  EXPECT_EQ(Requests(scrape, service, "CreateGroup", "INVALID_ARGUMENT"), 1);
  EXPECT_EQ(Requests(scrape, service, "GetGroup", "NOT_FOUND"), 1);
  EXPECT_GE(Requests(scrape, service, "Join", "OK"), 1);
  EXPECT_EQ(FindSample(scrape, "parley_grpc_request_duration_seconds_count",
                       {{"service", service}, {"method", "CreateGroup"}}),
            2);
  ExpectWellFormedHistogram(scrape, "parley_grpc_request_duration_seconds");
  // The node's watch of the partition table is an open stream.
  EXPECT_GE(
      FindSample(scrape, "parley_grpc_active_streams",
                 {{"service", service}, {"method", "WatchPartitionTable"}})
          .value_or(0),
      1);

  EXPECT_EQ(FindSample(scrape, "parley_coordinator_groups"), 1);
  EXPECT_EQ(
      FindSample(scrape, "parley_coordinator_partitions_waiting_for_replicas"),
      0);
  EXPECT_EQ(FindSample(scrape, "parley_coordinator_members",
                       {{"role", "runtime"}, {"group", "metrics"}}),
            0);
  EXPECT_EQ(FindSample(scrape, "parley_coordinator_broadcast_head_sequence",
                       {{"group", "metrics"}}),
            0);
  EXPECT_EQ(FindSample(scrape, "parley_coordinator_broadcast_subscribers",
                       {{"group", "metrics"}}),
            0);
  EXPECT_EQ(FindSample(scrape, "parley_coordinator_deployed_channels",
                       {{"group", "metrics"}}),
            0);
  EXPECT_EQ(FindSample(scrape, "parley_coordinator_partitions"), kPartitions);
  EXPECT_EQ(FindSample(scrape, "parley_build_info", {{"role", "coordinator"}}),
            1);
  EXPECT_GT(FindSample(scrape, "process_resident_memory_bytes").value_or(0), 0);

  // Publishing moves the group's broadcast head.
  v1::PublishRequest publish;
  publish.set_group("metrics");
  publish.set_origin("test");
  for (int i = 0; i < 3; ++i) {
    v1::BroadcastEntry* entry = publish.add_entries();
    entry->set_namespace_("sessions.metrics");
    entry->set_key(absl::StrCat("s", i));
    entry->set_version(1);
  }
  v1::PublishResponse published;
  ASSERT_TRUE(
      coordinator_stub_->Publish(Context().get(), publish, &published).ok());
  EXPECT_EQ(FindSample(Scrape(coordinator_.metrics_port),
                       "parley_coordinator_broadcast_head_sequence",
                       {{"group", "metrics"}}),
            3);
}

TEST_F(MetricsTest, CacheNodeCountsCallsAndReportsRocksDb) {
  // Serving once it holds every partition (it is the only node).
  ASSERT_TRUE(WaitUntil([&] {
    return FindSample(Scrape(cache_.metrics_port), "parley_cache_partitions",
                      {{"role", "primary"}}) == kPartitions;
  }));
  for (int i = 0; i < 5; ++i) {
    v1::PutRequest put;
    put.set_namespace_("metrics");
    put.set_key(absl::StrCat("key-", i));
    put.set_value("value");
    v1::PutResponse response;
    ASSERT_TRUE(cache_stub_->Put(Context().get(), put, &response).ok());
  }
  v1::GetRequest get;
  get.set_namespace_("metrics");
  get.set_key("key-0");
  v1::GetResponse got;
  ASSERT_TRUE(cache_stub_->Get(Context().get(), get, &got).ok());
  v1::GetRequest bad;
  bad.set_namespace_("not a namespace!");
  bad.set_key("k");
  EXPECT_EQ(cache_stub_->Get(Context().get(), bad, &got).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  const ParsedScrape scrape = Scrape(cache_.metrics_port);
  const std::string service = "parley.v1.CacheNode";
  EXPECT_EQ(Requests(scrape, service, "Put", "OK"), 5);
  EXPECT_EQ(Requests(scrape, service, "Get", "OK"), 1);
  EXPECT_EQ(Requests(scrape, service, "Get", "INVALID_ARGUMENT"), 1);
  EXPECT_EQ(FindSample(scrape, "parley_grpc_request_duration_seconds_count",
                       {{"service", service}, {"method", "Put"}}),
            5);
  ExpectWellFormedHistogram(scrape, "parley_grpc_request_duration_seconds");

  EXPECT_EQ(
      FindSample(scrape, "parley_cache_operations_total", {{"op", "put"}}), 5);
  EXPECT_EQ(
      FindSample(scrape, "parley_cache_operations_total", {{"op", "get"}}), 1);
  EXPECT_EQ(FindSample(scrape, "parley_cache_replication_lag_max"), 0);
  for (const char* gauge : {
           "parley_cache_rocksdb_estimated_keys",
           "parley_cache_rocksdb_sst_files_bytes",
           "parley_cache_rocksdb_memtable_bytes",
           "parley_cache_rocksdb_block_cache_usage_bytes",
           "parley_cache_rocksdb_block_cache_capacity_bytes",
           "parley_cache_rocksdb_pending_compaction_bytes",
       }) {
    ASSERT_TRUE(FindSample(scrape, gauge).has_value()) << gauge;
    EXPECT_EQ(scrape.at(gauge).type, "gauge") << gauge;
  }
  EXPECT_EQ(
      FindSample(scrape, "parley_cache_rocksdb_block_cache_capacity_bytes"),
      64 << 20);
  EXPECT_GT(FindSample(scrape, "parley_cache_rocksdb_memtable_bytes").value(),
            0);
  EXPECT_EQ(FindSample(scrape, "parley_build_info", {{"role", "cache-node"}}),
            1);
}

}  // namespace
}  // namespace parley
