#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_COMPILE_ERROR_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_COMPILE_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace parley::expression {

// A 1-based position in expression source text (columns count characters).
struct SourceLocation {
  int line = 1;
  int column = 1;
};

// An InvalidArgument status whose message is `message`, " at line L, column
// C" and `hint` (e.g. "; did you mean 'Age'?"), carrying `location` for
// GetErrorLocation.
absl::Status CompileError(SourceLocation location, absl::string_view message,
                          absl::string_view hint = "");

// The position a compile error points at, or nullopt if `status` is not one.
absl::optional<SourceLocation> GetErrorLocation(const absl::Status& status);

// `error` with "<context>: " before its message and its position kept; for
// naming the rule or field whose expression failed to compile.
absl::Status AddErrorContext(absl::string_view context,
                             const absl::Status& error);

}  // namespace parley::expression

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_COMPILE_ERROR_H_
