#include "services/runtime/segmentation/segmentation.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/value.h"
#include "services/runtime/segmentation/sample_hash.h"
#include "services/runtime/segmentation/test_channel.h"

namespace parley::segmentation {
namespace {

using ::parley::channel::CompiledBox;
using ::parley::channel::CompiledChannel;
using ::parley::channel::CompiledFlowchart;
using ::parley::expression::Bindings;
using ::parley::expression::Value;
using ::parley::segmentation::testing::CompileOrDie;
using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// `text` in storage that lives as long as the test binary: Bindings do not
// copy STRING values.
absl::string_view Keep(const std::string& text) {
  static auto* const texts = new std::vector<std::unique_ptr<std::string>>();
  texts->push_back(std::make_unique<std::string>(text));
  return *texts->back();
}

// Bindings for `flowchart` with the Customer level's fields and Device set;
// unset optionals stay NULL.
Bindings Visitor(const CompiledFlowchart& flowchart, absl::optional<double> age,
                 absl::optional<std::string> tier,
                 const std::string& device = "web", double id = 1) {
  Bindings bindings(flowchart.schema);
  const expression::Schema& schema = flowchart.schema;
  EXPECT_TRUE(bindings.Set(*schema.Find("CustomerID"), Value::Number(id)).ok());
  if (age) {
    EXPECT_TRUE(bindings.Set(*schema.Find("Age"), Value::Number(*age)).ok());
  }
  if (tier) {
    EXPECT_TRUE(
        bindings.Set(*schema.Find("Tier"), Value::String(Keep(*tier))).ok());
  }
  EXPECT_TRUE(
      bindings.Set(*schema.Find("Device"), Value::String(Keep(device))).ok());
  return bindings;
}

// The names of `segments` in `channel`.
std::vector<std::string> Names(const CompiledChannel& channel,
                               const std::vector<int>& segments) {
  std::vector<std::string> names;
  for (const int segment : segments) {
    names.push_back(channel.segments()[segment].name);
  }
  return names;
}

// Runs the channel's first flowchart and returns the segment names.
std::vector<std::string> Segment(const CompiledChannel& channel,
                                 Bindings& bindings,
                                 absl::string_view key = "1",
                                 SegmentationTrace* trace = nullptr) {
  SegmentationScratch scratch;
  std::vector<int> segments = {99};
  const absl::Status status = RunFlowchart(channel.flowcharts()[0], key,
                                           bindings, scratch, &segments, trace);
  EXPECT_TRUE(status.ok()) << status;
  return Names(channel, segments);
}

constexpr char kRouting[] = R"json([{
  "name": "Routing", "audienceLevel": "Customer", "startBox": "Start",
  "boxes": [
    {"name": "Start", "decision": {
      "branches": [{"condition": "Age >= 65", "nextBox": "PopA"},
                   {"condition": "Age >= 18", "nextBox": "PopB"}],
      "otherwiseBox": "PopC"}},
    {"name": "PopA", "populateSegments": {"segments": ["A"]}},
    {"name": "PopB", "populateSegments": {"segments": ["B"]}},
    {"name": "PopC", "populateSegments": {"segments": ["C"]}}
  ]}])json";

TEST(RunFlowchartTest, DecisionTakesFirstMatchingBranchElseOtherwise) {
  const auto channel = CompileOrDie(kRouting);
  const CompiledFlowchart& flowchart = channel->flowcharts()[0];
  Bindings senior = Visitor(flowchart, 70, "Gold");
  EXPECT_THAT(Segment(*channel, senior), ElementsAre("A"));
  Bindings adult = Visitor(flowchart, 30, "Gold");
  EXPECT_THAT(Segment(*channel, adult), ElementsAre("B"));
  Bindings child = Visitor(flowchart, 10, "Gold");
  EXPECT_THAT(Segment(*channel, child), ElementsAre("C"));
  // NULL conditions are false, so an unknown age goes to otherwise.
  Bindings unknown = Visitor(flowchart, absl::nullopt, "Gold");
  EXPECT_THAT(Segment(*channel, unknown), ElementsAre("C"));
}

