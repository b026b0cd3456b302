#ifndef PARLEY_SERVICES_COMMON_METRICS_TEXT_PARSER_H_
#define PARLEY_SERVICES_COMMON_METRICS_TEXT_PARSER_H_

// A strict reader of the Prometheus text format 0.0.4, for tests that
// scrape a server and check what it exposes, and for benchmarks that sample
// servers' figures.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace parley::metrics {

// One sample line.
struct ParsedSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// A family: its HELP and TYPE lines and its samples (for a histogram, the
// _bucket, _sum and _count lines).
struct ParsedFamily {
  std::string name;
  std::string help;
  std::string type;
  std::vector<ParsedSample> samples;
};

// Families by name.
using ParsedScrape = std::map<std::string, ParsedFamily>;

// Parses a scrape; INVALID_ARGUMENT naming the line when anything is
// malformed: a bad name, label or value, a sample outside its family's
// HELP/TYPE lines, a family declared twice.
absl::StatusOr<ParsedScrape> ParseTextFormat(absl::string_view text);

// The value of the first sample called `name` whose labels include
// `labels`; nullopt if there is none.
std::optional<double> FindSample(
    const ParsedScrape& scrape, const std::string& name,
    const std::map<std::string, std::string>& labels = {});

// Every sample called `name` whose labels include `labels`.
std::vector<ParsedSample> FindSamples(
    const ParsedScrape& scrape, const std::string& name,
    const std::map<std::string, std::string>& labels = {});

// The sum of the samples called `name` (over all their labels); nullopt if
// there is none.
std::optional<double> SumOfSamples(const ParsedScrape& scrape,
                                   const std::string& name);

}  // namespace parley::metrics

#endif  // PARLEY_SERVICES_COMMON_METRICS_TEXT_PARSER_H_
