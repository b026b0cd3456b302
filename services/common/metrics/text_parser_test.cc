#include "services/common/metrics/text_parser.h"

#include "gtest/gtest.h"

namespace parley::metrics {
namespace {

constexpr char kScrape[] =
    "# HELP parley_requests_total Requests served.\n"
    "# TYPE parley_requests_total counter\n"
    "parley_requests_total{method=\"Get\"} 3\n"
    "parley_requests_total{method=\"Put\"} 4.5\n"
    "# HELP parley_requests_total_extra Another family sharing the prefix.\n"
    "# TYPE parley_requests_total_extra gauge\n"
    "parley_requests_total_extra 100\n";

TEST(SumOfSamplesTest, AddsTheSamplesOfOneNameOverTheirLabels) {
  absl::StatusOr<ParsedScrape> scrape = ParseTextFormat(kScrape);
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(SumOfSamples(*scrape, "parley_requests_total"), 7.5);
  EXPECT_EQ(SumOfSamples(*scrape, "parley_requests_total_extra"), 100);
  EXPECT_EQ(SumOfSamples(*scrape, "parley_absent"), std::nullopt);
}

}  // namespace
}  // namespace parley::metrics