TEST(RunFlowchartTest, DecisionWithoutOtherwiseIsADeadEnd) {
  const auto channel = CompileOrDie(R"json([{
    "name": "F", "audienceLevel": "Customer", "startBox": "Start",
    "boxes": [
      {"name": "Start", "decision": {
        "branches": [{"condition": "Age >= 18", "nextBox": "PopA"}]}},
      {"name": "PopA", "populateSegments": {"segments": ["A"]}}
    ]}])json");
  Bindings child = Visitor(channel->flowcharts()[0], 10, "Gold");
  SegmentationTrace trace;
  EXPECT_THAT(Segment(*channel, child, "1", &trace), IsEmpty());
  EXPECT_THAT(trace.path, ElementsAre(0));
  ASSERT_EQ(trace.notes.size(), 1u);
  EXPECT_THAT(trace.notes[0].message, HasSubstr("path ends"));
}

constexpr char kAllMatching[] = R"json([{
  "name": "All", "audienceLevel": "Customer", "startBox": "Start",
  "boxes": [
    {"name": "Start", "decision": {
      "allMatching": true,
      "branches": [{"condition": "Age >= 18", "nextBox": "PopAGold"},
                   {"condition": "Tier = 'Gold'", "nextBox": "PopBA"},
                   {"condition": "Age < 0", "nextBox": "PopC"}],
      "otherwiseBox": "PopD"}},
    {"name": "PopAGold", "populateSegments": {"segments": ["A", "Gold"]}},
    {"name": "PopBA", "populateSegments": {"segments": ["B", "A"]}},
    {"name": "PopC", "populateSegments": {"segments": ["C"]}},
    {"name": "PopD", "populateSegments": {"segments": ["D"]}}
  ]}])json";

TEST(RunFlowchartTest, AllMatchingFollowsEveryMatchingBranch) {
  const auto channel = CompileOrDie(kAllMatching);
  const CompiledFlowchart& flowchart = channel->flowcharts()[0];
  Bindings both = Visitor(flowchart, 30, "Gold");
  EXPECT_THAT(Segment(*channel, both), ElementsAre("A", "B", "Gold"));
  Bindings adult = Visitor(flowchart, 30, "Silver");
  EXPECT_THAT(Segment(*channel, adult), ElementsAre("A", "Gold"));
  Bindings none = Visitor(flowchart, 10, "Silver");
  EXPECT_THAT(Segment(*channel, none), ElementsAre("D"));
}

TEST(RunFlowchartTest, AllMatchingBranchesMeetingAgainRunTheSharedBoxOnce) {
  const auto channel = CompileOrDie(R"json([{
    "name": "Diamond", "audienceLevel": "Customer", "startBox": "Start",
    "boxes": [
      {"name": "Start", "decision": {
        "allMatching": true,
        "branches": [{"condition": "Age >= 18", "nextBox": "Left"},
                     {"condition": "Age >= 21", "nextBox": "Right"}]}},
      {"name": "Left", "decision": {
        "branches": [{"condition": "TRUE", "nextBox": "Shared"}]}},
      {"name": "Right", "decision": {
        "branches": [{"condition": "TRUE", "nextBox": "Shared"}]}},
      {"name": "Shared", "populateSegments": {"segments": ["A"]}}
    ]}])json");
  Bindings adult = Visitor(channel->flowcharts()[0], 30, "Gold");
  SegmentationTrace trace;
  EXPECT_THAT(Segment(*channel, adult, "1", &trace), ElementsAre("A"));
  EXPECT_THAT(trace.path, ElementsAre(0, 1, 3, 2));
}

constexpr char kSelect[] = R"json([{
  "name": "Derive", "audienceLevel": "Customer", "startBox": "Compute",
  "boxes": [
    {"name": "Compute", "select": {
      "derivedFields": [
        {"name": "Older", "type": "BOOLEAN", "expression": "Age > 40"},
        {"name": "Label", "type": "STRING",
         "expression": "UPPER(Tier) || ' member of the loyalty programme'"},
        {"name": "IsGold", "type": "BOOLEAN",
         "expression": "Label LIKE 'GOLD%'"}
      ],
      "nextBox": "More"}},
    {"name": "More", "select": {
      "derivedFields": [
        {"name": "Shout", "type": "STRING", "expression": "UPPER(Device)"}
      ],
      "nextBox": "Check"}},
    {"name": "Check", "decision": {
      "allMatching": true,
      "branches": [
        {"condition": "Older AND IsGold", "nextBox": "PopGold"},
        {"condition": "Label = 'SILVER member of the loyalty programme'",
         "nextBox": "PopB"},
        {"condition": "Shout = 'WEB'", "nextBox": "PopC"}],
      "otherwiseBox": "PopD"}},
    {"name": "PopGold", "populateSegments": {"segments": ["Gold"]}},
    {"name": "PopB", "populateSegments": {"segments": ["B"]}},
    {"name": "PopC", "populateSegments": {"segments": ["C"]}},
    {"name": "PopD", "populateSegments": {"segments": ["D"]}}
  ]}])json";

