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
// those flowchart indices, keeping what the level's other flowcharts
// assigned on their last run (all of them run when the session holds
// segments without that record). Values come from the session and
// `transient` parameters (see FillBindings); NOW() is `now_millis`.
absl::Status Resegment(const channel::CompiledChannel& channel,
                       int audience_level, absl::Span<const int> flowcharts,
                       const std::vector<v1::NameValue>& transient,
                       int64_t now_millis, v1::SessionState& state);

// Runs the segmentation a call asks for, reporting problems in `response`:
// the flowcharts UACIExecuteFlowchartByName names when it is set (a WARNING
// INVALID_PARAMETER for each name that is no flowchart of the level;
// nothing runs when none is), else `flowcharts` (empty: every flowchart of
// the level). A failed run is a WARNING SEGMENTATION_RUN_FAILED.
template <typename Response>
void SegmentForCall(const channel::CompiledChannel& channel, int audience_level,
                    absl::Span<const int> flowcharts,
                    const std::vector<v1::NameValue>& transient,
                    int64_t now_millis, v1::SessionState& state,
                    Response& response) {
  std::vector<std::string> unknown;
  const absl::optional<std::vector<int>> named =
      FlowchartsByName(channel, audience_level, state, transient, &unknown);
  for (const std::string& name : unknown) {
    AddAdvisory(response, v1::INVALID_PARAMETER, v1::WARNING,
                "UACIExecuteFlowchartByName names no flowchart of the "
                "session's audience level",
                name);
  }
  if (named.has_value()) {
    if (named->empty()) return;
    flowcharts = *named;
  }
  const absl::Status segmented = Resegment(channel, audience_level, flowcharts,
                                           transient, now_millis, state);
  if (!segmented.ok()) {
    AddAdvisory(response, v1::SEGMENTATION_RUN_FAILED, v1::WARNING,
                "segmentation failed", segmented.message());
  }
}

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_SEGMENTER_H_
