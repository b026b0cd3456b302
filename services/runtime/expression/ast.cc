#include "services/runtime/expression/ast.h"

#include <utility>

namespace parley::expression::internal {

absl::string_view OperatorSymbol(Operator op) {
  switch (op) {
    case Operator::kNegate:
      return "unary -";
    case Operator::kNot:
      return "NOT";
    case Operator::kAdd:
      return "+";
    case Operator::kSubtract:
      return "-";
    case Operator::kMultiply:
      return "*";
    case Operator::kDivide:
      return "/";
    case Operator::kModulo:
      return "%";
    case Operator::kConcat:
      return "||";
    case Operator::kEqual:
      return "=";
    case Operator::kNotEqual:
      return "<>";
    case Operator::kLess:
      return "<";
    case Operator::kLessEqual:
      return "<=";
    case Operator::kGreater:
      return ">";
    case Operator::kGreaterEqual:
      return ">=";
    case Operator::kAnd:
      return "AND";
    case Operator::kOr:
      return "OR";
  }
  return "?";
}

Value Node::Literal() const {
  if (literal_.type() == Type::kString && !literal_.is_null()) {
    return Value::String(literal_text_);
  }
  return literal_;
}

void Node::SetLiteral(const Value& value) {
  // Copy first: `value` may refer to text owned by this node's children.
  std::string text = value.type() == Type::kString && !value.is_null()
                         ? std::string(value.string())
                         : std::string();
  kind = NodeKind::kLiteral;
  children.clear();
  height = 1;
  type = value.type();
  literal_text_ = std::move(text);
  literal_ = value;
}

}  // namespace parley::expression::internal