TEST(RunFlowchartTest, SelectDerivedFieldsAreUsedDownstream) {
  const auto channel = CompileOrDie(kSelect);
  const CompiledFlowchart& flowchart = channel->flowcharts()[0];
  Bindings gold = Visitor(flowchart, 50, "gold", "web");
  EXPECT_THAT(Segment(*channel, gold), ElementsAre("C", "Gold"));
  Bindings young_gold = Visitor(flowchart, 20, "gold", "app");
  EXPECT_THAT(Segment(*channel, young_gold), ElementsAre("D"));
  // Label's text (built by the expression) must survive later evaluations.
  // It stays readable from the bindings until the scratch is used again.
  Bindings silver = Visitor(flowchart, 50, "silver", "app");
  SegmentationScratch scratch;
  std::vector<int> segments;
  ASSERT_TRUE(RunFlowchart(flowchart, "1", silver, scratch, &segments).ok());
  EXPECT_THAT(Names(*channel, segments), ElementsAre("B"));
  EXPECT_EQ(silver.Get(*flowchart.schema.Find("Label")).string(),
            "SILVER member of the loyalty programme");
}

TEST(RunFlowchartTest, NullDerivedFieldsAreAllowedAndTraced) {
  const auto channel = CompileOrDie(kSelect);
  const CompiledFlowchart& flowchart = channel->flowcharts()[0];
  Bindings unknown = Visitor(flowchart, absl::nullopt, absl::nullopt, "app");
  SegmentationTrace trace;
  EXPECT_THAT(Segment(*channel, unknown, "1", &trace), ElementsAre("D"));
  EXPECT_TRUE(unknown.Get(*flowchart.schema.Find("Label")).is_null());
  std::vector<std::string> messages;
  for (const TraceNote& note : trace.notes) messages.push_back(note.message);
  EXPECT_THAT(messages,
              ElementsAre("box 'Compute': derived field 'Older' is NULL",
                          "box 'Compute': derived field 'Label' is NULL",
                          "box 'Compute': derived field 'IsGold' is NULL",
                          "box 'Check': condition of branch 0 is NULL, "
                          "counted as false",
                          "box 'Check': condition of branch 1 is NULL, "
                          "counted as false"));
}

// A flowchart whose Sample box has `seed` and the `cells` (JSON), which
// must lead to each of the boxes PopA, PopB and PopC (segments A, B, C).
std::string SampleFlowchart(uint64_t seed, const std::string& cells) {
  return absl::StrCat(R"json([{
    "name": "Split", "audienceLevel": "Customer", "startBox": "Sample",
    "boxes": [
      {"name": "Sample", "sample": {"seed": ")json",
                      seed, R"json(", "cells": )json", cells, R"json(}},
      {"name": "PopA", "populateSegments": {"segments": ["A"]}},
      {"name": "PopB", "populateSegments": {"segments": ["B"]}},
      {"name": "PopC", "populateSegments": {"segments": ["C"]}}
    ]}])json");
}

constexpr char kThreeCells[] = R"json([
  {"percent": 20, "nextBox": "PopA"},
  {"percent": 30, "nextBox": "PopB"},
  {"percent": 50, "nextBox": "PopC"}])json";

