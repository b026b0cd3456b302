#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_SEGMENTER_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_SEGMENTER_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/channel/compiled_channel.h"

namespace parley::engine {

// Runs the session's segmentation synchronously and stores the result in
// `state`: what each flowchart of the level assigned (flowchart_segments),
// their union (segments) and segmentation_status DONE; or FAILED with
// segmentation_error, both lists cleared, and the error returned. Runs
// every flowchart of `audience_level` when `flowcharts` is empty, else
// those flowchart indices, keeping what the level's other flowcharts
// assigned on their last run (all of them run when the session has no such
// record). Values come from the session and `transient` parameters (see
// FillBindings); NOW() is `now_millis`.
absl::Status Resegment(const channel::CompiledChannel& channel,
                       int audience_level, absl::Span<const int> flowcharts,
                       const std::vector<v1::NameValue>& transient,
                       int64_t now_millis, v1::SessionState& state);

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_SEGMENTER_H_
