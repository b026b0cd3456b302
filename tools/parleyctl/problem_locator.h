#ifndef PARLEY_TOOLS_PARLEYCTL_PROBLEM_LOCATOR_H_
#define PARLEY_TOOLS_PARLEYCTL_PROBLEM_LOCATOR_H_

#include "absl/strings/string_view.h"
#include "tools/parleyctl/json.h"

namespace parley::parleyctl {

// A 1-based line and column in a file; 0 when unknown.
struct SourcePosition {
  int line = 0;
  int column = 0;
  bool known() const { return line > 0; }
};

// Where the element that a channel validation problem names sits in the
// channel's document: "treatment rule 'X': eligibility: ..." is the
// eligibility of the rule named X in treatmentRules, "flowchart 'F': box
// 'B': ..." the box B of flowchart F, "offer 'O' defined twice" the second
// offer named O. Unknown when the problem names nothing in the document.
SourcePosition LocateProblem(const Json& document, absl::string_view problem);

// Where a protobuf JSON path ("audienceLevels[0].profileAttributes[1].type")
// points in the document; the deepest part found.
SourcePosition LocatePath(const Json& document, absl::string_view path);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_PROBLEM_LOCATOR_H_
