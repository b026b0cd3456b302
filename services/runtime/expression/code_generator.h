#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_CODE_GENERATOR_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_CODE_GENERATOR_H_

#include <memory>

#include "services/runtime/expression/ast.h"
#include "services/runtime/expression/program.h"
#include "services/runtime/expression/value.h"

namespace parley::expression::internal {

// Translates a type-checked tree into stack-machine instructions with pooled
// constants and the stack depth it needs. `result_type` is recorded as the
// program's result type.
std::unique_ptr<Program> GenerateCode(const Node& root, Type result_type);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_CODE_GENERATOR_H_
