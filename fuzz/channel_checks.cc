#include "fuzz/channel_checks.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_support.h"
#include "services/runtime/channel/channel.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/expression.h"
#include "services/runtime/expression/scratch.h"

namespace parley::fuzz {
namespace {

using channel::CompiledBox;
using channel::CompiledChannel;
using channel::CompiledFlowchart;

bool InRange(int index, size_t size) {
  return index >= 0 && static_cast<size_t>(index) < size;
}

// -1 (none) or a valid index.
bool NoneOrInRange(int index, size_t size) {
  return index == -1 || InRange(index, size);
}

void Run(const expression::CompiledExpression& compiled,
         const expression::Bindings& bindings) {
  static expression::EvaluationScratch* const scratch =
      new expression::EvaluationScratch();
  expression::Evaluate(compiled, bindings, *scratch);
}

// Depth-first search for a cycle through box `box`; `state` 0 unseen, 1 on
// the current path, 2 done.
bool HasCycleFrom(const CompiledFlowchart& flowchart, int box,
                  std::vector<int>& state) {
  if (box < 0) return false;
  if (state[box] == 1) return true;
  if (state[box] == 2) return false;
  state[box] = 1;
  const CompiledBox& b = flowchart.boxes[box];
  std::vector<int> next = {b.otherwise, b.next};
  for (const auto& branch : b.branches) next.push_back(branch.next);
  for (const auto& cell : b.cells) next.push_back(cell.next);
  for (int n : next) {
    if (n >= 0 && HasCycleFrom(flowchart, n, state)) return true;
  }
  state[box] = 2;
  return false;
}

void CheckFlowchart(const CompiledChannel& c, int index) {
  const CompiledFlowchart& f = c.flowcharts()[index];
  const std::string where = absl::StrCat("flowchart '", f.name, "'");
  PARLEY_FUZZ_CHECK(c.FindFlowchart(f.name) == index, where);
  PARLEY_FUZZ_CHECK(InRange(f.audience_level, c.audience_levels().size()),
                    where);
  PARLEY_FUZZ_CHECK(InRange(f.start_box, f.boxes.size()), where);
  const expression::Bindings nulls(f.schema);
  for (const CompiledBox& box : f.boxes) {
    const std::string at = absl::StrCat(where, " box '", box.name, "'");
    PARLEY_FUZZ_CHECK(NoneOrInRange(box.otherwise, f.boxes.size()), at);
    PARLEY_FUZZ_CHECK(NoneOrInRange(box.next, f.boxes.size()), at);
    for (const auto& branch : box.branches) {
      PARLEY_FUZZ_CHECK(NoneOrInRange(branch.next, f.boxes.size()), at);
      Run(branch.condition, nulls);
    }
    for (const auto& cell : box.cells) {
      PARLEY_FUZZ_CHECK(NoneOrInRange(cell.next, f.boxes.size()), at);
    }
    for (const auto& field : box.derived_fields) {
      PARLEY_FUZZ_CHECK(InRange(field.slot, f.schema.size()), at);
      PARLEY_FUZZ_CHECK(f.schema.type(field.slot) == field.type, at);
      Run(field.expression, nulls);
    }
    for (int segment : box.segments) {
      PARLEY_FUZZ_CHECK(InRange(segment, c.segments().size()), at);
    }
  }
  std::vector<int> state(f.boxes.size(), 0);
  for (size_t b = 0; b < f.boxes.size(); ++b) {
    PARLEY_FUZZ_CHECK(!HasCycleFrom(f, static_cast<int>(b), state),
                      absl::StrCat(where, " has a cycle"));
  }
}

void CheckCompiled(const CompiledChannel& c) {
  const size_t zones = c.zones().size();
  for (size_t i = 0; i < c.audience_levels().size(); ++i) {
    const auto& level = c.audience_levels()[i];
    PARLEY_FUZZ_CHECK(c.FindAudienceLevel(level.name) == static_cast<int>(i),
                      level.name);
    for (int f : level.flowcharts) {
      PARLEY_FUZZ_CHECK(InRange(f, c.flowcharts().size()), level.name);
      PARLEY_FUZZ_CHECK(c.flowcharts()[f].audience_level == static_cast<int>(i),
                        level.name);
    }
  }
  for (size_t z = 0; z < zones; ++z) {
    const auto& zone = c.zones()[z];
    PARLEY_FUZZ_CHECK(c.FindZone(zone.name) == static_cast<int>(z), zone.name);
    for (int ip : zone.interaction_points) {
      PARLEY_FUZZ_CHECK(InRange(ip, c.interaction_points().size()), zone.name);
      PARLEY_FUZZ_CHECK(c.interaction_points()[ip].zone == static_cast<int>(z),
                        zone.name);
    }
  }
  for (size_t i = 0; i < c.interaction_points().size(); ++i) {
    const auto& ip = c.interaction_points()[i];
    PARLEY_FUZZ_CHECK(c.FindInteractionPoint(ip.name) == static_cast<int>(i),
                      ip.name);
    PARLEY_FUZZ_CHECK(InRange(ip.zone, zones), ip.name);
  }
  for (size_t i = 0; i < c.offers().size(); ++i) {
    PARLEY_FUZZ_CHECK(c.FindOffer(c.offers()[i].name) == static_cast<int>(i),
                      c.offers()[i].name);
  }
  for (size_t i = 0; i < c.segments().size(); ++i) {
    PARLEY_FUZZ_CHECK(
        c.FindSegment(c.segments()[i].name) == static_cast<int>(i),
        c.segments()[i].name);
  }
  const expression::Bindings rule_nulls(c.rule_schema());
  for (size_t i = 0; i < c.rules().size(); ++i) {
    const auto& rule = c.rules()[i];
    PARLEY_FUZZ_CHECK(rule.index == static_cast<int>(i), rule.name);
    PARLEY_FUZZ_CHECK(c.FindRule(rule.name) == static_cast<int>(i), rule.name);
    PARLEY_FUZZ_CHECK(InRange(rule.segment, c.segments().size()), rule.name);
    PARLEY_FUZZ_CHECK(InRange(rule.offer, c.offers().size()), rule.name);
    PARLEY_FUZZ_CHECK(NoneOrInRange(rule.zone, zones), rule.name);
    if (rule.eligibility.has_value()) Run(*rule.eligibility, rule_nulls);
    if (rule.score_expression.has_value()) {
      Run(*rule.score_expression, rule_nulls);
    }
  }
  for (size_t s = 0; s < c.segments().size(); ++s) {
    for (size_t z = 0; z < zones; ++z) {
      for (const auto* rule :
           c.RulesFor(static_cast<int>(s), static_cast<int>(z))) {
        PARLEY_FUZZ_CHECK(rule >= c.rules().data() &&
                              rule < c.rules().data() + c.rules().size(),
                          "RulesFor points outside rules()");
        PARLEY_FUZZ_CHECK(!rule->disabled, rule->name);
        PARLEY_FUZZ_CHECK(rule->segment == static_cast<int>(s), rule->name);
        PARLEY_FUZZ_CHECK(rule->zone == -1 || rule->zone == static_cast<int>(z),
                          rule->name);
      }
    }
  }
  for (size_t i = 0; i < c.flowcharts().size(); ++i) {
    CheckFlowchart(c, static_cast<int>(i));
  }
  for (size_t i = 0; i < c.events().size(); ++i) {
    const auto& event = c.events()[i];
    PARLEY_FUZZ_CHECK(c.FindEvent(event.name) == static_cast<int>(i),
                      event.name);
    for (const auto& action : event.actions) {
      for (int f : action.flowcharts) {
        PARLEY_FUZZ_CHECK(InRange(f, c.flowcharts().size()), event.name);
      }
    }
  }
}

}  // namespace

bool CompileAndCheckChannel(const v1::InteractiveChannel& channel) {
  absl::StatusOr<std::shared_ptr<const CompiledChannel>> compiled =
      channel::CompileChannel(channel);
  if (!compiled.ok()) {
    PARLEY_FUZZ_CHECK(
        compiled.status().code() == absl::StatusCode::kInvalidArgument,
        compiled.status().ToString());
    // The message goes back to clients (TestRun advisories, Deploy
    // errors), so it must be text they can parse. Known issue: a name with
    // a non-ASCII letter is reported with one byte of it.
    const absl::string_view message = compiled.status().message();
    PARLEY_FUZZ_CHECK(IsUtf8(message) ||
                          (KnownIssueTolerated(kNameCharacterIssue) &&
                           absl::StrContains(message, "has invalid character")),
                      absl::StrCat("the compile error is not UTF-8: ",
                                   absl::CHexEscape(message)));
    return false;
  }
  CheckCompiled(**compiled);

  // What the coordinator stores and runtime servers receive: the channel
  // serialized. It must compile there too.
  std::string bytes;
  PARLEY_FUZZ_CHECK(channel.SerializeToString(&bytes), "serialize");
  v1::InteractiveChannel back;
  PARLEY_FUZZ_CHECK(back.ParseFromString(bytes), "parse back");
  absl::StatusOr<std::shared_ptr<const CompiledChannel>> again =
      channel::CompileChannel(back);
  PARLEY_FUZZ_CHECK(again.ok(), again.status().ToString());
  return true;
}

}  // namespace parley::fuzz
