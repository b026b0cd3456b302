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

// Whether the union of the session's records is exactly its segments.
bool RecordsAgree(const v1::SessionState& state) {
  std::vector<absl::string_view> recorded;
  for (const v1::FlowchartSegments& record : state.flowchart_segments()) {
    recorded.insert(recorded.end(), record.segments().begin(),
                    record.segments().end());
  }
  std::vector<absl::string_view> segments(state.segments().begin(),
                                          state.segments().end());
  for (auto* names : {&recorded, &segments}) {
    std::sort(names->begin(), names->end());
    names->erase(std::unique(names->begin(), names->end()), names->end());
  }
  return recorded == segments;
}

// The segment indices of `record` in `channel` (appended to `segments`);
// false when one is not a segment of the channel.
bool Resolve(const channel::CompiledChannel& channel,
             const v1::FlowchartSegments& record, std::vector<int>* segments) {
  for (const std::string& name : record.segments()) {
    const int index = channel.FindSegment(name);
    if (index < 0) return false;
    segments->push_back(index);
  }
  return true;
}

}  // namespace

absl::Status Resegment(const channel::CompiledChannel& channel,
                       int audience_level, absl::Span<const int> flowcharts,
                       const std::vector<v1::NameValue>& transient,
                       int64_t now_millis, v1::SessionState& state) {
  const channel::CompiledAudienceLevel& level =
      channel.audience_levels()[audience_level];
  // Whether a flowchart not asked for may keep what it assigned last time:
  // only in a session segmented before whose records agree with its
  // segments. A server that does not know the records (an earlier release,
  // during a rolling upgrade) changes the segments and leaves them stale.
  const bool segmented_before =
      state.segmentation_status() != v1::SEGMENTATION_STATUS_UNSPECIFIED;
  const bool records_hold = segmented_before && RecordsAgree(state);
  state.clear_segmentation_error();
  if (level.flowcharts.empty()) {
    state.clear_segments();
    state.clear_flowchart_segments();
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

  // Each flowchart of the level, in the level's order: run now, or as the
  // session recorded it.
  google::protobuf::RepeatedPtrField<v1::FlowchartSegments> records;
  std::vector<int> all;  // Segment indices, the union.
  std::vector<int> assigned;
  for (const int index : level.flowcharts) {
    const std::string& name = channel.flowcharts()[index].name;
    v1::FlowchartSegments& record = *records.Add();
    record.set_flowchart(name);
    assigned.clear();
    bool run = flowcharts.empty() || Contains(flowcharts, index);
    if (!run && segmented_before) {
      // Kept only when recorded, trusted and still naming this deployment's
      // segments; otherwise (renamed or new flowchart, renamed segment,
      // stale records, a failed run) it runs rather than lose segments.
      const v1::FlowchartSegments* kept =
          records_hold ? RecordOf(state, name) : nullptr;
      run = kept == nullptr || !Resolve(channel, *kept, &assigned);
    }
    if (run) {
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