// The segment name each visitor key 0..count-1 lands in ("" for none).
std::vector<std::string> Assignments(const CompiledChannel& channel,
                                     int count) {
  const CompiledFlowchart& flowchart = channel.flowcharts()[0];
  Bindings bindings = Visitor(flowchart, 30, "Gold");
  SegmentationScratch scratch;
  std::vector<int> segments;
  std::vector<std::string> names;
  for (int id = 0; id < count; ++id) {
    const std::string key = absl::StrCat(id);
    EXPECT_TRUE(
        RunFlowchart(flowchart, key, bindings, scratch, &segments).ok());
    names.push_back(segments.empty() ? "" : Names(channel, segments)[0]);
  }
  return names;
}

TEST(SampleTest, HashIsStableAcrossProcesses) {
  // Computed once; a change here moves live visitors between cells.
  EXPECT_EQ(SampleHash(42, "12345"), 15590627613374969890u);
  EXPECT_EQ(SampleHash(0, ""), 6566800829925814604u);
}

TEST(SampleTest, SameVisitorAndSeedAlwaysLandInTheSameCell) {
  const auto channel = CompileOrDie(SampleFlowchart(7, kThreeCells));
  const std::vector<std::string> first = Assignments(*channel, 8);
  // Computed once, so a change across processes or releases is caught.
  EXPECT_THAT(first, ElementsAre("B", "C", "A", "C", "A", "C", "C", "C"));
  EXPECT_EQ(Assignments(*channel, 8), first);
}

TEST(SampleTest, CellsGetTheirShareOfVisitors) {
  const auto channel = CompileOrDie(SampleFlowchart(7, kThreeCells));
  int a = 0, b = 0, c = 0;
  for (const std::string& name : Assignments(*channel, 10000)) {
    a += name == "A";
    b += name == "B";
    c += name == "C";
  }
  EXPECT_NEAR(a, 2000, 300);
  EXPECT_NEAR(b, 3000, 300);
  EXPECT_NEAR(c, 5000, 300);
  EXPECT_EQ(a + b + c, 10000);
}

TEST(SampleTest, VisitorsBeyondTheCellsTotalLandNowhere) {
  const auto channel = CompileOrDie(
      SampleFlowchart(7, R"json([{"percent": 10, "nextBox": "PopA"},
                 {"percent": 5, "nextBox": "PopB"},
                 {"percent": 5, "nextBox": "PopC"}])json"));
  int nowhere = 0;
  for (const std::string& name : Assignments(*channel, 10000)) {
    nowhere += name.empty();
  }
  EXPECT_NEAR(nowhere, 8000, 300);
}

TEST(SampleTest, DifferentSeedsGiveDifferentAssignments) {
  const std::vector<std::string> seven =
      Assignments(*CompileOrDie(SampleFlowchart(7, kThreeCells)), 1000);
  const std::vector<std::string> eight =
      Assignments(*CompileOrDie(SampleFlowchart(8, kThreeCells)), 1000);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) differ += seven[i] != eight[i];
  // Independent assignments differ for 1 - (.2² + .3² + .5²) = 62%.
  EXPECT_GT(differ, 500);
}

TEST(SampleTest, ChooseCellUsesCumulativePercent) {
  const std::vector<channel::CompiledSampleCell> cells = {
      {20, 1}, {0, 2}, {30, 3}};
  EXPECT_EQ(ChooseCell(cells, 0), 0);
  EXPECT_EQ(ChooseCell(cells, 19.999), 0);
  EXPECT_EQ(ChooseCell(cells, 20), 2);
  EXPECT_EQ(ChooseCell(cells, 49.9), 2);
  EXPECT_EQ(ChooseCell(cells, 50), -1);
}

