#include <cmath>

#include "services/runtime/expression/builtins.h"

namespace parley::expression::internal {

int CompareValues(const Value& a, const Value& b) {
  switch (a.type()) {
    case Type::kNumber:
      return a.number() < b.number() ? -1 : (a.number() > b.number() ? 1 : 0);
    case Type::kString:
      return a.string().compare(b.string());
    case Type::kBoolean:
      return static_cast<int>(a.boolean()) - static_cast<int>(b.boolean());
    case Type::kDateTime:
      return a.datetime_millis() < b.datetime_millis()
                 ? -1
                 : (a.datetime_millis() > b.datetime_millis() ? 1 : 0);
    case Type::kNull:
      return 0;
  }
  return 0;
}

Value Abs(const Value* args, int, StringArena&) {
  return Value::Number(std::fabs(args[0].number()));
}

Value Round(const Value* args, int argc, StringArena&) {
  const double number = args[0].number();
  const double digits = argc > 1 ? std::trunc(args[1].number()) : 0;
  if (digits == 0) return Value::Number(std::round(number));
  // Beyond double precision, rounding changes nothing (or gives zero).
  if (digits > 15) return Value::Number(number);
  if (digits < -308) return Value::Number(0);
  const double scale = std::pow(10.0, digits);
  return Value::Number(std::round(number * scale) / scale);
}

Value Floor(const Value* args, int, StringArena&) {
  return Value::Number(std::floor(args[0].number()));
}

Value Ceil(const Value* args, int, StringArena&) {
  return Value::Number(std::ceil(args[0].number()));
}

Value Min(const Value* args, int argc, StringArena&) {
  const Value* best = &args[0];
  for (int i = 1; i < argc; ++i) {
    if (CompareValues(args[i], *best) < 0) best = &args[i];
  }
  return *best;
}

Value Max(const Value* args, int argc, StringArena&) {
  const Value* best = &args[0];
  for (int i = 1; i < argc; ++i) {
    if (CompareValues(args[i], *best) > 0) best = &args[i];
  }
  return *best;
}

}  // namespace parley::expression::internal
