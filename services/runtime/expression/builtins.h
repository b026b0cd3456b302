#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_BUILTINS_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_BUILTINS_H_

#include "services/runtime/expression/string_arena.h"
#include "services/runtime/expression/value.h"

// Implementations of the built-in functions the evaluator calls. Each gets
// its `argc` arguments, none of them NULL (NULL arguments make the call NULL
// before it is made), type-checked, and may build text in `arena`.
namespace parley::expression::internal {

// The calling convention of a built-in function.
using BuiltinFn = Value (*)(const Value* args, int argc, StringArena& arena);

// Text: UPPER, LOWER (ASCII letters), TRIM (whitespace), LENGTH (characters),
// SUBSTR (1-based, in characters), CONTAINS, STARTS_WITH, ENDS_WITH.
Value Upper(const Value* args, int argc, StringArena& arena);
Value Lower(const Value* args, int argc, StringArena& arena);
Value Trim(const Value* args, int argc, StringArena& arena);
Value Length(const Value* args, int argc, StringArena& arena);
Value Substr(const Value* args, int argc, StringArena& arena);
Value Contains(const Value* args, int argc, StringArena& arena);
Value StartsWith(const Value* args, int argc, StringArena& arena);
Value EndsWith(const Value* args, int argc, StringArena& arena);

// Numbers: ABS, ROUND (half away from zero, optional digits), FLOOR, CEIL;
// MIN and MAX over NUMBER, STRING or DATETIME arguments of one type.
Value Abs(const Value* args, int argc, StringArena& arena);
Value Round(const Value* args, int argc, StringArena& arena);
Value Floor(const Value* args, int argc, StringArena& arena);
Value Ceil(const Value* args, int argc, StringArena& arena);
Value Min(const Value* args, int argc, StringArena& arena);
Value Max(const Value* args, int argc, StringArena& arena);

// Dates (UTC): DATE parses text (NULL if malformed), DAYS_BETWEEN counts
// calendar days from the first to the second, ADD_DAYS adds (fractional)
// days, YEAR/MONTH/DAY/HOUR/WEEKDAY (1 = Monday) extract fields.
Value Date(const Value* args, int argc, StringArena& arena);
Value DaysBetween(const Value* args, int argc, StringArena& arena);
Value AddDays(const Value* args, int argc, StringArena& arena);
Value Year(const Value* args, int argc, StringArena& arena);
Value Month(const Value* args, int argc, StringArena& arena);
Value Day(const Value* args, int argc, StringArena& arena);
Value Hour(const Value* args, int argc, StringArena& arena);
Value Weekday(const Value* args, int argc, StringArena& arena);

// Conversions: TO_NUMBER (NULL unless the text is a decimal number, spaces
// around it allowed) and TO_STRING (any type).
Value ToNumber(const Value* args, int argc, StringArena& arena);
Value ToString(const Value* args, int argc, StringArena& arena);

// Three-way comparison of two non-NULL values of the same type: <0, 0, >0.
int CompareValues(const Value& a, const Value& b);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_BUILTINS_H_
