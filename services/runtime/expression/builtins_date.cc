#include <cmath>
#include <cstdint>

#include "services/runtime/expression/builtins.h"
#include "services/runtime/expression/date_time.h"

namespace parley::expression::internal {
namespace {

// DATETIME values stay within +-100,000,000 days of the epoch (as in
// JavaScript) so that calendar arithmetic cannot overflow.
constexpr double kMaxMillis = 8.64e15;

}  // namespace

Value Date(const Value* args, int, StringArena&) {
  int64_t millis = 0;
  if (!ParseDateTime(args[0].string(), &millis))
    return Value::Null(Type::kDateTime);
  return Value::DateTime(millis);
}

Value DaysBetween(const Value* args, int, StringArena&) {
  return Value::Number(
      static_cast<double>(DayNumber(args[1].datetime_millis()) -
                          DayNumber(args[0].datetime_millis())));
}

Value AddDays(const Value* args, int, StringArena&) {
  const double millis =
      static_cast<double>(args[0].datetime_millis()) +
      std::round(args[1].number() * static_cast<double>(kMillisPerDay));
  if (!(std::fabs(millis) <= kMaxMillis)) return Value::Null(Type::kDateTime);
  return Value::DateTime(static_cast<int64_t>(millis));
}

Value Year(const Value* args, int, StringArena&) {
  return Value::Number(
      static_cast<double>(ToCivil(args[0].datetime_millis()).year));
}

Value Month(const Value* args, int, StringArena&) {
  return Value::Number(ToCivil(args[0].datetime_millis()).month);
}

Value Day(const Value* args, int, StringArena&) {
  return Value::Number(ToCivil(args[0].datetime_millis()).day);
}

Value Hour(const Value* args, int, StringArena&) {
  return Value::Number(ToCivil(args[0].datetime_millis()).hour);
}

Value Weekday(const Value* args, int, StringArena&) {
  return Value::Number(IsoWeekday(args[0].datetime_millis()));
}

}  // namespace parley::expression::internal
