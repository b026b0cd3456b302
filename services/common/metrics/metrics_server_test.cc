#include "services/common/metrics/metrics_server.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/common/metrics/process_metrics.h"
#include "services/common/metrics/registry.h"
#include "services/common/metrics/text_format.h"
#include "services/common/metrics/text_parser.h"

namespace parley::metrics {
namespace {

TEST(MetricsServerTest, ServesTheRegistryOverHttp) {
  Registry registry;
  registry.AddCounterFamily("things_total", "things", {"kind"})
      ->WithLabels({"a"})
      ->Increment(7);
  RegisterProcessMetrics(&registry, "test");
  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start("127.0.0.1", 0, &registry);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);

  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), kTextFormatContentType);
  absl::StatusOr<ParsedScrape> scrape = ParseTextFormat(result->body);
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(FindSample(*scrape, "things_total", {{"kind", "a"}}), 7);
  EXPECT_EQ(FindSample(*scrape, "parley_build_info", {{"role", "test"}}), 1);
  EXPECT_GT(FindSample(*scrape, "process_resident_memory_bytes").value_or(0),
            0);
  EXPECT_GT(FindSample(*scrape, "process_open_fds").value_or(0), 2);
  EXPECT_GT(FindSample(*scrape, "process_start_time_seconds").value_or(0),
            1.6e9);

  httplib::Result missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  const int port = (*server)->port();
  server->reset();
  httplib::Client after("127.0.0.1", port);
  EXPECT_FALSE(after.Get("/metrics"));
}

TEST(MetricsServerTest, RefusesAPortInUse) {
  Registry registry;
  absl::StatusOr<std::unique_ptr<MetricsServer>> first =
      MetricsServer::Start("127.0.0.1", 0, &registry);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<MetricsServer>> second =
      MetricsServer::Start("127.0.0.1", (*first)->port(), &registry);
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_TRUE(absl::IsInvalidArgument(
      MetricsServer::Start("127.0.0.1", 70000, &registry).status()));
}

TEST(MetricsServerTest, HostOfListenAddress) {
  EXPECT_EQ(HostOfListenAddress("127.0.0.1:7400"), "127.0.0.1");
  EXPECT_EQ(HostOfListenAddress("[::1]:7400"), "::1");
  EXPECT_EQ(HostOfListenAddress("localhost:0"), "localhost");
  EXPECT_EQ(HostOfListenAddress(":7400"), "");
}

}  // namespace
}  // namespace parley::metrics
