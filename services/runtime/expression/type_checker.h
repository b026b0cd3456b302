#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_TYPE_CHECKER_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_TYPE_CHECKER_H_

#include "absl/status/status.h"
#include "services/runtime/expression/ast.h"
#include "services/runtime/expression/schema.h"

namespace parley::expression::internal {

// Resolves variables and functions in the tree under `root` and gives every
// node its static type, or returns a compile error at the first misuse
// (unknown name, wrong operand or argument type, wrong argument count).
absl::Status CheckTypes(Node& root, const Schema& schema);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_TYPE_CHECKER_H_
