#include "services/runtime/expression/constant_folder.h"

#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/code_generator.h"
#include "services/runtime/expression/date_time.h"
#include "services/runtime/expression/evaluator.h"
#include "services/runtime/expression/functions.h"
#include "services/runtime/expression/scratch.h"

namespace parley::expression::internal {
namespace {

bool IsConstant(const Node& node) {
  if (node.kind == NodeKind::kVariable) return false;
  if (node.kind == NodeKind::kCall &&
      node.function->lowering == Lowering::kNow) {
    return false;
  }
  for (const std::unique_ptr<Node>& child : node.children) {
    if (child->kind != NodeKind::kLiteral) return false;
  }
  return true;
}

// DATE of literal text must parse: a typo fails the deployment, not every
// evaluation.
absl::Status CheckDateLiteral(const Node& node) {
  if (node.kind != NodeKind::kCall || node.function->fn != &Date) {
    return absl::OkStatus();
  }
  const Node& argument = *node.children[0];
  if (argument.kind != NodeKind::kLiteral) return absl::OkStatus();
  const Value text = argument.Literal();
  int64_t millis = 0;
  if (text.is_null() || ParseDateTime(text.string(), &millis)) {
    return absl::OkStatus();
  }
  return CompileError(
      argument.location,
      absl::StrCat("DATE needs 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM:SSZ' (UTC), "
                   "got '",
                   text.string(), "'"));
}

class ConstantFolder {
 public:
  ConstantFolder() : bindings_(Schema()) {}

  absl::Status Fold(Node& node) {
    for (const std::unique_ptr<Node>& child : node.children) {
      if (absl::Status status = Fold(*child); !status.ok()) return status;
    }
    if (absl::Status status = CheckDateLiteral(node); !status.ok()) {
      return status;
    }
    if (node.kind == NodeKind::kLiteral || !IsConstant(node)) {
      return absl::OkStatus();
    }
    const std::unique_ptr<Program> program = GenerateCode(node, node.type);
    // SetLiteral copies the result's text before the program goes away.
    node.SetLiteral(Run(*program, bindings_, scratch_));
    return absl::OkStatus();
  }

 private:
  Bindings bindings_;
  EvaluationScratch scratch_;
};

}  // namespace

absl::Status FoldConstants(Node& root) { return ConstantFolder().Fold(root); }

}  // namespace parley::expression::internal
