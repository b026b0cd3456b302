#ifndef PARLEY_SERVICES_RUNTIME_SEGMENTATION_SEGMENTATION_SCRATCH_H_
#define PARLEY_SERVICES_RUNTIME_SEGMENTATION_SEGMENTATION_SCRATCH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/scratch.h"
#include "services/runtime/expression/value.h"

namespace parley::segmentation {

namespace internal {
class Walker;
class VisitorBindings;
}  // namespace internal

// Working memory for segmentation runs: the walk's stack and visit marks,
// the text of STRING derived fields, per-flowchart bindings for
// SegmentVisitor and the expression scratch. Keep one per thread and reuse
// it; once warmed up on a channel it stops allocating (unless a trace is
// requested). Not thread-safe.
class SegmentationScratch {
 public:
  SegmentationScratch() = default;
  SegmentationScratch(const SegmentationScratch&) = delete;
  SegmentationScratch& operator=(const SegmentationScratch&) = delete;

 private:
  friend class internal::Walker;
  friend class internal::VisitorBindings;

  // Bindings for one flowchart's schema, remembered with its slot types so
  // that a different schema (e.g. after a redeploy) is never reused.
  struct FlowchartBindings {
    std::vector<expression::Type> types;
    std::unique_ptr<expression::Bindings> bindings;
  };

  // Boxes still to visit.
  std::vector<int> stack_;
  // Per box: the run that last visited it.
  std::vector<uint32_t> visited_in_run_;
  uint32_t run_ = 0;
  // Per bindings slot: the text of a STRING derived field.
  std::vector<std::string> text_by_slot_;
  // By flowchart index.
  std::vector<FlowchartBindings> flowchart_bindings_;
  expression::EvaluationScratch evaluation_;
};

}  // namespace parley::segmentation

#endif  // PARLEY_SERVICES_RUNTIME_SEGMENTATION_SEGMENTATION_SCRATCH_H_