TEST(RunFlowchartTest, TraceListsPathAndNotes) {
  const auto channel = CompileOrDie(
      R"json([{
    "name": "T", "audienceLevel": "Customer", "startBox": "Start",
    "boxes": [
      {"name": "Start", "decision": {
        "branches": [{"condition": "Age >= 18", "nextBox": "PopA"}],
        "otherwiseBox": "Sample"}},
      {"name": "PopA", "populateSegments": {"segments": ["A"]}},
      {"name": "Sample", "sample": {"seed": "1", "cells": [
        {"percent": 100, "nextBox": "PopB"}]}},
      {"name": "PopB", "populateSegments": {"segments": ["B"]}}
    ]}])json");
  Bindings unknown = Visitor(channel->flowcharts()[0], absl::nullopt, "Gold");
  SegmentationTrace trace;
  trace.path = {42};  // Overwritten.
  EXPECT_THAT(Segment(*channel, unknown, "visitor-1", &trace),
              ElementsAre("B"));
  EXPECT_EQ(trace.flowchart, -1);
  EXPECT_THAT(trace.path, ElementsAre(0, 2, 3));
  ASSERT_EQ(trace.notes.size(), 2u);
  EXPECT_EQ(trace.notes[0].box, 0);
  EXPECT_EQ(trace.notes[0].message,
            "box 'Start': condition of branch 0 is NULL, counted as false");
  EXPECT_EQ(trace.notes[1].box, 2);
  EXPECT_THAT(trace.notes[1].message, HasSubstr("box 'Sample': sample point "));
  EXPECT_THAT(trace.notes[1].message, HasSubstr("falls in cell 0"));
}

TEST(RunFlowchartTest, RejectsTooSmallBindings) {
  const auto channel = CompileOrDie(kSelect);
  expression::Schema small;
  Bindings bindings(small);
  SegmentationScratch scratch;
  std::vector<int> segments;
  EXPECT_THAT(
      RunFlowchart(channel->flowcharts()[0], "1", bindings, scratch, &segments),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("needs bindings with")));
}

TEST(RunFlowchartTest, CapsVisitedBoxes) {
  CompiledFlowchart flowchart;
  flowchart.name = "Long";
  flowchart.start_box = 0;
  flowchart.boxes.resize(kMaxVisitedBoxes + 1);
  for (int i = 0; i < kMaxVisitedBoxes; ++i) {
    flowchart.boxes[i].kind = CompiledBox::Kind::kSelect;
    flowchart.boxes[i].next = i + 1;
  }
  flowchart.boxes.back().kind = CompiledBox::Kind::kPopulateSegments;
  flowchart.boxes.back().segments = {0};
  Bindings bindings(flowchart.schema);
  SegmentationScratch scratch;
  std::vector<int> segments;
  EXPECT_THAT(RunFlowchart(flowchart, "1", bindings, scratch, &segments),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("visited more than 10000 boxes")));
  EXPECT_THAT(segments, IsEmpty());

  flowchart.boxes.pop_back();
  flowchart.boxes.back().kind = CompiledBox::Kind::kPopulateSegments;
  flowchart.boxes.back().segments = {0};
  EXPECT_TRUE(RunFlowchart(flowchart, "1", bindings, scratch, &segments).ok());
  EXPECT_THAT(segments, ElementsAre(0));
}

TEST(RunFlowchartTest, CycleTerminatesAndBadReferenceFails) {
  CompiledFlowchart flowchart;
  flowchart.name = "Loop";
  flowchart.start_box = 0;
  flowchart.boxes.resize(2);
  flowchart.boxes[0].kind = CompiledBox::Kind::kSelect;
  flowchart.boxes[0].next = 1;
  flowchart.boxes[1].kind = CompiledBox::Kind::kSelect;
  flowchart.boxes[1].next = 0;
  Bindings bindings(flowchart.schema);
  SegmentationScratch scratch;
  std::vector<int> segments;
  SegmentationTrace trace;
  EXPECT_TRUE(
      RunFlowchart(flowchart, "1", bindings, scratch, &segments, &trace).ok());
  EXPECT_THAT(trace.path, ElementsAre(0, 1));

  flowchart.boxes[1].next = 7;
  EXPECT_THAT(RunFlowchart(flowchart, "1", bindings, scratch, &segments),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("box 7, which does not exist")));
}

constexpr char kSeveral[] = R"json([
  {"name": "F1", "audienceLevel": "Customer", "startBox": "P",
   "boxes": [{"name": "P", "populateSegments": {"segments": ["A"]}}]},
  {"name": "F2", "audienceLevel": "Customer", "startBox": "S",
   "boxes": [
     {"name": "S", "select": {"derivedFields": [
       {"name": "Adult", "type": "BOOLEAN", "expression": "Age >= 18"}],
       "nextBox": "D"}},
     {"name": "D", "decision": {
       "branches": [{"condition": "Adult", "nextBox": "P"}]}},
     {"name": "P", "populateSegments": {"segments": ["B", "A"]}}]},
  {"name": "H", "audienceLevel": "Household", "startBox": "P",
   "boxes": [{"name": "P", "populateSegments": {"segments": ["D"]}}]},
  {"name": "F3", "audienceLevel": "Customer", "startBox": "S",
   "boxes": [
     {"name": "S", "select": {"derivedFields": [
       {"name": "Name", "type": "STRING", "expression": "Tier || '!'"}],
       "nextBox": "D"}},
     {"name": "D", "decision": {
       "branches": [{"condition": "Name = 'Gold!'", "nextBox": "P"}]}},
     {"name": "P", "populateSegments": {"segments": ["C"]}}]}
])json";

