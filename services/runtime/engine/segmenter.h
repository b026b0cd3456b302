#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_SEGMENTER_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_SEGMENTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/reserved_parameters.h"

namespace parley::engine {

// Runs the session's segmentation synchronously and stores the result in
// `state`: what each flowchart of the level assigned (flowchart_segments),
// their union (segments) and segmentation_status DONE; or FAILED with
// segmentation_error, both lists cleared, and the error returned. Runs
// every flowchart of `audience_level` when `flowcharts` is empty, else
// those flowchart indices; each other flowchart keeps what it assigned on
// its last run, unless the session was segmented before and that record
// cannot be trusted (missing, naming a segment this deployment lacks, or
// the records disagreeing with the segments): then it runs too. In a
// session never segmented (status UNSPECIFIED) the others assign nothing.
// Values come from the session and `transient` parameters (see
// FillBindings); NOW() is `now_millis`.
absl::Status Resegment(const channel::CompiledChannel& channel,
                       int audience_level, absl::Span<const int> flowcharts,
                       const std::vector<v1::NameValue>& transient,
                       int64_t now_millis, v1::SessionState& state);

// Runs the segmentation a call asks for, reporting problems in `response`:
// the flowcharts UACIExecuteFlowchartByName names when it names any of the
// level's, else `flowcharts` (empty: every flowchart of the level). Each
// problem with the parameter (a name that is no flowchart of the level, a
// value that is not a string) is a WARNING INVALID_PARAMETER. A failed run
// is a WARNING SEGMENTATION_RUN_FAILED.
template <typename Response>
void SegmentForCall(const channel::CompiledChannel& channel, int audience_level,
                    absl::Span<const int> flowcharts,
                    const std::vector<v1::NameValue>& transient,
                    int64_t now_millis, v1::SessionState& state,
                    Response& response) {
  std::vector<std::string> problems;
  const absl::optional<std::vector<int>> named =
      FlowchartsByName(channel, audience_level, state, transient, &problems);
  for (const std::string& problem : problems) {
    AddAdvisory(response, v1::INVALID_PARAMETER, v1::WARNING,
                "UACIExecuteFlowchartByName ignored in part or whole", problem);
  }
  if (named.has_value()) flowcharts = *named;
  const absl::Status segmented = Resegment(channel, audience_level, flowcharts,
                                           transient, now_millis, state);
  if (!segmented.ok()) {
    AddAdvisory(response, v1::SEGMENTATION_RUN_FAILED, v1::WARNING,
                "segmentation failed", segmented.message());
  }
}

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_SEGMENTER_H_
