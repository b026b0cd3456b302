#include "services/runtime/segmentation/segmentation.h"

#include <algorithm>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/segmentation/visitor_bindings.h"
#include "services/runtime/segmentation/walker.h"

namespace parley::segmentation {
namespace {

// Sorts `segments` and drops repeats.
void Normalize(std::vector<int>* segments) {
  std::sort(segments->begin(), segments->end());
  segments->erase(std::unique(segments->begin(), segments->end()),
                  segments->end());
}

}  // namespace

absl::Status RunFlowchart(const channel::CompiledFlowchart& flowchart,
                          absl::string_view visitor_key,
                          expression::Bindings& bindings,
                          SegmentationScratch& scratch,
                          std::vector<int>* segments,
                          SegmentationTrace* trace) {
  segments->clear();
  if (trace != nullptr) *trace = SegmentationTrace();
  absl::Status status = internal::Walker::Walk(flowchart, visitor_key, bindings,
                                               scratch, segments, trace);
  if (!status.ok()) {
    segments->clear();
    return status;
  }
  Normalize(segments);
  return absl::OkStatus();
}

absl::Status SegmentVisitor(
    const channel::CompiledChannel& channel, int audience_level,
    absl::Span<const int> flowcharts, const expression::Bindings& visitor,
    absl::string_view visitor_key, SegmentationScratch& scratch,
    std::vector<int>* segments, std::vector<SegmentationTrace>* traces) {
  segments->clear();
  if (traces != nullptr) traces->clear();
  if (audience_level < 0 ||
      audience_level >= static_cast<int>(channel.audience_levels().size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("no audience level ", audience_level));
  }
  const channel::CompiledAudienceLevel& level =
      channel.audience_levels()[audience_level];
  if (flowcharts.empty()) flowcharts = level.flowcharts;
  const int shared_slots = static_cast<int>(
      level.audience_id_fields.size() + level.profile_attributes.size() +
      channel.session_parameters().size());
  if (visitor.size() < shared_slots) {
    return absl::InvalidArgumentError(
        absl::StrCat("audience level '", level.name, "' needs bindings with ",
                     shared_slots, " slots, got ", visitor.size()));
  }
  for (const int index : flowcharts) {
    if (index < 0 || index >= static_cast<int>(channel.flowcharts().size())) {
      segments->clear();
      return absl::InvalidArgumentError(absl::StrCat("no flowchart ", index));
    }
    const channel::CompiledFlowchart& flowchart = channel.flowcharts()[index];
    if (flowchart.audience_level != audience_level) {
      segments->clear();
      return absl::InvalidArgumentError(
          absl::StrCat("flowchart '", flowchart.name,
                       "' is not of audience level '", level.name, "'"));
    }
    absl::StatusOr<expression::Bindings*> bindings =
        internal::VisitorBindings::For(scratch, index, flowchart, visitor,
                                       shared_slots);
    if (!bindings.ok()) {
      segments->clear();
      return bindings.status();
    }
    SegmentationTrace* trace = nullptr;
    if (traces != nullptr) {
      trace = &traces->emplace_back();
      trace->flowchart = index;
    }
    if (absl::Status status = internal::Walker::Walk(
            flowchart, visitor_key, **bindings, scratch, segments, trace);
        !status.ok()) {
      segments->clear();
      return status;
    }
  }
  Normalize(segments);
  return absl::OkStatus();
}

}  // namespace parley::segmentation
