#include "services/runtime/expression/evaluator.h"

#include <cmath>
#include <cstring>

#include "services/runtime/expression/builtins.h"
#include "services/runtime/expression/functions.h"
#include "services/runtime/expression/like.h"

namespace parley::expression::internal {
namespace {

// Three-valued logic on BOOLEAN values: 0 false, 1 true, 2 unknown.
int Truth(const Value& value) {
  if (value.is_null()) return 2;
  return value.boolean() ? 1 : 0;
}

Value FromTruth(int truth) {
  return truth == 2 ? Value::Null(Type::kBoolean) : Value::Boolean(truth == 1);
}

Value Arithmetic(OpCode op, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Null(Type::kNumber);
  const double x = a.number();
  const double y = b.number();
  switch (op) {
    case OpCode::kAdd:
      return Value::Number(x + y);
    case OpCode::kSubtract:
      return Value::Number(x - y);
    case OpCode::kMultiply:
      return Value::Number(x * y);
    case OpCode::kDivide:
      // Division by zero has no answer: NULL rather than infinity.
      if (y == 0) return Value::Null(Type::kNumber);
      return Value::Number(x / y);
    case OpCode::kModulo:
      if (y == 0) return Value::Null(Type::kNumber);
      return Value::Number(std::fmod(x, y));
    default:
      return Value::Null(Type::kNumber);
  }
}

Value Compare(OpCode op, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Null(Type::kBoolean);
  const int order = CompareValues(a, b);
  switch (op) {
    case OpCode::kEqual:
      return Value::Boolean(order == 0);
    case OpCode::kNotEqual:
      return Value::Boolean(order != 0);
    case OpCode::kLess:
      return Value::Boolean(order < 0);
    case OpCode::kLessEqual:
      return Value::Boolean(order <= 0);
    case OpCode::kGreater:
      return Value::Boolean(order > 0);
    case OpCode::kGreaterEqual:
      return Value::Boolean(order >= 0);
    default:
      return Value::Null(Type::kBoolean);
  }
}

// SQL IN: TRUE if an item equals the value, else NULL if the value or an
// item is NULL, else FALSE.
int InTruth(const Value& value, const Value* items, int count) {
  if (value.is_null()) return 2;
  bool saw_null = false;
  for (int i = 0; i < count; ++i) {
    if (items[i].is_null()) {
      saw_null = true;
    } else if (CompareValues(value, items[i]) == 0) {
      return 1;
    }
  }
  return saw_null ? 2 : 0;
}

int BetweenTruth(const Value& value, const Value& low, const Value& high) {
  // value >= low AND value <= high, in three-valued logic.
  const int above = value.is_null() || low.is_null()
                        ? 2
                        : (CompareValues(value, low) >= 0 ? 1 : 0);
  const int below = value.is_null() || high.is_null()
                        ? 2
                        : (CompareValues(value, high) <= 0 ? 1 : 0);
  if (above == 0 || below == 0) return 0;
  if (above == 2 || below == 2) return 2;
  return 1;
}

int Negate(int truth, bool negate) {
  if (!negate || truth == 2) return truth;
  return 1 - truth;
}

}  // namespace

Value Run(const Program& program, const Bindings& bindings,
          EvaluationScratch& scratch) {
  if (bindings.size() < program.slots_needed) {
    return Value::Null(program.result_type);
  }
  StringArena& arena = scratch.arena_;
  arena.Reset();
  if (scratch.stack_.size() < static_cast<size_t>(program.max_stack)) {
    scratch.stack_.resize(program.max_stack);
  }
  Value* const stack = scratch.stack_.data();
  const Instruction* const code = program.code.data();
  const size_t size = program.code.size();
  int sp = 0;  // Number of values on the stack.
  for (size_t pc = 0; pc < size;) {
    const Instruction& in = code[pc++];
    switch (in.op) {
      case OpCode::kPushConstant:
        stack[sp++] = program.constants[in.arg];
        break;
      case OpCode::kLoadVariable:
        stack[sp++] = bindings.Get(in.arg);
        break;
      case OpCode::kNow:
        stack[sp++] = Value::DateTime(bindings.now_millis());
        break;
      case OpCode::kPop:
        --sp;
        break;
      case OpCode::kJump:
        pc = in.arg;
        break;
      case OpCode::kJumpIfNotTrue:
        if (Truth(stack[--sp]) != 1) pc = in.arg;
        break;
      case OpCode::kJumpIfFalseKeep:
        if (Truth(stack[sp - 1]) == 0) pc = in.arg;
        break;
      case OpCode::kJumpIfTrueKeep:
        if (Truth(stack[sp - 1]) == 1) pc = in.arg;
        break;
      case OpCode::kJumpIfNotNullKeep:
        if (!stack[sp - 1].is_null()) pc = in.arg;
        break;
      case OpCode::kNegate: {
        Value& top = stack[sp - 1];
        if (!top.is_null()) top = Value::Number(-top.number());
        break;
      }
      case OpCode::kNot: {
        Value& top = stack[sp - 1];
        top = FromTruth(Negate(Truth(top), true));
        break;
      }
      case OpCode::kAdd:
      case OpCode::kSubtract:
      case OpCode::kMultiply:
      case OpCode::kDivide:
      case OpCode::kModulo:
        --sp;
        stack[sp - 1] = Arithmetic(in.op, stack[sp - 1], stack[sp]);
        break;
      case OpCode::kConcat: {
        --sp;
        const Value& a = stack[sp - 1];
        const Value& b = stack[sp];
        if (a.is_null() || b.is_null()) {
          stack[sp - 1] = Value::Null(Type::kString);
          break;
        }
        const absl::string_view x = a.string();
        const absl::string_view y = b.string();
        char* out = arena.Allocate(x.size() + y.size());
        if (!x.empty()) std::memcpy(out, x.data(), x.size());
        if (!y.empty()) std::memcpy(out + x.size(), y.data(), y.size());
        stack[sp - 1] =
            Value::String(absl::string_view(out, x.size() + y.size()));
        break;
      }
      case OpCode::kEqual:
      case OpCode::kNotEqual:
      case OpCode::kLess:
      case OpCode::kLessEqual:
      case OpCode::kGreater:
      case OpCode::kGreaterEqual:
        --sp;
        stack[sp - 1] = Compare(in.op, stack[sp - 1], stack[sp]);
        break;
      case OpCode::kAnd: {
        --sp;
        const int a = Truth(stack[sp - 1]);
        const int b = Truth(stack[sp]);
        stack[sp - 1] =
            FromTruth(a == 0 || b == 0 ? 0 : (a == 2 || b == 2 ? 2 : 1));
        break;
      }
      case OpCode::kOr: {
        --sp;
        const int a = Truth(stack[sp - 1]);
        const int b = Truth(stack[sp]);
        stack[sp - 1] =
            FromTruth(a == 1 || b == 1 ? 1 : (a == 2 || b == 2 ? 2 : 0));
        break;
      }
      case OpCode::kIsNull:
        stack[sp - 1] = Value::Boolean(stack[sp - 1].is_null());
        break;
      case OpCode::kIsNotNull:
        stack[sp - 1] = Value::Boolean(!stack[sp - 1].is_null());
        break;
      case OpCode::kIn: {
        sp -= in.count;
        Value& value = stack[sp - 1];
        value = FromTruth(
            Negate(InTruth(value, stack + sp, in.count), in.arg != 0));
        break;
      }
      case OpCode::kBetween: {
        sp -= 2;
        Value& value = stack[sp - 1];
        value = FromTruth(
            Negate(BetweenTruth(value, stack[sp], stack[sp + 1]), in.arg != 0));
        break;
      }
      case OpCode::kLike: {
        --sp;
        Value& text = stack[sp - 1];
        const Value& pattern = stack[sp];
        if (text.is_null() || pattern.is_null()) {
          text = Value::Null(Type::kBoolean);
        } else {
          text = Value::Boolean(LikeMatch(text.string(), pattern.string()) !=
                                (in.arg != 0));
        }
        break;
      }
      case OpCode::kCall: {
        sp -= in.count;
        const Value* args = stack + sp;
        bool any_null = false;
        for (int i = 0; i < in.count; ++i) any_null |= args[i].is_null();
        const FunctionSpec& spec = AllFunctions()[in.arg];
        stack[sp++] =
            any_null ? Value::Null(in.type) : spec.fn(args, in.count, arena);
        break;
      }
    }
  }
  const Value result = stack[0];
  return result.is_null() ? Value::Null(program.result_type) : result;
}

}  // namespace parley::expression::internal
