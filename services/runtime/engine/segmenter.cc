#include "services/runtime/engine/segmenter.h"

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "services/runtime/engine/visitor_values.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/segmentation/segmentation.h"
#include "services/runtime/segmentation/segmentation_scratch.h"

namespace parley::engine {
namespace {

bool Contains(absl::Span<const int> indices, int index) {
  return std::find(indices.begin(), indices.end(), index) != indices.end();
}

// The session's record of what `name` assigned, or null.
const v1::FlowchartSegments* RecordOf(const v1::SessionState& state,
                                      absl::string_view name) {
  for (const v1::FlowchartSegments& record : state.flowchart_segments()) {
    if (absl::EqualsIgnoreCase(record.flowchart(), name)) return &record;
  }
  return nullptr;
}

}  // namespace

absl::Status Resegment(const channel::CompiledChannel& channel,
                       int audience_level, absl::Span<const int> flowcharts,
                       const std::vector<v1::NameValue>& transient,
                       int64_t now_millis, v1::SessionState& state) {
  const channel::CompiledAudienceLevel& level =
      channel.audience_levels()[audience_level];
  state.clear_segmentation_error();
  if (level.flowcharts.empty()) {
    state.clear_segments();
    state.clear_flowchart_segments();
    state.set_segmentation_status(v1::SEGMENTATION_DONE);
    return absl::OkStatus();
  }
  // Segments without a record of whose they are (a session written before
  // they were recorded): run every flowchart rather than lose any.
  if (flowcharts.empty() ||
      (state.flowchart_segments().empty() && !state.segments().empty())) {
    flowcharts = level.flowcharts;
  }
  // Every flowchart of the level lays out the shared slots the same way.
  const expression::Schema& schema =
      channel.flowcharts()[level.flowcharts.front()].schema;
  expression::Bindings visitor(schema);
  FillBindings(schema, state, transient, now_millis, visitor);
  const std::string key = AudienceIdText(state.audience_id());
  segmentation::SegmentationScratch scratch;

  // Each flowchart of the level, in the level's order: the ones run now,
  // the others as the session recorded them.
  google::protobuf::RepeatedPtrField<v1::FlowchartSegments> records;
  std::vector<int> all;  // Segment indices, the union.
  std::vector<int> assigned;
  for (const int index : level.flowcharts) {
    const std::string& name = channel.flowcharts()[index].name;
    v1::FlowchartSegments& record = *records.Add();
    record.set_flowchart(name);
    if (!Contains(flowcharts, index)) {
      if (const v1::FlowchartSegments* kept = RecordOf(state, name)) {
        for (const std::string& segment : kept->segments()) {
          const int segment_index = channel.FindSegment(segment);
          if (segment_index < 0) continue;  // Not in this deployment.
          record.add_segments(channel.segments()[segment_index].name);
          all.push_back(segment_index);
        }
      }
      continue;
    }
    const int one[] = {index};
    const absl::Status status = segmentation::SegmentVisitor(
        channel, audience_level, one, visitor, key, scratch, &assigned);
    if (!status.ok()) {
      state.clear_segments();
      state.clear_flowchart_segments();
      state.set_segmentation_status(v1::SEGMENTATION_FAILED);
      state.set_segmentation_error(std::string(status.message()));
      return status;
    }
    for (const int segment : assigned) {
      record.add_segments(channel.segments()[segment].name);
      all.push_back(segment);
    }
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  state.clear_segments();
  for (const int segment : all) {
    state.add_segments(channel.segments()[segment].name);
  }
  *state.mutable_flowchart_segments() = std::move(records);
  state.set_segmentation_status(v1::SEGMENTATION_DONE);
  return absl::OkStatus();
}

}  // namespace parley::engine
