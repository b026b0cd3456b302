#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_NUMBER_TEXT_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_NUMBER_TEXT_H_

#include <cstddef>

#include "absl/strings/string_view.h"

// Conversions between NUMBER values and text, free of heap allocation.
namespace parley::expression::internal {

// Length of the decimal number at the start of `text` ('12', '3.5', '.5',
// '1e-3'; no sign), or 0 if it does not start with one.
size_t ScanNumber(absl::string_view text);

// Parses a whole decimal number with an optional leading sign; false if
// `text` is not one or it is out of range.
bool ParseNumber(absl::string_view text, double* number);

// Room FormatNumber needs.
inline constexpr size_t kNumberBufferSize = 32;

// Writes `number` to `buffer` as marketers expect ("12", "0.3", "1e+20") and
// returns its length.
size_t FormatNumber(double number, char* buffer);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_NUMBER_TEXT_H_
