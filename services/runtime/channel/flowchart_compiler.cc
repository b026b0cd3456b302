#include "services/runtime/channel/flowchart_compiler.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/runtime/channel/fields.h"
#include "services/runtime/channel/flowchart_graph.h"
#include "services/runtime/expression/expression.h"

namespace parley::channel {
namespace {

using expression::CompiledExpression;
using expression::Schema;
using expression::Type;

// A derived field of the flowchart, numbered in declaration order.
struct DerivedInfo {
  CompiledField field;
  int box = -1;
  int slot = -1;  // In the flowchart's full schema.
};

class FlowchartCompiler {
 public:
  FlowchartCompiler(const v1::Flowchart& flowchart,
                    const FlowchartContext& context, Problems& problems)
      : proto_(flowchart),
        context_(context),
        problems_(problems),
        prefix_(absl::StrCat("flowchart '", flowchart.name(), "'")) {}

  absl::optional<CompiledFlowchart> Compile() {
    const int problems_before = problems_.size();
    result_.name = proto_.name();
    const Schema* level_schema = ResolveAudienceLevel();
    IndexBoxes();
    ResolveBoxes();
    const bool shape_ok = CheckShape();
    if (level_schema != nullptr) {
      result_.schema = *level_schema;
      DeclareDerivedFields();
      ComputeAvailability(shape_ok);
      CompileExpressions(*level_schema);
    }
    if (problems_.size() != problems_before) return absl::nullopt;
    return std::move(result_);
  }

 private:
  const Schema* ResolveAudienceLevel() {
    result_.audience_level =
        context_.audience_levels->Find(proto_.audience_level());
    if (result_.audience_level < 0) {
      problems_.Add(absl::StrCat(prefix_, ": audience level '",
                                 proto_.audience_level(), "' is not defined"));
      return nullptr;
    }
    return &(*context_.level_schemas)[result_.audience_level];
  }

  void IndexBoxes() {
    for (int i = 0; i < proto_.boxes_size(); ++i) {
      const std::string& name = proto_.boxes(i).name();
      if (std::string bad = CheckElementName(name); !bad.empty()) {
        problems_.Add(absl::StrCat(prefix_, ": box '", name, "': ", bad));
      } else if (!boxes_.Add(name, i)) {
        problems_.Add(
            absl::StrCat(prefix_, ": box '", name, "' defined twice"));
      }
    }
    if (proto_.start_box().empty()) {
      problems_.Add(absl::StrCat(prefix_, ": start box is not set"));
    } else {
      result_.start_box = boxes_.Find(proto_.start_box());
      if (result_.start_box < 0) {
        problems_.Add(absl::StrCat(prefix_, ": start box '", proto_.start_box(),
                                   "': no such box"));
      }
    }
  }

  // The index of box `target` reached from box `from`; -1 for none.
  int Link(int from, const std::string& target) {
    if (target.empty()) return -1;
    const int index = boxes_.Find(target);
    if (index < 0) {
      problems_.Add(absl::StrCat(prefix_, ": box '", proto_.boxes(from).name(),
                                 "' -> '", target, "': no such box"));
      links_ok_ = false;
    } else {
      successors_[from].push_back(index);
    }
    return index;
  }

  void ResolveBoxes() {
    successors_.resize(proto_.boxes_size());
    for (int i = 0; i < proto_.boxes_size(); ++i) {
      const v1::FlowchartBox& box = proto_.boxes(i);
      const std::string where =
          absl::StrCat(prefix_, ": box '", box.name(), "'");
      CompiledBox compiled;
      compiled.name = box.name();
      switch (box.kind_case()) {
        case v1::FlowchartBox::kDecision:
          compiled.kind = CompiledBox::Kind::kDecision;
          for (const v1::DecisionBranch& branch : box.decision().branches()) {
            branch_targets_.push_back(Link(i, branch.next_box()));
          }
          compiled.otherwise = Link(i, box.decision().otherwise_box());
          compiled.all_matching = box.decision().all_matching();
          break;
        case v1::FlowchartBox::kSelect:
          compiled.kind = CompiledBox::Kind::kSelect;
          compiled.next = Link(i, box.select().next_box());
          break;
        case v1::FlowchartBox::kSample:
          compiled.kind = CompiledBox::Kind::kSample;
          compiled.seed = box.sample().seed();
          ResolveSample(i, where, compiled);
          break;
        case v1::FlowchartBox::kPopulateSegments:
          compiled.kind = CompiledBox::Kind::kPopulateSegments;
          for (const std::string& segment :
               box.populate_segments().segments()) {
            const int index = context_.segments->Find(segment);
            if (index < 0) {
              problems_.Add(absl::StrCat(where, ": segment '", segment,
                                         "' is not defined"));
            }
            compiled.segments.push_back(index);
          }
          break;
        default:
          problems_.Add(absl::StrCat(where, ": box kind is not set"));
          break;
      }
      result_.boxes.push_back(std::move(compiled));
    }
  }

