#include "services/runtime/expression/program.h"

#include "absl/strings/str_cat.h"
#include "services/runtime/expression/functions.h"

namespace parley::expression::internal {
namespace {

absl::string_view OpCodeName(OpCode op) {
  switch (op) {
    case OpCode::kPushConstant:
      return "push";
    case OpCode::kLoadVariable:
      return "load";
    case OpCode::kNow:
      return "now";
    case OpCode::kPop:
      return "pop";
    case OpCode::kJump:
      return "jump";
    case OpCode::kJumpIfNotTrue:
      return "jump_if_not_true";
    case OpCode::kJumpIfFalseKeep:
      return "jump_if_false_keep";
    case OpCode::kJumpIfTrueKeep:
      return "jump_if_true_keep";
    case OpCode::kJumpIfNotNullKeep:
      return "jump_if_not_null_keep";
    case OpCode::kNegate:
      return "negate";
    case OpCode::kNot:
      return "not";
    case OpCode::kAdd:
      return "add";
    case OpCode::kSubtract:
      return "subtract";
    case OpCode::kMultiply:
      return "multiply";
    case OpCode::kDivide:
      return "divide";
    case OpCode::kModulo:
      return "modulo";
    case OpCode::kConcat:
      return "concat";
    case OpCode::kEqual:
      return "equal";
    case OpCode::kNotEqual:
      return "not_equal";
    case OpCode::kLess:
      return "less";
    case OpCode::kLessEqual:
      return "less_equal";
    case OpCode::kGreater:
      return "greater";
    case OpCode::kGreaterEqual:
      return "greater_equal";
    case OpCode::kAnd:
      return "and";
    case OpCode::kOr:
      return "or";
    case OpCode::kIsNull:
      return "is_null";
    case OpCode::kIsNotNull:
      return "is_not_null";
    case OpCode::kIn:
      return "in";
    case OpCode::kBetween:
      return "between";
    case OpCode::kLike:
      return "like";
    case OpCode::kCall:
      return "call";
  }
  return "?";
}

}  // namespace

int Program::AddConstant(const Value& value) {
  for (size_t i = 0; i < constants.size(); ++i) {
    if (constants[i] == value) return static_cast<int>(i);
  }
  if (value.type() == Type::kString && !value.is_null()) {
    texts.push_back(std::make_unique<std::string>(value.string()));
    constants.push_back(Value::String(*texts.back()));
  } else {
    constants.push_back(value);
  }
  return static_cast<int>(constants.size() - 1);
}

std::string Program::DebugString() const {
  std::string out;
  for (size_t pc = 0; pc < code.size(); ++pc) {
    const Instruction& in = code[pc];
    absl::StrAppend(&out, pc, " ", OpCodeName(in.op));
    switch (in.op) {
      case OpCode::kPushConstant:
        absl::StrAppend(&out, " ", constants[in.arg].DebugString());
        break;
      case OpCode::kLoadVariable:
        absl::StrAppend(&out, " $", in.arg);
        break;
      case OpCode::kJump:
      case OpCode::kJumpIfNotTrue:
      case OpCode::kJumpIfFalseKeep:
      case OpCode::kJumpIfTrueKeep:
      case OpCode::kJumpIfNotNullKeep:
        absl::StrAppend(&out, " ", in.arg);
        break;
      case OpCode::kEqual:
      case OpCode::kNotEqual:
      case OpCode::kLess:
      case OpCode::kLessEqual:
      case OpCode::kGreater:
      case OpCode::kGreaterEqual:
        absl::StrAppend(&out, " ", TypeName(in.type));
        break;
      case OpCode::kIn:
        absl::StrAppend(&out, in.arg ? " NOT" : "", " ", TypeName(in.type), " ",
                        in.count);
        break;
      case OpCode::kBetween:
      case OpCode::kLike:
        absl::StrAppend(&out, in.arg ? " NOT" : "");
        break;
      case OpCode::kCall:
        absl::StrAppend(&out, " ", AllFunctions()[in.arg].name, "/", in.count);
        break;
      default:
        break;
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace parley::expression::internal
