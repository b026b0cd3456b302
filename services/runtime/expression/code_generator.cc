#include "services/runtime/expression/code_generator.h"

#include <algorithm>
#include <vector>

#include "services/runtime/expression/functions.h"

namespace parley::expression::internal {
namespace {

class CodeGenerator {
 public:
  explicit CodeGenerator(Program& program) : program_(program) {}

  void Emit(const Node& node) {
    switch (node.kind) {
      case NodeKind::kLiteral:
        Add({OpCode::kPushConstant, node.type,
             program_.AddConstant(node.Literal())},
            1);
        return;
      case NodeKind::kVariable:
        program_.slots_needed = std::max(program_.slots_needed, node.slot + 1);
        Add({OpCode::kLoadVariable, node.type, node.slot}, 1);
        return;
      case NodeKind::kUnary:
        Emit(*node.children[0]);
        Add({node.op == Operator::kNegate ? OpCode::kNegate : OpCode::kNot,
             node.type},
            0);
        return;
      case NodeKind::kBinary:
        Binary(node);
        return;
      case NodeKind::kIn: {
        EmitChildren(node);
        const int items = static_cast<int>(node.children.size()) - 1;
        Add({OpCode::kIn, node.operand_type, node.negated ? 1 : 0, items},
            -items);
        return;
      }
      case NodeKind::kBetween:
        EmitChildren(node);
        Add({OpCode::kBetween, node.operand_type, node.negated ? 1 : 0}, -2);
        return;
      case NodeKind::kIsNull:
        Emit(*node.children[0]);
        Add({node.negated ? OpCode::kIsNotNull : OpCode::kIsNull, node.type},
            0);
        return;
      case NodeKind::kLike:
        EmitChildren(node);
        Add({OpCode::kLike, node.type, node.negated ? 1 : 0}, -1);
        return;
      case NodeKind::kCall:
        Call(node);
        return;
    }
  }

 private:
  // Appends `instruction`, which changes the stack depth by `effect`, and
  // returns its index.
  int Add(Instruction instruction, int effect) {
    program_.code.push_back(instruction);
    depth_ += effect;
    program_.max_stack = std::max(program_.max_stack, depth_);
    return static_cast<int>(program_.code.size()) - 1;
  }

  // Points the jump at `jump` to the next instruction.
  void Land(int jump) {
    program_.code[jump].arg = static_cast<int32_t>(program_.code.size());
  }

  void EmitChildren(const Node& node) {
    for (const std::unique_ptr<Node>& child : node.children) Emit(*child);
  }

  void Binary(const Node& node) {
    if (node.op == Operator::kAnd || node.op == Operator::kOr) {
      // FALSE AND x is FALSE, TRUE OR x is TRUE: skip x.
      const bool is_and = node.op == Operator::kAnd;
      Emit(*node.children[0]);
      const int jump =
          Add({is_and ? OpCode::kJumpIfFalseKeep : OpCode::kJumpIfTrueKeep}, 0);
      Emit(*node.children[1]);
      Add({is_and ? OpCode::kAnd : OpCode::kOr, Type::kBoolean}, -1);
      Land(jump);
      return;
    }
    EmitChildren(node);
    Add({BinaryOpCode(node.op), node.operand_type}, -1);
  }

  static OpCode BinaryOpCode(Operator op) {
    switch (op) {
      case Operator::kAdd:
        return OpCode::kAdd;
      case Operator::kSubtract:
        return OpCode::kSubtract;
      case Operator::kMultiply:
        return OpCode::kMultiply;
      case Operator::kDivide:
        return OpCode::kDivide;
      case Operator::kModulo:
        return OpCode::kModulo;
      case Operator::kConcat:
        return OpCode::kConcat;
      case Operator::kEqual:
        return OpCode::kEqual;
      case Operator::kNotEqual:
        return OpCode::kNotEqual;
      case Operator::kLess:
        return OpCode::kLess;
      case Operator::kLessEqual:
        return OpCode::kLessEqual;
      case Operator::kGreater:
        return OpCode::kGreater;
      case Operator::kGreaterEqual:
        return OpCode::kGreaterEqual;
      default:
        return OpCode::kPop;  // Unreachable: handled elsewhere.
    }
  }

  void Call(const Node& node) {
    const FunctionSpec& spec = *node.function;
    switch (spec.lowering) {
      case Lowering::kNow:
        Add({OpCode::kNow, Type::kDateTime}, 1);
        return;
      case Lowering::kIf: {
        // cond; jump_if_not_true ELSE; then; jump END; ELSE: else; END:
        Emit(*node.children[0]);
        const int to_else = Add({OpCode::kJumpIfNotTrue}, -1);
        Emit(*node.children[1]);
        const int to_end = Add({OpCode::kJump}, 0);
        Land(to_else);
        --depth_;  // Only one branch's value is on the stack.
        Emit(*node.children[2]);
        Land(to_end);
        return;
      }
      case Lowering::kCoalesce: {
        // a; jump_if_not_null_keep END; pop; b; ... END:
        std::vector<int> to_end;
        for (size_t i = 0; i < node.children.size(); ++i) {
          Emit(*node.children[i]);
          if (i + 1 == node.children.size()) break;
          to_end.push_back(Add({OpCode::kJumpIfNotNullKeep}, 0));
          Add({OpCode::kPop}, -1);
        }
        for (int jump : to_end) Land(jump);
        return;
      }
      case Lowering::kCall: {
        EmitChildren(node);
        const int argc = static_cast<int>(node.children.size());
        const int index = static_cast<int>(&spec - AllFunctions().data());
        Add({OpCode::kCall, node.type, index, argc}, 1 - argc);
        return;
      }
    }
  }

  Program& program_;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<Program> GenerateCode(const Node& root, Type result_type) {
  auto program = std::make_unique<Program>();
  program->result_type = result_type;
  CodeGenerator(*program).Emit(root);
  return program;
}

}  // namespace parley::expression::internal
