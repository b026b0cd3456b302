#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_PROGRAM_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_PROGRAM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "services/runtime/expression/value.h"

// The compiled form of an expression: instructions for a stack machine.
namespace parley::expression::internal {

// What an instruction does to the value stack.
enum class OpCode : uint8_t {
  kPushConstant,       // Push constants[arg].
  kLoadVariable,       // Push the variable in slot `arg`.
  kNow,                // Push the bindings' NOW().
  kPop,                // Drop the top value.
  kJump,               // Continue at `arg`.
  kJumpIfNotTrue,      // Pop; continue at `arg` unless it was TRUE.
  kJumpIfFalseKeep,    // Continue at `arg` (keeping the top) if it is FALSE.
  kJumpIfTrueKeep,     // Continue at `arg` (keeping the top) if it is TRUE.
  kJumpIfNotNullKeep,  // Continue at `arg` (keeping the top) unless NULL.
  kNegate,
  kNot,
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kModulo,
  kConcat,
  kEqual,  // Comparisons compare values of `type`.
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kAnd,  // Three-valued; the left operand was already tested by a jump.
  kOr,
  kIsNull,
  kIsNotNull,
  kIn,  // Pop `count` list items and the value; push [NOT] IN (`arg` = 1: NOT).
  kBetween,  // Pop high, low and value (`arg` = 1: NOT BETWEEN).
  kLike,     // Pop pattern and text (`arg` = 1: NOT LIKE).
  kCall,     // Pop `count` arguments, push AllFunctions()[arg].fn(...).
};

// One instruction.
struct Instruction {
  OpCode op;
  Type type = Type::kNull;  // Operand type of comparisons.
  int32_t arg = 0;
  int32_t count = 0;
};

// A whole compiled expression. Immutable once built; shared across threads.
struct Program {
  std::vector<Instruction> code;
  std::vector<Value> constants;
  // Owns the text of STRING constants (stable addresses).
  std::vector<std::unique_ptr<std::string>> texts;
  // Deepest the value stack gets.
  int max_stack = 0;
  // 1 + the highest slot read; bindings must have at least this many.
  int slots_needed = 0;
  // Static type of the result (kNull if it is always NULL).
  Type result_type = Type::kNull;

  // Adds `value` (copying its text) to the constants, reusing an equal one.
  int AddConstant(const Value& value);

  // The instructions, one per line ("0 push 12"), for debugging and tests.
  std::string DebugString() const;
};

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_PROGRAM_H_
