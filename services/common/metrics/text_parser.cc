#include "services/common/metrics/text_parser.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/metrics/registry.h"

namespace parley::metrics {
namespace {

absl::Status LineError(int line, absl::string_view what,
                       absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("line ", line, ": ", what, ": '", text, "'"));
}

bool ParseValue(absl::string_view text, double* value) {
  if (text == "+Inf") {
    *value = HUGE_VAL;
    return true;
  }
  if (text == "-Inf") {
    *value = -HUGE_VAL;
    return true;
  }
  if (text == "NaN") {
    *value = std::nan("");
    return true;
  }
  const std::string copy(text);
  char* end = nullptr;
  *value = std::strtod(copy.c_str(), &end);
  return !copy.empty() && end == copy.c_str() + copy.size();
}

// Parses `{a="x",b="y"}` starting at text[0] == '{'; returns the rest.
bool ParseLabels(absl::string_view* text,
                 std::map<std::string, std::string>* labels) {
  absl::string_view rest = *text;
  rest.remove_prefix(1);
  while (true) {
    if (!rest.empty() && rest.front() == '}') {
      rest.remove_prefix(1);
      *text = rest;
      return true;
    }
    const size_t eq = rest.find('=');
    if (eq == absl::string_view::npos) return false;
    const std::string name(rest.substr(0, eq));
    if (!IsValidLabelName(name) && name != "le") return false;
    rest.remove_prefix(eq + 1);
    if (rest.empty() || rest.front() != '"') return false;
    rest.remove_prefix(1);
    std::string value;
    while (true) {
      if (rest.empty()) return false;
      const char c = rest.front();
      rest.remove_prefix(1);
      if (c == '"') break;
      if (c == '\\') {
        if (rest.empty()) return false;
        const char escaped = rest.front();
        rest.remove_prefix(1);
        if (escaped == 'n') {
          value.push_back('\n');
        } else if (escaped == '\\' || escaped == '"') {
          value.push_back(escaped);
        } else {
          return false;
        }
      } else {
        value.push_back(c);
      }
    }
    if (!labels->emplace(name, std::move(value)).second) return false;
    if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
  }
}

std::string UnescapeHelp(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      out.push_back(text[i + 1] == 'n' ? '\n' : text[i + 1]);
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Whether a sample called `sample` belongs to family `family` of `type`.
bool BelongsTo(const std::string& sample, const ParsedFamily& family) {
  if (sample == family.name) return family.type != "histogram";
  if (family.type != "histogram") return false;
  return sample == family.name + "_bucket" || sample == family.name + "_sum" ||
         sample == family.name + "_count";
}

bool Includes(const std::map<std::string, std::string>& labels,
              const std::map<std::string, std::string>& wanted) {
  for (const auto& [name, value] : wanted) {
    auto it = labels.find(name);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<ParsedScrape> ParseTextFormat(absl::string_view text) {
  ParsedScrape scrape;
  ParsedFamily* current = nullptr;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (line.empty()) continue;
    if (absl::StartsWith(line, "# HELP ")) {
      line.remove_prefix(7);
      const size_t space = line.find(' ');
      const std::string name(line.substr(0, space));
      if (!IsValidMetricName(name)) {
        return LineError(number, "bad metric name", line);
      }
      if (scrape.count(name) != 0) {
        return LineError(number, "family declared twice", line);
      }
      current = &scrape[name];
      current->name = name;
      current->help = space == absl::string_view::npos
                          ? ""
                          : UnescapeHelp(line.substr(space + 1));
      continue;
    }
    if (absl::StartsWith(line, "# TYPE ")) {
      line.remove_prefix(7);
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      if (parts.size() != 2 || current == nullptr ||
          current->name != parts[0] || !current->type.empty()) {
        return LineError(number, "TYPE not right after its HELP", line);
      }
      if (parts[1] != "counter" && parts[1] != "gauge" &&
          parts[1] != "histogram" && parts[1] != "summary" &&
          parts[1] != "untyped") {
        return LineError(number, "unknown type", line);
      }
      current->type = parts[1];
      continue;
    }
    if (line.front() == '#') continue;
    ParsedSample sample;
    const size_t name_end = line.find_first_of("{ ");
    if (name_end == absl::string_view::npos) {
      return LineError(number, "no value", line);
    }
    sample.name = std::string(line.substr(0, name_end));
    if (!IsValidMetricName(sample.name)) {
      return LineError(number, "bad metric name", line);
    }
    absl::string_view rest = line.substr(name_end);
    if (rest.front() == '{' && !ParseLabels(&rest, &sample.labels)) {
      return LineError(number, "bad labels", line);
    }
    if (rest.empty() || rest.front() != ' ') {
      return LineError(number, "no value", line);
    }
    rest.remove_prefix(1);
    // An optional timestamp may follow the value.
    const absl::string_view value = rest.substr(0, rest.find(' '));
    if (!ParseValue(value, &sample.value)) {
      return LineError(number, "bad value", line);
    }
    if (current == nullptr || current->type.empty() ||
        !BelongsTo(sample.name, *current)) {
      return LineError(number, "sample outside its family", line);
    }
    current->samples.push_back(std::move(sample));
  }
  return scrape;
}

std::vector<ParsedSample> FindSamples(
    const ParsedScrape& scrape, const std::string& name,
    const std::map<std::string, std::string>& labels) {
  std::vector<ParsedSample> found;
  for (const auto& [family_name, family] : scrape) {
    for (const ParsedSample& sample : family.samples) {
      if (sample.name == name && Includes(sample.labels, labels)) {
        found.push_back(sample);
      }
    }
  }
  return found;
}

std::optional<double> FindSample(
    const ParsedScrape& scrape, const std::string& name,
    const std::map<std::string, std::string>& labels) {
  std::vector<ParsedSample> found = FindSamples(scrape, name, labels);
  if (found.empty()) return std::nullopt;
  return found.front().value;
}

std::optional<double> SumOfSamples(const ParsedScrape& scrape,
                                   const std::string& name) {
  std::vector<ParsedSample> found = FindSamples(scrape, name);
  if (found.empty()) return std::nullopt;
  double sum = 0;
  for (const ParsedSample& sample : found) sum += sample.value;
  return sum;
}

}  // namespace parley::metrics
