#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_PARSER_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_PARSER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/runtime/expression/ast.h"

namespace parley::expression::internal {

// The most deeply nested expression accepted (operators and parentheses).
inline constexpr int kMaxNesting = 200;

// Parses `source` into a syntax tree, or a compile error at the first token
// that does not fit the grammar.
absl::StatusOr<std::unique_ptr<Node>> Parse(absl::string_view source);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_PARSER_H_
