#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_CONSTANT_FOLDER_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_CONSTANT_FOLDER_H_

#include "absl/status/status.h"
#include "services/runtime/expression/ast.h"

namespace parley::expression::internal {

// Replaces every type-checked subtree that does not depend on variables or
// NOW() with its value (e.g. DATE('2024-01-31'), 60 * 60 * 24). Returns a
// compile error for a DATE of malformed literal text.
absl::Status FoldConstants(Node& root);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_CONSTANT_FOLDER_H_
