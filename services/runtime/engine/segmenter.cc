#include "services/runtime/engine/segmenter.h"

#include <string>

#include "services/runtime/engine/visitor_values.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/segmentation/segmentation.h"
#include "services/runtime/segmentation/segmentation_scratch.h"

namespace parley::engine {

absl::Status Resegment(const channel::CompiledChannel& channel,
                       int audience_level, absl::Span<const int> flowcharts,
                       const std::vector<v1::NameValue>& transient,
                       int64_t now_millis, v1::SessionState& state) {
  const channel::CompiledAudienceLevel& level =
      channel.audience_levels()[audience_level];
  state.clear_segments();
  state.clear_segmentation_error();
  if (level.flowcharts.empty()) {
    state.set_segmentation_status(v1::SEGMENTATION_DONE);
    return absl::OkStatus();
  }
  // Every flowchart of the level lays out the shared slots the same way.
  const expression::Schema& schema =
      channel.flowcharts()[level.flowcharts.front()].schema;
  expression::Bindings visitor(schema);
  FillBindings(schema, state, transient, now_millis, visitor);
  const std::string key = AudienceIdText(state.audience_id());
  segmentation::SegmentationScratch scratch;
  std::vector<int> segments;
  const absl::Status status = segmentation::SegmentVisitor(
      channel, audience_level, flowcharts, visitor, key, scratch, &segments);
  if (!status.ok()) {
    state.set_segmentation_status(v1::SEGMENTATION_FAILED);
    state.set_segmentation_error(std::string(status.message()));
    return status;
  }
  for (int segment : segments) {
    state.add_segments(channel.segments()[segment].name);
  }
  state.set_segmentation_status(v1::SEGMENTATION_DONE);
  return absl::OkStatus();
}

}  // namespace parley::engine
