#ifndef PARLEY_SERVICES_RUNTIME_SEGMENTATION_SEGMENTATION_H_
#define PARLEY_SERVICES_RUNTIME_SEGMENTATION_SEGMENTATION_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/channel/compiled_flowchart.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/segmentation/segmentation_scratch.h"
#include "services/runtime/segmentation/segmentation_trace.h"

// Real-time segmentation, as in the classic Interact runtime: runs a
// visitor through interactive flowcharts (at session start, SetAudience and
// re-segmenting events) and collects the segments they populate. A pure
// function of its inputs: no I/O, no session storage.
//
// A run walks from the start box:
//  - Decision: the first branch whose condition holds (a NULL condition
//    does not hold), every such branch with all_matching, else the
//    otherwise box; with neither, the path ends.
//  - Select: evaluates each derived field (NULL allowed) into its slot,
//    then continues.
//  - Sample: the cell that SamplePoint(seed, visitor key) falls in (see
//    sample_hash.h); beyond the cells' total the path ends.
//  - PopulateSegments: adds its segments; the path ends.
// Paths are explored depth-first and each box runs at most once per run.
// That is exact: the compiler only lets a box read a derived field that is
// computed on every path to it, so the field's one Select box lies on every
// such path and has already written the value, which depends only on the
// visitor. Hence sibling branches can share slots without restoring them,
// and a box reached again would do exactly the same as the first time.
namespace parley::segmentation {

// The most boxes one flowchart run may visit.
inline constexpr int kMaxVisitedBoxes = 10000;

// Runs `flowchart` for one visitor and writes the segment indices it
// populates to `segments` (cleared first), sorted and without duplicates.
//
// `bindings` is made from flowchart.schema (or an extension of it) with the
// audience-ID fields, profile attributes, session parameters and NOW() set;
// the run writes the derived-field slots. STRING derived values refer to
// `scratch`, valid until its next use. `visitor_key` identifies the visitor
// for Sample boxes, e.g. the audience ID as text. `scratch` is reused across
// runs so that, once warmed up, a run without `trace` does not allocate.
// `trace` may be null; when set it is overwritten with the path taken.
//
// InvalidArgument if `bindings` is smaller than the schema or a box refers
// to a box that does not exist; ResourceExhausted after kMaxVisitedBoxes
// boxes; Internal if a derived value does not fit its slot.
absl::Status RunFlowchart(const channel::CompiledFlowchart& flowchart,
                          absl::string_view visitor_key,
                          expression::Bindings& bindings,
                          SegmentationScratch& scratch,
                          std::vector<int>* segments,
                          SegmentationTrace* trace = nullptr);

// Runs flowcharts of `audience_level` for one visitor and writes the union
// of their segments to `segments` (cleared first), sorted and without
// duplicates: every flowchart of the level when `flowcharts` is empty (a
// session start, SetAudience or re-segment of all), else only those
// flowchart indices (e.g. a re-segmenting event's), in the given order.
//
// `visitor` holds the level's audience-ID fields, profile attributes and
// session parameters in its first slots, as laid out in each of the level's
// flowchart schemas (e.g. Bindings made from any of them), and NOW(); it is
// not modified. Each flowchart runs on its own bindings kept in `scratch`.
// `traces` may be null; when set it is overwritten with one trace per
// flowchart run, in run order.
//
// InvalidArgument for a bad level or flowchart index, a flowchart of
// another level or too small `visitor`; otherwise as RunFlowchart.
absl::Status SegmentVisitor(const channel::CompiledChannel& channel,
                            int audience_level,
                            absl::Span<const int> flowcharts,
                            const expression::Bindings& visitor,
                            absl::string_view visitor_key,
                            SegmentationScratch& scratch,
                            std::vector<int>* segments,
                            std::vector<SegmentationTrace>* traces = nullptr);

}  // namespace parley::segmentation

#endif  // PARLEY_SERVICES_RUNTIME_SEGMENTATION_SEGMENTATION_H_
