#include "services/common/metrics/text_format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace parley::metrics {
namespace {

// HELP text escapes backslash and newline; label values also '"'.
void AppendEscaped(std::string* out, absl::string_view text,
                   bool escape_quotes) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '"':
        if (escape_quotes) {
          out->append("\\\"");
        } else {
          out->push_back(c);
        }
        break;
      default:
        out->push_back(c);
    }
  }
}

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AppendLabel(std::string* out, bool* first, absl::string_view name,
                 absl::string_view value) {
  out->push_back(*first ? '{' : ',');
  *first = false;
  out->append(name.data(), name.size());
  out->append("=\"");
  AppendEscaped(out, value, /*escape_quotes=*/true);
  out->push_back('"');
}

}  // namespace

void AppendFamilyHeader(std::string* out, absl::string_view name,
                        absl::string_view help, MetricType type) {
  absl::StrAppend(out, "# HELP ", name, " ");
  AppendEscaped(out, help, /*escape_quotes=*/false);
  absl::StrAppend(out, "\n# TYPE ", name, " ", TypeName(type), "\n");
}

void AppendSample(std::string* out, absl::string_view name,
                  const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, double value,
                  absl::string_view extra_label,
                  absl::string_view extra_value) {
  out->append(name.data(), name.size());
  bool first = true;
  for (size_t i = 0; i < label_names.size() && i < label_values.size(); ++i) {
    AppendLabel(out, &first, label_names[i], label_values[i]);
  }
  if (!extra_label.empty()) {
    AppendLabel(out, &first, extra_label, extra_value);
  }
  if (!first) out->push_back('}');
  absl::StrAppend(out, " ", FormatValue(value), "\n");
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers up to 2^53 are exact as integers.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[32];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

}  // namespace parley::metrics
