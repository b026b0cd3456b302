#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_TEST_RUN_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_TEST_RUN_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/runtime/engine/channel_registry.h"

namespace parley::engine {

// The most rows one TestRun request may carry.
inline constexpr int kMaxTestRunRows = 100000;

// Runs one flowchart over test rows, each row a visitor, as the classic
// test run does; no session is read or written. The flowchart is
// request.flowchart (required) of the channel deployed as
// request.interactive_channel in `channels`, or of request.supplied_channel
// (a serialized v1::InteractiveChannel, compiled here); exactly one of the
// two must be set.
//
// A row's values are the visitor's inputs by name (ignoring case): the
// flowchart's audience level's audience-ID fields (all required; they also
// key Sample boxes, as in a session) and profile attributes, and the
// channel's session parameters; inputs not given are NULL. NOW() is
// `now_millis`. Each row gets its segments (channel order), the boxes
// visited in order (also for a run that failed part way), and its errors:
// an unknown or repeated name, a value of the wrong type or none, a
// missing audience-ID field (such a row is not run), or the run's failure.
// segment_counts has every segment the flowchart can populate, in channel
// order, with the number of rows put in it; box_counts every box with the
// rows that visited it (cell counts); each row that ran also gets the
// derived fields' values (attribute data).
//
// Business problems are advisories: an unknown channel
// (INVALID_INTERACTIVE_CHANNEL, ERROR), a supplied channel that does not
// compile (INVALID_INTERACTIVE_CHANNEL, ERROR, detail listing the
// problems), an unknown flowchart (INVALID_PARAMETER, ERROR); and, when
// rows have errors, one WARNING each for rows with bad inputs
// (INVALID_PARAMETER) and rows whose run failed (SEGMENTATION_RUN_FAILED),
// giving the count. INVALID_ARGUMENT for a malformed request: no flowchart
// name, neither or both channel sources, unparsable supplied_channel bytes
// or more than kMaxTestRunRows rows.
absl::StatusOr<v1::TestRunResponse> RunFlowchartTest(
    const v1::TestRunRequest& request, const ChannelRegistry& channels,
    int64_t now_millis);

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_TEST_RUN_H_
