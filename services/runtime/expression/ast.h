#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_AST_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_AST_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/runtime/expression/compile_error.h"
#include "services/runtime/expression/value.h"

// The syntax tree the parser builds and later passes annotate.
namespace parley::expression::internal {

struct FunctionSpec;

// A unary or binary operator.
enum class Operator {
  kNegate,
  kNot,
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kModulo,
  kConcat,
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kAnd,
  kOr,
};

// How an operator is written in error messages ("+", "AND", "<>").
absl::string_view OperatorSymbol(Operator op);

// What a node is.
enum class NodeKind {
  kLiteral,   // no children
  kVariable,  // no children; `name`
  kUnary,     // `op` applied to children[0]
  kBinary,    // children[0] `op` children[1]
  kIn,        // children[0] [NOT] IN (children[1..])
  kBetween,   // children[0] [NOT] BETWEEN children[1] AND children[2]
  kIsNull,    // children[0] IS [NOT] NULL
  kLike,      // children[0] [NOT] LIKE children[1]
  kCall,      // `name`(children...)
};

// One node of the syntax tree.
struct Node {
  NodeKind kind = NodeKind::kLiteral;
  // Where the node's text starts (its first token).
  SourceLocation location;
  // The operator keyword or function name token.
  SourceLocation op_location;
  Operator op = Operator::kAdd;
  // NOT IN, NOT BETWEEN, IS NOT NULL, NOT LIKE.
  bool negated = false;
  // Variable or function name as written.
  std::string name;
  std::vector<std::unique_ptr<Node>> children;
  // Height of the subtree (a leaf is 1).
  int height = 1;

  // Filled by the type checker: the node's static type, the common type of
  // compared operands, the variable's slot and the called function.
  Type type = Type::kNull;
  Type operand_type = Type::kNull;
  int slot = -1;
  const FunctionSpec* function = nullptr;

  // A literal's value; Literal() and SetLiteral() keep STRING text owned.
  Value Literal() const;
  void SetLiteral(const Value& value);

 private:
  Value literal_;
  std::string literal_text_;
};

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_AST_H_
