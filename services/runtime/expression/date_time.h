#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_DATE_TIME_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_DATE_TIME_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

// Calendar arithmetic for DATETIME values (UTC, proleptic Gregorian), free of
// heap allocation so the evaluator can use it on the hot path.
namespace parley::expression::internal {

// Milliseconds in a day.
inline constexpr int64_t kMillisPerDay = 86400000;

// A broken-down UTC time.
struct CivilTime {
  int64_t year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millis = 0;
};

// The UTC calendar day number of `unix_millis` (days since 1970-01-01).
int64_t DayNumber(int64_t unix_millis);

// Breaks `unix_millis` into UTC calendar fields.
CivilTime ToCivil(int64_t unix_millis);

// Milliseconds since the epoch of valid calendar fields.
int64_t FromCivil(const CivilTime& civil);

// ISO weekday of `unix_millis` in UTC: 1 = Monday ... 7 = Sunday.
int IsoWeekday(int64_t unix_millis);

// Parses 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM:SS[.mmm]Z'; false if malformed or
// not a real calendar date.
bool ParseDateTime(absl::string_view text, int64_t* unix_millis);

// Room FormatDateTime needs.
inline constexpr size_t kDateTimeBufferSize = 40;

// Writes 'YYYY-MM-DDTHH:MM:SSZ' (with '.mmm' when the milliseconds are not
// zero) to `buffer` and returns its length.
size_t FormatDateTime(int64_t unix_millis, char* buffer);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_DATE_TIME_H_
