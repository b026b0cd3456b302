#include "services/runtime/segmentation/visitor_bindings.h"

#include <memory>

#include "absl/strings/str_cat.h"

namespace parley::segmentation::internal {
namespace {

// Whether `types` lists the slot types of `schema`.
bool SameTypes(const std::vector<expression::Type>& types,
               const expression::Schema& schema) {
  if (types.size() != static_cast<size_t>(schema.size())) return false;
  for (int slot = 0; slot < schema.size(); ++slot) {
    if (types[slot] != schema.type(slot)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<expression::Bindings*> VisitorBindings::For(
    SegmentationScratch& scratch, int index,
    const channel::CompiledFlowchart& flowchart,
    const expression::Bindings& visitor, int shared_slots) {
  if (scratch.flowchart_bindings_.size() <= static_cast<size_t>(index)) {
    scratch.flowchart_bindings_.resize(index + 1);
  }
  SegmentationScratch::FlowchartBindings& entry =
      scratch.flowchart_bindings_[index];
  const expression::Schema& schema = flowchart.schema;
  if (entry.bindings == nullptr || !SameTypes(entry.types, schema)) {
    entry.types.clear();
    for (int slot = 0; slot < schema.size(); ++slot) {
      entry.types.push_back(schema.type(slot));
    }
    entry.bindings = std::make_unique<expression::Bindings>(schema);
  }
  expression::Bindings& bindings = *entry.bindings;
  for (int slot = 0; slot < shared_slots; ++slot) {
    if (absl::Status status = bindings.Set(slot, visitor.Get(slot));
        !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("flowchart '", flowchart.name, "': variable '",
                       schema.name(slot), "': ", status.message()));
    }
  }
  bindings.SetNow(visitor.now_millis());
  return &bindings;
}

}  // namespace parley::segmentation::internal