TEST(SegmentVisitorTest, UnionsEveryFlowchartOfTheLevel) {
  const auto channel = CompileOrDie(kSeveral);
  const int customer = channel->FindAudienceLevel("Customer");
  // Any of the level's flowchart schemas lays out the shared slots.
  const Bindings visitor = Visitor(channel->flowcharts()[0], 30, "Gold");
  SegmentationScratch scratch;
  std::vector<int> segments = {99};
  std::vector<SegmentationTrace> traces;
  ASSERT_TRUE(SegmentVisitor(*channel, customer, {}, visitor, "1", scratch,
                             &segments, &traces)
                  .ok());
  EXPECT_THAT(Names(*channel, segments), ElementsAre("A", "B", "C"));
  ASSERT_EQ(traces.size(), 3u);
  EXPECT_EQ(traces[0].flowchart, channel->FindFlowchart("F1"));
  EXPECT_EQ(traces[1].flowchart, channel->FindFlowchart("F2"));
  EXPECT_EQ(traces[2].flowchart, channel->FindFlowchart("F3"));
  EXPECT_THAT(traces[1].path, ElementsAre(0, 1, 2));

  // Reusing the scratch for another visitor.
  const Bindings child = Visitor(channel->flowcharts()[0], 10, "Silver");
  ASSERT_TRUE(
      SegmentVisitor(*channel, customer, {}, child, "2", scratch, &segments)
          .ok());
  EXPECT_THAT(Names(*channel, segments), ElementsAre("A"));
}

TEST(SegmentVisitorTest, RunsOnlyTheNamedFlowcharts) {
  const auto channel = CompileOrDie(kSeveral);
  const int customer = channel->FindAudienceLevel("Customer");
  const Bindings visitor = Visitor(channel->flowcharts()[0], 10, "Gold");
  SegmentationScratch scratch;
  std::vector<int> segments;
  const std::vector<int> only = {channel->FindFlowchart("F3"),
                                 channel->FindFlowchart("F2")};
  std::vector<SegmentationTrace> traces;
  ASSERT_TRUE(SegmentVisitor(*channel, customer, only, visitor, "1", scratch,
                             &segments, &traces)
                  .ok());
  EXPECT_THAT(Names(*channel, segments), ElementsAre("C"));
  ASSERT_EQ(traces.size(), 2u);
  EXPECT_EQ(traces[0].flowchart, only[0]);
}

TEST(SegmentVisitorTest, RejectsBadRequests) {
  const auto channel = CompileOrDie(kSeveral);
  const int customer = channel->FindAudienceLevel("Customer");
  const Bindings visitor = Visitor(channel->flowcharts()[0], 10, "Gold");
  SegmentationScratch scratch;
  std::vector<int> segments;
  const std::vector<int> household = {channel->FindFlowchart("H")};
  EXPECT_THAT(SegmentVisitor(*channel, customer, household, visitor, "1",
                             scratch, &segments),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not of audience level 'Customer'")));
  const std::vector<int> missing = {99};
  EXPECT_THAT(SegmentVisitor(*channel, customer, missing, visitor, "1", scratch,
                             &segments),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no flowchart 99")));
  EXPECT_THAT(SegmentVisitor(*channel, 5, {}, visitor, "1", scratch, &segments),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no audience level 5")));
  expression::Schema small;
  const Bindings too_small(small);
  EXPECT_THAT(SegmentVisitor(*channel, customer, {}, too_small, "1", scratch,
                             &segments),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs bindings with 4 slots")));
}

}  // namespace
}  // namespace parley::segmentation
