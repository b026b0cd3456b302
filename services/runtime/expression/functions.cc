#include "services/runtime/expression/functions.h"

#include "absl/strings/match.h"

namespace parley::expression::internal {
namespace {

constexpr Type N = Type::kNumber;
constexpr Type S = Type::kString;
constexpr Type B = Type::kBoolean;
constexpr Type D = Type::kDateTime;
constexpr Type X = Type::kNull;  // Unused / decided by the rule.

constexpr FunctionSpec kFunctions[] = {
    {"UPPER", 1, 1, TypeRule::kFixed, {S, X, X}, S, Lowering::kCall, Upper},
    {"LOWER", 1, 1, TypeRule::kFixed, {S, X, X}, S, Lowering::kCall, Lower},
    {"TRIM", 1, 1, TypeRule::kFixed, {S, X, X}, S, Lowering::kCall, Trim},
    {"LENGTH", 1, 1, TypeRule::kFixed, {S, X, X}, N, Lowering::kCall, Length},
    {"SUBSTR", 2, 3, TypeRule::kFixed, {S, N, N}, S, Lowering::kCall, Substr},
    {"CONTAINS",
     2,
     2,
     TypeRule::kFixed,
     {S, S, X},
     B,
     Lowering::kCall,
     Contains},
    {"STARTS_WITH",
     2,
     2,
     TypeRule::kFixed,
     {S, S, X},
     B,
     Lowering::kCall,
     StartsWith},
    {"ENDS_WITH",
     2,
     2,
     TypeRule::kFixed,
     {S, S, X},
     B,
     Lowering::kCall,
     EndsWith},
    {"ABS", 1, 1, TypeRule::kFixed, {N, X, X}, N, Lowering::kCall, Abs},
    {"ROUND", 1, 2, TypeRule::kFixed, {N, N, X}, N, Lowering::kCall, Round},
    {"FLOOR", 1, 1, TypeRule::kFixed, {N, X, X}, N, Lowering::kCall, Floor},
    {"CEIL", 1, 1, TypeRule::kFixed, {N, X, X}, N, Lowering::kCall, Ceil},
    {"MIN", 2, -1, TypeRule::kSameOrdered, {X, X, X}, X, Lowering::kCall, Min},
    {"MAX", 2, -1, TypeRule::kSameOrdered, {X, X, X}, X, Lowering::kCall, Max},
    {"IF", 3, 3, TypeRule::kIf, {B, X, X}, X, Lowering::kIf, nullptr},
    {"COALESCE",
     1,
     -1,
     TypeRule::kSame,
     {X, X, X},
     X,
     Lowering::kCoalesce,
     nullptr},
    {"NOW", 0, 0, TypeRule::kFixed, {X, X, X}, D, Lowering::kNow, nullptr},
    {"DATE", 1, 1, TypeRule::kFixed, {S, X, X}, D, Lowering::kCall, Date},
    {"DAYS_BETWEEN",
     2,
     2,
     TypeRule::kFixed,
     {D, D, X},
     N,
     Lowering::kCall,
     DaysBetween},
    {"ADD_DAYS",
     2,
     2,
     TypeRule::kFixed,
     {D, N, X},
     D,
     Lowering::kCall,
     AddDays},
    {"YEAR", 1, 1, TypeRule::kFixed, {D, X, X}, N, Lowering::kCall, Year},
    {"MONTH", 1, 1, TypeRule::kFixed, {D, X, X}, N, Lowering::kCall, Month},
    {"DAY", 1, 1, TypeRule::kFixed, {D, X, X}, N, Lowering::kCall, Day},
    {"HOUR", 1, 1, TypeRule::kFixed, {D, X, X}, N, Lowering::kCall, Hour},
    {"WEEKDAY", 1, 1, TypeRule::kFixed, {D, X, X}, N, Lowering::kCall, Weekday},
    {"TO_NUMBER",
     1,
     1,
     TypeRule::kFixed,
     {S, X, X},
     N,
     Lowering::kCall,
     ToNumber},
    {"TO_STRING",
     1,
     1,
     TypeRule::kAny,
     {X, X, X},
     S,
     Lowering::kCall,
     ToString},
};

}  // namespace

const FunctionSpec* FindFunction(absl::string_view name) {
  for (const FunctionSpec& spec : kFunctions) {
    if (absl::EqualsIgnoreCase(spec.name, name)) return &spec;
  }
  return nullptr;
}

absl::Span<const FunctionSpec> AllFunctions() { return kFunctions; }

}  // namespace parley::expression::internal
