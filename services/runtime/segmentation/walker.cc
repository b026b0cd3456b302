#include "services/runtime/segmentation/walker.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/runtime/expression/expression.h"
#include "services/runtime/expression/value.h"
#include "services/runtime/segmentation/sample_hash.h"
#include "services/runtime/segmentation/segmentation.h"

namespace parley::segmentation::internal {
namespace {

using ::parley::channel::CompiledBox;
using ::parley::channel::CompiledFlowchart;
using ::parley::expression::Bindings;
using ::parley::expression::Type;
using ::parley::expression::Value;

// Appends a note about box `box_index` made of `pieces` to `trace`, if
// any; the text is only built when it is traced, keeping untraced runs free
// of allocation.
template <typename... Pieces>
void Note(SegmentationTrace* trace, int box_index, const CompiledBox& box,
          const Pieces&... pieces) {
  if (trace == nullptr) return;
  trace->notes.push_back(
      {box_index, absl::StrCat("box '", box.name, "': ", pieces...)});
}

// One run's state.
class Run {
 public:
  Run(const CompiledFlowchart& flowchart, absl::string_view visitor_key,
      Bindings& bindings, std::vector<int>& stack,
      std::vector<uint32_t>& visited_in_run, uint32_t run,
      std::vector<std::string>& text_by_slot,
      expression::EvaluationScratch& evaluation, std::vector<int>* segments,
      SegmentationTrace* trace)
      : flowchart_(flowchart),
        visitor_key_(visitor_key),
        bindings_(bindings),
        stack_(stack),
        visited_in_run_(visited_in_run),
        run_(run),
        text_by_slot_(text_by_slot),
        evaluation_(evaluation),
        segments_(segments),
        trace_(trace) {}

  absl::Status Walk() {
    stack_.clear();
    if (flowchart_.start_box == -1) return absl::OkStatus();
    if (absl::Status status = Push(flowchart_.start_box, -1); !status.ok()) {
      return status;
    }
    int visited = 0;
    while (!stack_.empty()) {
      const int index = stack_.back();
      stack_.pop_back();
      if (++visited > kMaxVisitedBoxes) {
        return absl::ResourceExhaustedError(
            absl::StrCat("flowchart '", flowchart_.name, "' visited more than ",
                         kMaxVisitedBoxes, " boxes"));
      }
      if (trace_ != nullptr) trace_->path.push_back(index);
      if (absl::Status status = Visit(index); !status.ok()) return status;
    }
    return absl::OkStatus();
  }

 private:
  // Schedules box `next` (reached from box `from`, -1 for the start) unless
  // it is -1 (the path ends) or already visited in this run.
  absl::Status Push(int next, int from) {
    if (next == -1) return absl::OkStatus();
    if (next < 0 || next >= static_cast<int>(flowchart_.boxes.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("flowchart '", flowchart_.name, "': box ", from,
                       " leads to box ", next, ", which does not exist"));
    }
    if (visited_in_run_[next] == run_) return absl::OkStatus();
    visited_in_run_[next] = run_;
    stack_.push_back(next);
    return absl::OkStatus();
  }

