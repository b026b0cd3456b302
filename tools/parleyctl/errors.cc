#include "tools/parleyctl/errors.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"

namespace parley::parleyctl {
namespace {

constexpr absl::string_view kUsagePayload = "parleyctl/usage";
constexpr absl::string_view kHintPayload = "parleyctl/hint";
constexpr absl::string_view kReportedPayload = "parleyctl/reported";

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

absl::Status WithHint(absl::Status status, absl::string_view hint) {
  if (!status.ok()) status.SetPayload(kHintPayload, absl::Cord(hint));
  return status;
}

std::string HintOf(const absl::Status& status) {
  absl::optional<absl::Cord> hint = status.GetPayload(kHintPayload);
  return hint.has_value() ? std::string(*hint) : std::string();
}

absl::Status AlreadyReported(absl::Status status) {
  if (!status.ok()) status.SetPayload(kReportedPayload, absl::Cord("1"));
  return status;
}

bool IsAlreadyReported(const absl::Status& status) {
  return status.GetPayload(kReportedPayload).has_value();
}

ExitCode ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (IsUsageError(status)) return kExitUsage;
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
    return kExitUnreachable;
  }
  return kExitFailed;
}

std::string CodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  for (char& c : name) c = c == ' ' ? '_' : absl::ascii_toupper(c);
  return name;
}

}  // namespace parley::parleyctl
