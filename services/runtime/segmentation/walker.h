#ifndef PARLEY_SERVICES_RUNTIME_SEGMENTATION_WALKER_H_
#define PARLEY_SERVICES_RUNTIME_SEGMENTATION_WALKER_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/runtime/channel/compiled_flowchart.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/segmentation/segmentation_scratch.h"
#include "services/runtime/segmentation/segmentation_trace.h"

namespace parley::segmentation::internal {

// Walks one flowchart for one visitor (see segmentation.h).
class Walker {
 public:
  // Runs `flowchart` and appends the segments it populates to `segments`,
  // unsorted and possibly repeated. `trace`, if set, gets path and notes
  // appended.
  static absl::Status Walk(const channel::CompiledFlowchart& flowchart,
                           absl::string_view visitor_key,
                           expression::Bindings& bindings,
                           SegmentationScratch& scratch,
                           std::vector<int>* segments,
                           SegmentationTrace* trace);
};

}  // namespace parley::segmentation::internal

#endif  // PARLEY_SERVICES_RUNTIME_SEGMENTATION_WALKER_H_