  absl::Status Visit(int index) {
    const CompiledBox& box = flowchart_.boxes[index];
    switch (box.kind) {
      case CompiledBox::Kind::kDecision:
        return Decide(index, box);
      case CompiledBox::Kind::kSelect:
        return Select(index, box);
      case CompiledBox::Kind::kSample:
        return Sample(index, box);
      case CompiledBox::Kind::kPopulateSegments:
        segments_->insert(segments_->end(), box.segments.begin(),
                          box.segments.end());
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  absl::Status Decide(int index, const CompiledBox& box) {
    // Branches are pushed in order, then reversed so the first is visited
    // first.
    const size_t first_pushed = stack_.size();
    bool matched = false;
    for (size_t i = 0; i < box.branches.size(); ++i) {
      const Value value = expression::Evaluate(box.branches[i].condition,
                                               bindings_, evaluation_);
      if (value.is_null()) {
        Note(trace_, index, box, "condition of branch ", i,
             " is NULL, counted as false");
        continue;
      }
      if (value.type() != Type::kBoolean || !value.boolean()) continue;
      matched = true;
      if (absl::Status status = Push(box.branches[i].next, index);
          !status.ok()) {
        return status;
      }
      if (!box.all_matching) break;
    }
    if (!matched) {
      if (box.otherwise == -1) {
        Note(trace_, index, box,
             "no branch matched and there is no otherwise box; the path "
             "ends");
      }
      return Push(box.otherwise, index);
    }
    std::reverse(stack_.begin() + first_pushed, stack_.end());
    return absl::OkStatus();
  }

  absl::Status Select(int index, const CompiledBox& box) {
    for (const channel::CompiledDerivedField& field : box.derived_fields) {
      if (field.slot < 0 || field.slot >= bindings_.size()) {
        return absl::InternalError(absl::StrCat(
            "flowchart '", flowchart_.name, "' box '", box.name,
            "': derived field '", field.name, "' has bad slot ", field.slot));
      }
      Value value =
          expression::Evaluate(field.expression, bindings_, evaluation_);
      if (value.is_null()) {
        Note(trace_, index, box, "derived field '", field.name, "' is NULL");
      } else if (value.type() == Type::kString) {
        // The evaluation scratch's text is overwritten by the next
        // evaluation; keep a copy.
        std::string& text = text_by_slot_[field.slot];
        text.assign(value.string().data(), value.string().size());
        value = Value::String(text);
      }
      if (absl::Status status = bindings_.Set(field.slot, value);
          !status.ok()) {
        return absl::InternalError(absl::StrCat(
            "flowchart '", flowchart_.name, "' box '", box.name,
            "': derived field '", field.name, "': ", status.message()));
      }
    }
    return Push(box.next, index);
  }

  absl::Status Sample(int index, const CompiledBox& box) {
    const double point = SamplePoint(box.seed, visitor_key_);
    const int cell = ChooseCell(box.cells, point);
    if (cell < 0) {
      Note(trace_, index, box, "sample point ", point,
           " is beyond the cells' total; the path ends");
      return absl::OkStatus();
    }
    Note(trace_, index, box, "sample point ", point, " falls in cell ", cell);
    return Push(box.cells[cell].next, index);
  }

  const CompiledFlowchart& flowchart_;
  const absl::string_view visitor_key_;
  Bindings& bindings_;
  std::vector<int>& stack_;
  std::vector<uint32_t>& visited_in_run_;
  const uint32_t run_;
  std::vector<std::string>& text_by_slot_;
  expression::EvaluationScratch& evaluation_;
  std::vector<int>* const segments_;
  SegmentationTrace* const trace_;
};

}  // namespace

absl::Status Walker::Walk(const CompiledFlowchart& flowchart,
                          absl::string_view visitor_key, Bindings& bindings,
                          SegmentationScratch& scratch,
                          std::vector<int>* segments,
                          SegmentationTrace* trace) {
  if (bindings.size() < flowchart.schema.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("flowchart '", flowchart.name, "' needs bindings with ",
                     flowchart.schema.size(), " slots, got ", bindings.size()));
  }
  if (scratch.visited_in_run_.size() < flowchart.boxes.size()) {
    scratch.visited_in_run_.resize(flowchart.boxes.size(), 0);
  }
  if (++scratch.run_ == 0) {
    std::fill(scratch.visited_in_run_.begin(), scratch.visited_in_run_.end(),
              0);
    scratch.run_ = 1;
  }
  if (scratch.text_by_slot_.size() < static_cast<size_t>(bindings.size())) {
    scratch.text_by_slot_.resize(bindings.size());
  }
  Run run(flowchart, visitor_key, bindings, scratch.stack_,
          scratch.visited_in_run_, scratch.run_, scratch.text_by_slot_,
          scratch.evaluation_, segments, trace);
  return run.Walk();
}

}  // namespace parley::segmentation::internal
