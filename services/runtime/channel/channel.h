#ifndef PARLEY_SERVICES_RUNTIME_CHANNEL_CHANNEL_H_
#define PARLEY_SERVICES_RUNTIME_CHANNEL_CHANNEL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/runtime/channel/compiled_channel.h"

namespace parley::channel {

// Validates `channel` and compiles it into the immutable form the runtime
// serves from. On failure returns INVALID_ARGUMENT listing every problem
// found (up to Problems::kMaxListed), one per line, each naming its element,
// e.g. "treatment rule 'Gold upsell': eligibility: AND needs BOOLEAN
// operands, got NUMBER at line 1, column 9".
//
// Names are unique per kind ignoring case. Marketing scores must be in
// [0, 100] (the classic range; score expressions may go beyond it).
//
// Expression variables:
//  - Flowchart boxes: the flowchart's audience level's audience-ID fields
//    and profile attributes, the session parameters, and the derived fields
//    that Select boxes compute on every path from the start box to the box.
//  - Treatment rules (a segment may be filled by flowcharts of any level):
//    the session parameters plus every audience level's fields; a name that
//    levels declare with different types is left out, so using it is an
//    "unknown variable" error. At run time, fields of other levels than the
//    session's are NULL.
absl::StatusOr<std::shared_ptr<const CompiledChannel>> CompileChannel(
    const v1::InteractiveChannel& channel);

}  // namespace parley::channel

#endif  // PARLEY_SERVICES_RUNTIME_CHANNEL_CHANNEL_H_