  void ResolveSample(int box, const std::string& where, CompiledBox& compiled) {
    double total = 0;
    int number = 0;
    for (const v1::SampleCell& cell : proto_.boxes(box).sample().cells()) {
      ++number;
      if (!(cell.percent() > 0 && cell.percent() <= 100)) {
        problems_.Add(absl::StrCat(where, ": cell ", number, " percent ",
                                   cell.percent(), " is not in (0, 100]"));
      } else {
        total += cell.percent();
      }
      compiled.cells.push_back({cell.percent(), Link(box, cell.next_box())});
    }
    if (total > 100 + 1e-9) {
      problems_.Add(absl::StrCat(where, ": cells add up to ", total,
                                 " percent, more than 100"));
    }
  }

  // Checks for cycles and unreachable boxes; true if the graph is sound.
  bool CheckShape() {
    if (result_.start_box < 0 || !links_ok_) return false;
    graph_ = AnalyzeGraph(successors_, result_.start_box);
    bool ok = true;
    if (!graph_.cycle.empty()) {
      std::vector<std::string> names;
      for (int box : graph_.cycle) names.push_back(proto_.boxes(box).name());
      problems_.Add(absl::StrCat(prefix_, ": cycle through boxes '",
                                 absl::StrJoin(names, "' -> '"), "'"));
      ok = false;
    }
    for (int i = 0; i < proto_.boxes_size(); ++i) {
      if (!graph_.reachable[i]) {
        problems_.Add(absl::StrCat(prefix_, ": box '", proto_.boxes(i).name(),
                                   "' is unreachable from the start box"));
      }
    }
    return ok;
  }

  void DeclareDerivedFields() {
    NameIndex seen;
    for (int i = 0; i < proto_.boxes_size(); ++i) {
      const v1::FlowchartBox& box = proto_.boxes(i);
      if (!box.has_select()) continue;
      const std::string where =
          absl::StrCat(prefix_, ": box '", box.name(), "'");
      for (const v1::DerivedField& derived : box.select().derived_fields()) {
        const std::string field_where =
            absl::StrCat(where, ": derived field '", derived.name(), "'");
        absl::optional<Type> type = ToExpressionType(derived.type());
        if (std::string bad = CheckFieldName(derived.name()); !bad.empty()) {
          problems_.Add(absl::StrCat(field_where, ": ", bad));
        } else if (!type.has_value()) {
          problems_.Add(absl::StrCat(field_where, ": type is not specified"));
        } else if (!seen.Add(derived.name(), 0)) {
          problems_.Add(absl::StrCat(field_where, " defined twice"));
        } else if (absl::StatusOr<int> slot =
                       result_.schema.AddVariable(derived.name(), *type);
                   !slot.ok()) {
          problems_.Add(field_where, slot.status());
        } else {
          derived_.push_back({{derived.name(), *type}, i, *slot});
          continue;
        }
        derived_.push_back({{derived.name(), Type::kNull}, i, -1});
      }
    }
  }

