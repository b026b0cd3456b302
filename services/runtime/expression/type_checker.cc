#include "services/runtime/expression/type_checker.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "services/runtime/expression/functions.h"
#include "services/runtime/expression/suggestions.h"

namespace parley::expression::internal {
namespace {

// Whether a value of type `actual` may stand where `wanted` is needed.
bool Fits(Type actual, Type wanted) {
  return actual == wanted || actual == Type::kNull;
}

// The common type of `a` and `b` (NULL fits any), or nullopt.
absl::optional<Type> Unify(Type a, Type b) {
  if (a == Type::kNull) return b;
  if (b == Type::kNull || a == b) return a;
  return absl::nullopt;
}

bool IsOrdered(Type type) { return type != Type::kBoolean; }

// A hint for mixing two incompatible types.
absl::string_view ConversionHint(Type a, Type b) {
  if ((a == Type::kNumber && b == Type::kString) ||
      (a == Type::kString && b == Type::kNumber)) {
    return "; convert with TO_NUMBER or TO_STRING";
  }
  if ((a == Type::kDateTime && b == Type::kString) ||
      (a == Type::kString && b == Type::kDateTime)) {
    return "; write dates as DATE('2024-01-31')";
  }
  return "";
}

std::string Arguments(int count) {
  return absl::StrCat(count, count == 1 ? " argument" : " arguments");
}

class TypeChecker {
 public:
  explicit TypeChecker(const Schema& schema) : schema_(schema) {}

