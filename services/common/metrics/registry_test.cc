#include "services/common/metrics/registry.h"

#include <cmath>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/metrics/text_format.h"
#include "services/common/metrics/text_parser.h"

namespace parley::metrics {
namespace {

using ::testing::HasSubstr;

ParsedScrape MustParse(const std::string& text) {
  absl::StatusOr<ParsedScrape> parsed = ParseTextFormat(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  return parsed.ok() ? *parsed : ParsedScrape();
}

TEST(RegistryTest, CountersAndGaugesWithLabels) {
  Registry registry;
  Family<Counter>* calls =
      registry.AddCounterFamily("calls_total", "calls made", {"method"});
  Counter* get = calls->WithLabels({"Get"});
  EXPECT_EQ(calls->WithLabels({"Get"}), get);  // created once
  get->Increment();
  get->Increment(2);
  calls->WithLabels({"Put"})->Increment();
  Gauge* live = registry.AddGauge("live", "live things");
  live->Set(5);
  live->Add(-1.5);

  const std::string text = registry.Scrape();
  EXPECT_THAT(text, HasSubstr("# HELP calls_total calls made\n"
                              "# TYPE calls_total counter\n"
                              "calls_total{method=\"Get\"} 3\n"
                              "calls_total{method=\"Put\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE live gauge\nlive 3.5\n"));
  ParsedScrape scrape = MustParse(text);
  EXPECT_EQ(FindSample(scrape, "calls_total", {{"method", "Get"}}), 3);
  EXPECT_EQ(scrape["live"].type, "gauge");
}

TEST(RegistryTest, RegisteringAgainReturnsTheSameFamily) {
  Registry registry;
  auto* a = registry.AddCounterFamily("x_total", "x", {"a"});
  auto* b = registry.AddCounterFamily("x_total", "x", {"a"});
  EXPECT_EQ(a, b);
}

TEST(RegistryDeathTest, ConflictingDefinitionsAbort) {
  Registry registry;
  registry.AddCounterFamily("x_total", "x", {"a"});
  EXPECT_DEATH(registry.AddCounterFamily("x_total", "x", {"b"}),
               "registered twice");
  EXPECT_DEATH(registry.AddGaugeFamily("x_total", "x", {"a"}),
               "registered twice");
  EXPECT_DEATH(registry.AddCounterFamily("bad-name", "x"), "bad metric name");
  EXPECT_DEATH(registry.AddCounterFamily("y", "x", {"__reserved"}),
               "bad label name");
  EXPECT_DEATH(registry.AddCounterFamily("z", "x", {"a"})->WithLabels({}),
               "0 value");
}

TEST(RegistryTest, HistogramBucketsAreCumulative) {
  Registry registry;
  Histogram* latency = registry
                           .AddHistogramFamily("latency_seconds", "how long",
                                               {"method"}, {0.1, 0.5, 1})
                           ->WithLabels({"Get"});
  for (double v : {0.05, 0.1, 0.3, 0.7, 2.0, 3.0}) latency->Observe(v);

  ParsedScrape scrape = MustParse(registry.Scrape());
  const ParsedFamily& family = scrape["latency_seconds"];
  EXPECT_EQ(family.type, "histogram");
  auto bucket = [&](const std::string& le) {
    return FindSample(scrape, "latency_seconds_bucket",
                      {{"method", "Get"}, {"le", le}});
  };
  EXPECT_EQ(bucket("0.1"), 2);  // le is inclusive
  EXPECT_EQ(bucket("0.5"), 3);
  EXPECT_EQ(bucket("1"), 4);
  EXPECT_EQ(bucket("+Inf"), 6);
  EXPECT_EQ(FindSample(scrape, "latency_seconds_count"), 6);
  EXPECT_NEAR(*FindSample(scrape, "latency_seconds_sum"), 6.15, 1e-9);
}

TEST(RegistryTest, ConcurrentUpdatesAreAllCounted) {
  Registry registry;
  Counter* counter = registry.AddCounter("n_total", "n");
  Histogram* histogram =
      registry.AddHistogramFamily("h_seconds", "h", {})->WithLabels({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter->Increment();
        histogram->Observe(0.001);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter->value(), 40000u);
  const Histogram::Snapshot snapshot = histogram->Read();
  EXPECT_EQ(snapshot.cumulative.back(), 40000u);
  EXPECT_NEAR(snapshot.sum, 40.0, 1e-6);
}

TEST(RegistryTest, CollectorsRunAtScrapeUntilTheirHandleGoes) {
  Registry registry;
  int runs = 0;
  {
    CollectorHandle handle =
        registry.AddCollector([&runs](std::deque<CollectedFamily>* out) {
          ++runs;
          AddCollected(out, "members", "members by role", MetricType::kGauge,
                       {"role"})
              .Add({"cache"}, 3)
              .Add({"runtime"}, 2);
        });
    ParsedScrape scrape = MustParse(registry.Scrape());
    EXPECT_EQ(FindSample(scrape, "members", {{"role", "cache"}}), 3);
    EXPECT_EQ(FindSample(scrape, "members", {{"role", "runtime"}}), 2);
    CollectorHandle moved = std::move(handle);
    registry.Scrape();
  }
  EXPECT_EQ(runs, 2);
  EXPECT_THAT(registry.Scrape(), ::testing::Not(HasSubstr("members")));
  EXPECT_EQ(runs, 2);
}

TEST(TextFormatTest, EscapesHelpAndLabelValues) {
  Registry registry;
  registry.AddCounterFamily("e_total", "a \\ and\na newline", {"v"})
      ->WithLabels({"say \"hi\"\\\n"})
      ->Increment();
  const std::string text = registry.Scrape();
  EXPECT_THAT(text, HasSubstr("# HELP e_total a \\\\ and\\na newline\n"));
  EXPECT_THAT(text, HasSubstr("e_total{v=\"say \\\"hi\\\"\\\\\\n\"} 1\n"));
  ParsedScrape scrape = MustParse(text);
  EXPECT_EQ(scrape["e_total"].help, "a \\ and\na newline");
  EXPECT_EQ(scrape["e_total"].samples.at(0).labels.at("v"), "say \"hi\"\\\n");
}

TEST(TextFormatTest, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(-7), "-7");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(0.00025), "0.00025");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(1e300), "1e+300");
  EXPECT_EQ(FormatValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatValue(HUGE_VAL), "+Inf");
  EXPECT_EQ(FormatValue(-HUGE_VAL), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(FormatValue(1.0 / 3)), 1.0 / 3);
}

TEST(TextParserTest, RefusesMalformedScrapes) {
  EXPECT_FALSE(ParseTextFormat("x 1\n").ok());  // no HELP/TYPE
  EXPECT_FALSE(
      ParseTextFormat("# HELP x h\n# TYPE x gauge\nx{a=\"1\" 1\n").ok());
  EXPECT_FALSE(ParseTextFormat("# HELP x h\n# TYPE x gauge\nx one\n").ok());
  EXPECT_FALSE(ParseTextFormat("# HELP x h\n# TYPE x gauge\ny 1\n").ok());
  EXPECT_FALSE(
      ParseTextFormat("# HELP x h\n# TYPE x gauge\n# HELP x h\n").ok());
  EXPECT_TRUE(
      ParseTextFormat("# HELP x h\n# TYPE x gauge\nx{a=\"1\",b=\"2\"} 1\n")
          .ok());
}

}  // namespace
}  // namespace parley::metrics
