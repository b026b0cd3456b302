#include "services/runtime/expression/number_text.h"

#include <cmath>
#include <cstdio>
#include <system_error>

#include "absl/strings/charconv.h"

namespace parley::expression::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t SkipDigits(absl::string_view text, size_t pos) {
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  return pos;
}

}  // namespace

size_t ScanNumber(absl::string_view text) {
  size_t pos = SkipDigits(text, 0);
  const bool has_integer = pos > 0;
  if (pos < text.size() && text[pos] == '.' && pos + 1 < text.size() &&
      IsDigit(text[pos + 1])) {
    pos = SkipDigits(text, pos + 1);
  } else if (!has_integer) {
    return 0;
  }
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    size_t exponent = pos + 1;
    if (exponent < text.size() &&
        (text[exponent] == '+' || text[exponent] == '-')) {
      ++exponent;
    }
    if (exponent < text.size() && IsDigit(text[exponent])) {
      pos = SkipDigits(text, exponent);
    }
  }
  return pos;
}

bool ParseNumber(absl::string_view text, double* number) {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || ScanNumber(text) != text.size()) return false;
  double value = 0;
  const absl::from_chars_result result =
      absl::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size() ||
      !std::isfinite(value)) {
    return false;
  }
  *number = negative ? -value : value;
  return true;
}

size_t FormatNumber(double number, char* buffer) {
  if (number == 0) number = 0;  // No "-0".
  int n;
  if (std::isfinite(number) && std::fabs(number) < 1e15 &&
      number == std::trunc(number)) {
    n = std::snprintf(buffer, kNumberBufferSize, "%lld",
                      static_cast<long long>(number));
  } else {
    n = std::snprintf(buffer, kNumberBufferSize, "%.15g", number);
  }
  return n < 0 ? 0 : static_cast<size_t>(n);
}

}  // namespace parley::expression::internal
