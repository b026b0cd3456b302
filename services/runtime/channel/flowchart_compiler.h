#ifndef PARLEY_SERVICES_RUNTIME_CHANNEL_FLOWCHART_COMPILER_H_
#define PARLEY_SERVICES_RUNTIME_CHANNEL_FLOWCHART_COMPILER_H_

#include <vector>

#include "absl/types/optional.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/runtime/channel/compiled_flowchart.h"
#include "services/runtime/channel/name_index.h"
#include "services/runtime/channel/problems.h"
#include "services/runtime/expression/schema.h"

namespace parley::channel {

// What a flowchart may refer to in its channel.
struct FlowchartContext {
  // Audience level names -> index into `level_schemas`.
  const NameIndex* audience_levels = nullptr;
  // Per audience level: its audience-ID fields and profile attributes, then
  // the channel's session parameters.
  const std::vector<expression::Schema>* level_schemas = nullptr;
  // Segment names -> segment index.
  const NameIndex* segments = nullptr;
};

// Validates `flowchart` and compiles it into an index-based graph, or
// records its problems (each starting "flowchart 'Name'") and returns
// nullopt. The graph must be acyclic and every box reachable from the start
// box. An expression may use a derived field only if a Select box computes
// it on every path from the start box to the expression's box (or earlier
// in the same Select box).
absl::optional<CompiledFlowchart> CompileFlowchart(
    const v1::Flowchart& flowchart, const FlowchartContext& context,
    Problems& problems);

}  // namespace parley::channel

#endif  // PARLEY_SERVICES_RUNTIME_CHANNEL_FLOWCHART_COMPILER_H_