  absl::Status Check(Node& node) {
    for (const std::unique_ptr<Node>& child : node.children) {
      if (absl::Status status = Check(*child); !status.ok()) return status;
    }
    switch (node.kind) {
      case NodeKind::kLiteral:
        return absl::OkStatus();
      case NodeKind::kVariable:
        return Variable(node);
      case NodeKind::kUnary:
        return Unary(node);
      case NodeKind::kBinary:
        return Binary(node);
      case NodeKind::kIn:
        return In(node);
      case NodeKind::kBetween:
        return Between(node);
      case NodeKind::kIsNull:
        node.type = Type::kBoolean;
        return absl::OkStatus();
      case NodeKind::kLike:
        return Like(node);
      case NodeKind::kCall:
        return Call(node);
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Variable(Node& node) {
    const absl::optional<int> slot = schema_.Find(node.name);
    if (!slot.has_value()) {
      std::string hint;
      if (FindFunction(node.name) != nullptr) {
        hint = absl::StrCat("; to call the function write ", node.name, "()");
      } else {
        std::vector<std::string> names;
        names.reserve(schema_.size());
        for (int i = 0; i < schema_.size(); ++i) {
          names.push_back(schema_.name(i));
        }
        hint = DidYouMean(node.name, names);
      }
      return CompileError(node.location,
                          absl::StrCat("unknown variable '", node.name, "'"),
                          hint);
    }
    node.slot = *slot;
    node.type = schema_.type(*slot);
    return absl::OkStatus();
  }

  // Requires each child of `node` to fit `wanted`.
  absl::Status Operands(const Node& node, Type wanted, absl::string_view what,
                        absl::string_view hint = "") {
    for (const std::unique_ptr<Node>& child : node.children) {
      if (!Fits(child->type, wanted)) {
        return CompileError(
            child->location,
            absl::StrCat(what, " needs ", TypeName(wanted),
                         node.children.size() == 1 ? " operand" : " operands",
                         ", got ", TypeName(child->type)),
            hint);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Unary(Node& node) {
    const bool negate = node.op == Operator::kNegate;
    node.type = negate ? Type::kNumber : Type::kBoolean;
    return Operands(node, node.type, OperatorSymbol(node.op));
  }

  absl::Status Binary(Node& node) {
    const absl::string_view symbol = OperatorSymbol(node.op);
    switch (node.op) {
      case Operator::kAnd:
      case Operator::kOr:
        node.type = Type::kBoolean;
        return Operands(node, Type::kBoolean, symbol);
      case Operator::kConcat:
        node.type = Type::kString;
        return Operands(node, Type::kString, symbol,
                        "; convert with TO_STRING(...)");
      case Operator::kAdd:
      case Operator::kSubtract:
      case Operator::kMultiply:
      case Operator::kDivide:
      case Operator::kModulo: {
        node.type = Type::kNumber;
        const bool text = node.children[0]->type == Type::kString ||
                          node.children[1]->type == Type::kString;
        const bool dates = node.children[0]->type == Type::kDateTime ||
                           node.children[1]->type == Type::kDateTime;
        absl::string_view hint;
        if (node.op == Operator::kAdd && text) {
          hint = "; join text with ||";
        } else if (dates) {
          hint = "; use ADD_DAYS or DAYS_BETWEEN for dates";
        }
        return Operands(node, Type::kNumber, symbol, hint);
      }
      default:
        return Comparison(node);
    }
  }

  absl::Status Comparison(Node& node) {
    node.type = Type::kBoolean;
    const Type left = node.children[0]->type;
    const Type right = node.children[1]->type;
    const absl::optional<Type> common = Unify(left, right);
    if (!common.has_value()) {
      return CompileError(node.op_location,
                          absl::StrCat("cannot compare ", TypeName(left),
                                       " with ", TypeName(right)),
                          ConversionHint(left, right));
    }
    if (!IsOrdered(*common) && node.op != Operator::kEqual &&
        node.op != Operator::kNotEqual) {
      return CompileError(
          node.op_location,
          absl::StrCat(OperatorSymbol(node.op),
                       " cannot order BOOLEAN values; compare them with = or "
                       "<>"));
    }
    node.operand_type = *common;
    return absl::OkStatus();
  }

  // Unifies the types of children[first..] with `type`, naming the mismatch.
  absl::Status SameType(const Node& node, size_t first, Type* type,
                        absl::string_view item, absl::string_view versus) {
    for (size_t i = first; i < node.children.size(); ++i) {
      const Node& child = *node.children[i];
      const absl::optional<Type> common = Unify(*type, child.type);
      if (!common.has_value()) {
        return CompileError(child.location,
                            absl::StrCat(item, " is ", TypeName(child.type),
                                         " but ", versus, " ", TypeName(*type)),
                            ConversionHint(*type, child.type));
      }
      *type = *common;
    }
    return absl::OkStatus();
  }

  absl::Status In(Node& node) {
    node.type = Type::kBoolean;
    node.operand_type = node.children[0]->type;
    return SameType(node, 1, &node.operand_type, "this IN list value",
                    "the value tested is");
  }

  absl::Status Between(Node& node) {
    node.type = Type::kBoolean;
    node.operand_type = node.children[0]->type;
    if (absl::Status status =
            SameType(node, 1, &node.operand_type, "this BETWEEN bound",
                     "the value tested is");
        !status.ok()) {
      return status;
    }
    if (!IsOrdered(node.operand_type)) {
      return CompileError(node.op_location,
                          "BETWEEN needs NUMBER, STRING or DATETIME values, "
                          "got BOOLEAN");
    }
    return absl::OkStatus();
  }

  absl::Status Like(Node& node) {
    node.type = Type::kBoolean;
    return Operands(node, Type::kString, "LIKE");
  }

  absl::Status Call(Node& node) {
    const FunctionSpec* spec = FindFunction(node.name);
    if (spec == nullptr) {
      std::vector<std::string> names;
      for (const FunctionSpec& function : AllFunctions()) {
        names.emplace_back(function.name);
      }
      return CompileError(node.op_location,
                          absl::StrCat("unknown function '", node.name, "'"),
                          DidYouMean(node.name, names));
    }
    node.function = spec;
    const int argc = static_cast<int>(node.children.size());
    if (argc < spec->min_args ||
        (spec->max_args >= 0 && argc > spec->max_args)) {
      std::string expected;
      if (spec->max_args < 0) {
        expected = absl::StrCat("at least ", Arguments(spec->min_args));
      } else if (spec->min_args == spec->max_args) {
        expected = Arguments(spec->min_args);
      } else {
        expected =
            absl::StrCat(spec->min_args, " or ", Arguments(spec->max_args));
      }
      return CompileError(
          node.op_location,
          absl::StrCat(spec->name, " takes ", expected, ", got ", argc));
    }
    switch (spec->rule) {
      case TypeRule::kFixed:
        node.type = spec->result;
        for (int i = 0; i < argc; ++i) {
          const Type wanted = spec->params[i < 3 ? i : 2];
          if (absl::Status status = Argument(node, i, wanted); !status.ok()) {
            return status;
          }
        }
        return absl::OkStatus();
      case TypeRule::kAny:
        node.type = spec->result;
        return absl::OkStatus();
      case TypeRule::kSame:
      case TypeRule::kSameOrdered: {
        node.type = node.children[0]->type;
        if (absl::Status status =
                SameType(node, 1, &node.type,
                         absl::StrCat("this argument of ", spec->name),
                         "the ones before are");
            !status.ok()) {
          return status;
        }
        if (spec->rule == TypeRule::kSameOrdered && !IsOrdered(node.type)) {
          return CompileError(
              node.op_location,
              absl::StrCat(spec->name,
                           " needs NUMBER, STRING or DATETIME arguments, got "
                           "BOOLEAN"));
        }
        return absl::OkStatus();
      }
      case TypeRule::kIf: {
        if (absl::Status status = Argument(node, 0, Type::kBoolean);
            !status.ok()) {
          return status;
        }
        node.type = node.children[1]->type;
        return SameType(node, 2, &node.type, "the 'else' value of IF",
                        "the 'then' value is");
      }
    }
    return absl::OkStatus();
  }

  absl::Status Argument(const Node& node, int index, Type wanted) {
    const Node& argument = *node.children[index];
    if (Fits(argument.type, wanted)) return absl::OkStatus();
    return CompileError(
        argument.location,
        absl::StrCat("argument ", index + 1, " of ", node.function->name,
                     " must be ", TypeName(wanted), ", got ",
                     TypeName(argument.type)),
        ConversionHint(wanted, argument.type));
  }

  const Schema& schema_;
};

}  // namespace

absl::Status CheckTypes(Node& root, const Schema& schema) {
  return TypeChecker(schema).Check(root);
}

}  // namespace parley::expression::internal
