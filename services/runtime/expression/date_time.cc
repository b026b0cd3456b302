#include "services/runtime/expression/date_time.h"

#include <cstdio>

namespace parley::expression::internal {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsLeapYear(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `*pos`.
bool ReadDigits(absl::string_view text, size_t* pos, int n, int* out) {
  if (*pos + n > text.size()) return false;
  int value = 0;
  for (int i = 0; i < n; ++i) {
    const char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *pos += n;
  *out = value;
  return true;
}

bool Expect(absl::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

int64_t DayNumber(int64_t unix_millis) {
  return FloorDiv(unix_millis, kMillisPerDay);
}

CivilTime ToCivil(int64_t unix_millis) {
  const int64_t days = DayNumber(unix_millis);
  // The remainder, not `unix_millis - days * kMillisPerDay`: that product
  // leaves int64 for instants within a day of its minimum.
  int64_t rest = unix_millis % kMillisPerDay;
  if (rest < 0) rest += kMillisPerDay;
  CivilTime civil;
  civil.millis = static_cast<int>(rest % 1000);
  rest /= 1000;
  civil.second = static_cast<int>(rest % 60);
  rest /= 60;
  civil.minute = static_cast<int>(rest % 60);
  civil.hour = static_cast<int>(rest / 60);
  // H. Hinnant's civil_from_days.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  civil.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  civil.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  civil.year = yoe + era * 400 + (civil.month <= 2);
  return civil;
}

int64_t FromCivil(const CivilTime& civil) {
  return DaysFromCivil(civil.year, civil.month, civil.day) * kMillisPerDay +
         ((civil.hour * 60 + civil.minute) * 60 + civil.second) * 1000 +
         civil.millis;
}

int IsoWeekday(int64_t unix_millis) {
  // 1970-01-01 was a Thursday (4).
  const int64_t days = DayNumber(unix_millis);
  return static_cast<int>(((days % 7) + 7 + 3) % 7) + 1;
}

bool ParseDateTime(absl::string_view text, int64_t* unix_millis) {
  CivilTime civil;
  size_t pos = 0;
  int year = 0;
  if (!ReadDigits(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &civil.month) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &civil.day)) {
    return false;
  }
  civil.year = year;
  if (pos < text.size()) {
    if (!Expect(text, &pos, 'T') || !ReadDigits(text, &pos, 2, &civil.hour) ||
        !Expect(text, &pos, ':') || !ReadDigits(text, &pos, 2, &civil.minute) ||
        !Expect(text, &pos, ':') || !ReadDigits(text, &pos, 2, &civil.second)) {
      return false;
    }
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      if (!ReadDigits(text, &pos, 3, &civil.millis)) return false;
    }
    if (!Expect(text, &pos, 'Z') || pos != text.size()) return false;
  }
  if (civil.month < 1 || civil.month > 12 || civil.day < 1 ||
      civil.day > DaysInMonth(civil.year, civil.month) || civil.hour > 23 ||
      civil.minute > 59 || civil.second > 59) {
    return false;
  }
  *unix_millis = FromCivil(civil);
  return true;
}

size_t FormatDateTime(int64_t unix_millis, char* buffer) {
  const CivilTime c = ToCivil(unix_millis);
  int n;
  if (c.millis == 0) {
    n = std::snprintf(buffer, kDateTimeBufferSize,
                      "%04lld-%02d-%02dT%02d:%02d:%02dZ",
                      static_cast<long long>(c.year), c.month, c.day, c.hour,
                      c.minute, c.second);
  } else {
    n = std::snprintf(buffer, kDateTimeBufferSize,
                      "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      static_cast<long long>(c.year), c.month, c.day, c.hour,
                      c.minute, c.second, c.millis);
  }
  return n < 0 ? 0 : static_cast<size_t>(n);
}

}  // namespace parley::expression::internal