  // Fills available_[box]: the derived fields computed on every path from
  // the start to the box. Without a sound graph, every field counts.
  void ComputeAvailability(bool shape_ok) {
    const int n = proto_.boxes_size();
    const std::vector<bool> all(derived_.size(), true);
    available_.assign(n, all);
    if (!shape_ok) return;
    std::vector<bool> seen(n, false);
    available_[result_.start_box].assign(derived_.size(), false);
    seen[result_.start_box] = true;
    for (int box : graph_.topological_order) {
      std::vector<bool> out = available_[box];
      for (size_t f = 0; f < derived_.size(); ++f) {
        if (derived_[f].box == box) out[f] = true;
      }
      for (int successor : successors_[box]) {
        if (!seen[successor]) {
          available_[successor] = out;
          seen[successor] = true;
        } else {
          for (size_t f = 0; f < out.size(); ++f) {
            available_[successor][f] = available_[successor][f] && out[f];
          }
        }
      }
    }
  }

  // Compiles `source` against the level's variables plus the derived fields
  // visible in `box` (those available and, in a Select box, those before
  // `own_fields_before`), then against the full schema for stable slots.
  absl::optional<CompiledExpression> CompileAt(int box, int own_fields_before,
                                               const std::string& source,
                                               Type type,
                                               const std::string& where,
                                               const Schema& level_schema) {
    Schema visible = level_schema;
    int own = 0;
    for (size_t f = 0; f < derived_.size(); ++f) {
      const DerivedInfo& info = derived_[f];
      bool show = available_[box][f];
      if (info.box == box) show = own++ < own_fields_before;
      if (show && info.slot >= 0) {
        visible.AddVariable(info.field.name, info.field.type).IgnoreError();
      }
    }
    absl::StatusOr<CompiledExpression> checked =
        expression::Compile(source, visible, type);
    if (!checked.ok()) {
      problems_.Add(where, checked.status());
      return absl::nullopt;
    }
    absl::StatusOr<CompiledExpression> compiled =
        expression::Compile(source, result_.schema, type);
    if (!compiled.ok()) {
      problems_.Add(where, compiled.status());
      return absl::nullopt;
    }
    return *std::move(compiled);
  }

  void CompileExpressions(const Schema& level_schema) {
    size_t branch_target = 0;
    size_t derived_index = 0;
    for (int i = 0; i < proto_.boxes_size(); ++i) {
      const v1::FlowchartBox& box = proto_.boxes(i);
      const std::string where =
          absl::StrCat(prefix_, ": box '", box.name(), "'");
      CompiledBox& compiled = result_.boxes[i];
      if (box.has_decision()) {
        int number = 0;
        for (const v1::DecisionBranch& branch : box.decision().branches()) {
          ++number;
          const int next = branch_targets_[branch_target++];
          absl::optional<CompiledExpression> condition =
              CompileAt(i, 0, branch.condition(), Type::kBoolean,
                        absl::StrCat(where, ": branch ", number, " condition"),
                        level_schema);
          if (condition.has_value()) {
            compiled.branches.push_back({*std::move(condition), next});
          }
        }
      } else if (box.has_select()) {
        int own = 0;
        for (const v1::DerivedField& derived : box.select().derived_fields()) {
          const DerivedInfo& info = derived_[derived_index++];
          const int before = own++;
          if (info.slot < 0) continue;
          absl::optional<CompiledExpression> expression = CompileAt(
              i, before, derived.expression(), info.field.type,
              absl::StrCat(where, ": derived field '", derived.name(), "'"),
              level_schema);
          if (expression.has_value()) {
            compiled.derived_fields.push_back({info.field.name, info.field.type,
                                               info.slot,
                                               *std::move(expression)});
          }
        }
      }
    }
  }

  const v1::Flowchart& proto_;
  const FlowchartContext& context_;
  Problems& problems_;
  const std::string prefix_;
  CompiledFlowchart result_;
  NameIndex boxes_;
  std::vector<std::vector<int>> successors_;
  std::vector<int> branch_targets_;  // Of every decision branch, in order.
  bool links_ok_ = true;
  GraphAnalysis graph_;
  std::vector<DerivedInfo> derived_;
  std::vector<std::vector<bool>> available_;  // [box][derived field].
};

}  // namespace

absl::optional<CompiledFlowchart> CompileFlowchart(
    const v1::Flowchart& flowchart, const FlowchartContext& context,
    Problems& problems) {
  return FlowchartCompiler(flowchart, context, problems).Compile();
}

}  // namespace parley::channel
