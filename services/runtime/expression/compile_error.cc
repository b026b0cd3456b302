#include "services/runtime/expression/compile_error.h"

#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace parley::expression {
namespace {

constexpr absl::string_view kLocationPayload =
    "type.parley.dev/parley.expression.SourceLocation";

}  // namespace

absl::Status CompileError(SourceLocation location, absl::string_view message,
                          absl::string_view hint) {
  absl::Status status = absl::InvalidArgumentError(absl::StrCat(
      message, " at line ", location.line, ", column ", location.column, hint));
  status.SetPayload(
      kLocationPayload,
      absl::Cord(absl::StrCat(location.line, ":", location.column)));
  return status;
}

absl::optional<SourceLocation> GetErrorLocation(const absl::Status& status) {
  const absl::optional<absl::Cord> payload =
      status.GetPayload(kLocationPayload);
  if (!payload.has_value()) return absl::nullopt;
  const std::pair<std::string, std::string> parts =
      absl::StrSplit(std::string(*payload), ':');
  SourceLocation location;
  if (!absl::SimpleAtoi(parts.first, &location.line) ||
      !absl::SimpleAtoi(parts.second, &location.column)) {
    return absl::nullopt;
  }
  return location;
}

absl::Status AddErrorContext(absl::string_view context,
                             const absl::Status& error) {
  if (error.ok()) return error;
  absl::Status status(error.code(),
                      absl::StrCat(context, ": ", error.message()));
  error.ForEachPayload(
      [&status](absl::string_view type_url, const absl::Cord& payload) {
        status.SetPayload(type_url, payload);
      });
  return status;
}

}  // namespace parley::expression
