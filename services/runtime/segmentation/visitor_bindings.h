#ifndef PARLEY_SERVICES_RUNTIME_SEGMENTATION_VISITOR_BINDINGS_H_
#define PARLEY_SERVICES_RUNTIME_SEGMENTATION_VISITOR_BINDINGS_H_

#include "absl/status/statusor.h"
#include "services/runtime/channel/compiled_flowchart.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/segmentation/segmentation_scratch.h"

namespace parley::segmentation::internal {

// Per-flowchart bindings kept in a SegmentationScratch.
class VisitorBindings {
 public:
  // Bindings for flowchart `index` of a channel, made from its schema,
  // with the first `shared_slots` slots and NOW() copied from `visitor`.
  // Reused while the schema's slot types stay the same. InvalidArgument if
  // a copied value does not fit the flowchart's slot type.
  static absl::StatusOr<expression::Bindings*> For(
      SegmentationScratch& scratch, int index,
      const channel::CompiledFlowchart& flowchart,
      const expression::Bindings& visitor, int shared_slots);
};

}  // namespace parley::segmentation::internal

#endif  // PARLEY_SERVICES_RUNTIME_SEGMENTATION_VISITOR_BINDINGS_H_
