#include "services/runtime/expression/expression.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/runtime/expression/code_generator.h"
#include "services/runtime/expression/constant_folder.h"
#include "services/runtime/expression/evaluator.h"
#include "services/runtime/expression/parser.h"
#include "services/runtime/expression/program.h"
#include "services/runtime/expression/type_checker.h"

namespace parley::expression {

Type CompiledExpression::result_type() const { return program_->result_type; }

std::string CompiledExpression::DebugString() const {
  return program_->DebugString();
}

absl::StatusOr<CompiledExpression> Compile(absl::string_view source,
                                           const Schema& schema,
                                           absl::optional<Type> result_type) {
  absl::StatusOr<std::unique_ptr<internal::Node>> root =
      internal::Parse(source);
  if (!root.ok()) return root.status();
  internal::Node& node = **root;
  if (absl::Status status = internal::CheckTypes(node, schema); !status.ok()) {
    return status;
  }
  if (result_type.has_value() && node.type != Type::kNull &&
      node.type != *result_type) {
    return CompileError(
        node.location,
        absl::StrCat("the expression must produce ", TypeName(*result_type),
                     ", got ", TypeName(node.type)));
  }
  if (absl::Status status = internal::FoldConstants(node); !status.ok()) {
    return status;
  }
  std::shared_ptr<const internal::Program> program =
      internal::GenerateCode(node, result_type.value_or(node.type));
  return CompiledExpression(std::move(program));
}

Value Evaluate(const CompiledExpression& expression, const Bindings& bindings,
               EvaluationScratch& scratch) {
  return internal::Run(*expression.program_, bindings, scratch);
}

bool EvaluateCondition(const CompiledExpression& expression,
                       const Bindings& bindings, EvaluationScratch& scratch) {
  const Value result = Evaluate(expression, bindings, scratch);
  return result.type() == Type::kBoolean && !result.is_null() &&
         result.boolean();
}

}  // namespace parley::expression
