#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_FUNCTIONS_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_FUNCTIONS_H_

#include <array>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "services/runtime/expression/builtins.h"
#include "services/runtime/expression/value.h"

// The catalogue of built-in functions: names, arities, typing and lowering.
namespace parley::expression::internal {

// How a call's arguments are typed.
enum class TypeRule {
  // Argument i has type params[i] (the last entry repeats); result `result`.
  kFixed,
  // All arguments share one NUMBER, STRING or DATETIME type; the result too.
  kSameOrdered,
  // All arguments share one type, which is the result (COALESCE).
  kSame,
  // A BOOLEAN condition, then two arguments of one type, the result (IF).
  kIf,
  // One argument of any type; result `result` (TO_STRING).
  kAny,
};

// How a call is compiled.
enum class Lowering {
  kCall,      // Calls `fn` (NULL if any argument is NULL).
  kIf,        // Conditional jumps; only the chosen branch is evaluated.
  kCoalesce,  // Conditional jumps; stops at the first non-NULL argument.
  kNow,       // Reads the evaluation time from the bindings.
};

// One built-in function.
struct FunctionSpec {
  absl::string_view name;  // Upper case.
  int min_args;
  int max_args;  // -1: no limit.
  TypeRule rule;
  std::array<Type, 3> params;
  Type result;
  Lowering lowering;
  BuiltinFn fn;  // For Lowering::kCall.
};

// The function called `name` (any case), or nullptr.
const FunctionSpec* FindFunction(absl::string_view name);

// All built-in functions.
absl::Span<const FunctionSpec> AllFunctions();

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_FUNCTIONS_H_
