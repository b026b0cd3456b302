#ifndef PARLEY_SERVICES_COMMON_METRICS_TEXT_FORMAT_H_
#define PARLEY_SERVICES_COMMON_METRICS_TEXT_FORMAT_H_

// Writing the Prometheus text exposition format, version 0.0.4.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/common/metrics/metric.h"

namespace parley::metrics {

// The Content-Type of a text-format scrape.
inline constexpr char kTextFormatContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// Appends the "# HELP" and "# TYPE" lines of a family.
void AppendFamilyHeader(std::string* out, absl::string_view name,
                        absl::string_view help, MetricType type);

// Appends one sample line, `name{label="value",...} value`, with an extra
// label (e.g. a histogram's "le") when `extra_label` is not empty.
void AppendSample(std::string* out, absl::string_view name,
                  const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, double value,
                  absl::string_view extra_label = {},
                  absl::string_view extra_value = {});

// A sample value as the format writes it: integers without exponent or
// fraction, "+Inf", "-Inf", "NaN", else the shortest exact decimal.
std::string FormatValue(double value);

}  // namespace parley::metrics

#endif  // PARLEY_SERVICES_COMMON_METRICS_TEXT_FORMAT_H_
