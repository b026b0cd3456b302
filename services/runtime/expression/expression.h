#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_EXPRESSION_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_EXPRESSION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/compile_error.h"
#include "services/runtime/expression/schema.h"
#include "services/runtime/expression/scratch.h"
#include "services/runtime/expression/value.h"

// Parley's expression language for flowchart decisions, derived fields,
// treatment eligibility and scores. Compile once at deployment:
//
//   Schema schema;
//   const int age = *schema.AddVariable("Age", Type::kNumber);
//   absl::StatusOr<CompiledExpression> rule =
//       Compile("Age BETWEEN 18 AND 30", schema, Type::kBoolean);
//
// then evaluate per visitor, without heap allocation once warmed up:
//
//   Bindings bindings(schema);  // Reused.
//   EvaluationScratch scratch;  // One per thread.
//   bindings.Set(age, Value::Number(25)).IgnoreError();
//   bool eligible = EvaluateCondition(*rule, bindings, scratch);
//
// The language is described in services/runtime/expression/README.md.
namespace parley::expression {

namespace internal {
struct Program;
}  // namespace internal

// A parsed, type-checked and optimized expression. Immutable, cheap to copy
// and safe to evaluate from many threads at once.
class CompiledExpression {
 public:
  // The static type of the result (kNull only for an always-NULL expression
  // compiled without an expected type).
  Type result_type() const;

  // The compiled instructions, one per line, for debugging and tests.
  std::string DebugString() const;

 private:
  friend absl::StatusOr<CompiledExpression> Compile(
      absl::string_view source, const Schema& schema,
      absl::optional<Type> result_type);
  friend Value Evaluate(const CompiledExpression& expression,
                        const Bindings& bindings, EvaluationScratch& scratch);

  explicit CompiledExpression(std::shared_ptr<const internal::Program> program)
      : program_(std::move(program)) {}

  std::shared_ptr<const internal::Program> program_;
};

// Parses, type-checks and compiles `source` against the variables of
// `schema`. When `result_type` is set the expression must produce that type
// (or NULL). Errors are InvalidArgument with "at line L, column C" in the
// message; GetErrorLocation returns the position.
absl::StatusOr<CompiledExpression> Compile(
    absl::string_view source, const Schema& schema,
    absl::optional<Type> result_type = absl::nullopt);

// Evaluates `expression` over `bindings` (made from the schema it was
// compiled with, or a later extension of it). A STRING result refers to the
// bindings' text, the expression or `scratch`, valid until `scratch` is used
// again. NULL results carry the expression's result type.
Value Evaluate(const CompiledExpression& expression, const Bindings& bindings,
               EvaluationScratch& scratch);

// Evaluates a BOOLEAN expression as a condition: NULL (unknown) counts as
// false, as does any non-BOOLEAN result.
bool EvaluateCondition(const CompiledExpression& expression,
                       const Bindings& bindings, EvaluationScratch& scratch);

}  // namespace parley::expression

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_EXPRESSION_H_
