// TestRun (RunFlowchartTest).
#include "services/runtime/engine/test_run.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/channel/channel.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/engine_fixture.h"

namespace parley::engine {
namespace {

using ::parley::engine::testing::EngineTest;
using ::parley::engine::testing::FirstAdvisory;
using ::parley::engine::testing::Number;
using ::parley::engine::testing::Text;
using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Adults, or visitors on the web, are split 50/50 (seeded) into A and B;
// everyone else is Minor.
constexpr char kLabJson[] = R"json({
  "name": "Lab",
  "audienceLevels": [
    {"name": "Customer",
     "audienceIdFields": [{"name": "CustomerID", "type": "NUMBER"}],
     "profileAttributes": [{"name": "Age", "type": "NUMBER"},
                           {"name": "Tier", "type": "STRING"}]}
  ],
  "sessionParameters": [{"name": "Device", "type": "STRING"}],
  "segments": [{"name": "A"}, {"name": "B"}, {"name": "Minor"},
               {"name": "Unused"}],
  "flowcharts": [
    {"name": "Lab", "audienceLevel": "Customer", "startBox": "Derive",
     "boxes": [
       {"name": "Derive", "select": {
         "derivedFields": [{"name": "Adult", "type": "BOOLEAN",
                            "expression": "$ADULT"}],
         "nextBox": "Check"}},
       {"name": "Check", "decision": {
         "branches": [{"condition": "Adult", "nextBox": "Split"},
                      {"condition": "Device = 'web'", "nextBox": "Split"}],
         "otherwiseBox": "PopMinor"}},
       {"name": "Split", "sample": {
         "seed": "7",
         "cells": [{"percent": 50, "nextBox": "PopA"},
                   {"percent": 50, "nextBox": "PopB"}]}},
       {"name": "PopA", "populateSegments": {"segments": ["A"]}},
       {"name": "PopB", "populateSegments": {"segments": ["B"]}},
       {"name": "PopMinor", "populateSegments": {"segments": ["Minor"]}}
     ]}
  ]
})json";

v1::InteractiveChannel LabProto(const std::string& adult = "Age >= 18") {
  std::string json = kLabJson;
  json.replace(json.find("$ADULT"), 6, adult);
  v1::InteractiveChannel proto;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &proto);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  return proto;
}

v1::TestRow Row(std::vector<v1::NameValue> values) {
  v1::TestRow row;
  for (v1::NameValue& value : values) *row.add_values() = std::move(value);
  return row;
}

class TestRunTest : public EngineTest {
 protected:
  v1::TestRunResponse Run(const v1::TestRunRequest& request) {
    absl::StatusOr<v1::TestRunResponse> response = engine_.TestRun(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(v1::TestRunResponse());
  }
};

TEST_F(TestRunTest, DeployedFlowchartGivesSegmentsPathsAndCounts) {
  v1::TestRunRequest request;
  request.set_interactive_channel("WEB");
  request.set_flowchart("main");
  *request.add_rows() = Row({Number("CustomerID", 1), Text("Tier", "Gold")});
  *request.add_rows() = Row({Number("customerid", 2), Text("tier", "Silver")});
  *request.add_rows() = Row({Number("CustomerID", 3), Text("Device", "vip")});
  *request.add_rows() = Row({Number("CustomerID", 4), Number("Age", 30)});
  const v1::TestRunResponse response = Run(request);
  EXPECT_EQ(response.status(), v1::SUCCESS);
  EXPECT_THAT(response.advisory_messages(), IsEmpty());
  ASSERT_EQ(response.rows_size(), 4);
  const std::vector<std::string> expected = {"Gold", "Regular", "Gold",
                                             "Regular"};
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const v1::TestRowResult& row = response.rows(i);
    EXPECT_EQ(row.row(), static_cast<uint32_t>(i + 1));
    EXPECT_THAT(row.segments(), ElementsAre(expected[i]));
    EXPECT_THAT(row.path(), ElementsAre("Split", "Pop" + expected[i]));
    EXPECT_THAT(row.errors(), IsEmpty());
  }
  // Only the segments Main can populate, in channel order.
  ASSERT_EQ(response.segment_counts_size(), 2);
  EXPECT_EQ(response.segment_counts(0).segment(), "Gold");
  EXPECT_EQ(response.segment_counts(0).visitors(), 2);
  EXPECT_EQ(response.segment_counts(1).segment(), "Regular");
  EXPECT_EQ(response.segment_counts(1).visitors(), 2);
}

TEST_F(TestRunTest, BoxCountsAndDerivedFieldsOfEachRow) {
  v1::TestRunRequest request;
  request.set_supplied_channel(LabProto().SerializeAsString());
  request.set_flowchart("Lab");
  *request.add_rows() = Row({Number("CustomerID", 1), Number("Age", 40)});
  *request.add_rows() = Row({Number("CustomerID", 2), Number("Age", 12)});
  *request.add_rows() = Row({Number("CustomerID", 3)});  // Adult is NULL.
  *request.add_rows() = Row({Text("Tier", "no id")});    // Not run.
  const v1::TestRunResponse response = Run(request);
  ASSERT_EQ(response.rows_size(), 4);

  ASSERT_EQ(response.rows(0).derived_fields_size(), 1);
  EXPECT_EQ(response.rows(0).derived_fields(0).name(), "Adult");
  EXPECT_EQ(response.rows(0).derived_fields(0).string_value(), "true");
  EXPECT_EQ(response.rows(1).derived_fields(0).string_value(), "false");
  ASSERT_EQ(response.rows(2).derived_fields_size(), 1);
  EXPECT_EQ(response.rows(2).derived_fields(0).value_case(),
            v1::NameValue::VALUE_NOT_SET);
  EXPECT_THAT(response.rows(3).derived_fields(), IsEmpty());

  // Every box in declaration order; rows 1-3 ran: one adult went through
  // Split, the other two to PopMinor.
  std::vector<std::string> counts;
  for (const v1::BoxCount& count : response.box_counts()) {
    counts.push_back(absl::StrCat(count.box(), "=", count.visitors()));
  }
  const uint64_t split_a = response.segment_counts(0).visitors();
  EXPECT_THAT(counts,
              ElementsAre("Derive=3", "Check=3", "Split=1",
                          absl::StrCat("PopA=", split_a),
                          absl::StrCat("PopB=", 1 - split_a), "PopMinor=2"));
}

TEST_F(TestRunTest, RowsWithBadInputsReportErrorsAndAreNotRun) {
  v1::TestRunRequest request;
  request.set_interactive_channel("Web");
  request.set_flowchart("Main");
  *request.add_rows() = Row({Number("CustomerID", 1), Text("Tier", "Gold")});
  *request.add_rows() =
      Row({Number("CustomerID", 2), Text("Colour", "red"), Number("Tier", 5)});
  *request.add_rows() = Row({Text("Tier", "Gold"), Text("TIER", "Gold")});
  *request.add_rows() = Row({Text("Tier", "Gold")});
  *request.add_rows() = Row({Number("HouseholdSize", 3)});
  const v1::TestRunResponse response = Run(request);
  EXPECT_EQ(response.status(), v1::WARNING);
  ASSERT_EQ(response.advisory_messages_size(), 1);
  EXPECT_EQ(response.advisory_messages(0).code(), v1::INVALID_PARAMETER);
  EXPECT_EQ(response.advisory_messages(0).detail(), "4 of 5 rows");

  EXPECT_THAT(response.rows(0).errors(), IsEmpty());
  EXPECT_THAT(response.rows(0).segments(), ElementsAre("Gold"));
  EXPECT_THAT(response.rows(1).errors(),
              ElementsAre(HasSubstr("'Colour' is not an input"),
                          HasSubstr("'Tier' must be STRING")));
  EXPECT_THAT(response.rows(2).errors(),
              ElementsAre(HasSubstr("'Tier' is given twice")));
  EXPECT_THAT(response.rows(3).errors(),
              ElementsAre(HasSubstr("'CustomerID' is missing")));
  // Another level's attribute is not an input of this flowchart.
  EXPECT_THAT(response.rows(4).errors(),
              ElementsAre(HasSubstr("'HouseholdSize' is not an input")));
  for (int i = 1; i < 5; ++i) {
    EXPECT_THAT(response.rows(i).segments(), IsEmpty());
    EXPECT_THAT(response.rows(i).path(), IsEmpty());
  }
  EXPECT_EQ(response.segment_counts(0).visitors(), 1);
  EXPECT_EQ(response.segment_counts(1).visitors(), 0);
}

TEST_F(TestRunTest, SuppliedChannelAgreesWithLiveSessions) {
  const v1::InteractiveChannel lab = LabProto();
  v1::TestRunRequest request;
  request.set_supplied_channel(lab.SerializeAsString());
  request.set_flowchart("Lab");
  constexpr int kVisitors = 40;
  for (int customer = 3; customer < 3 + kVisitors; ++customer) {
    *request.add_rows() =
        Row({Number("CustomerID", customer), Text("Device", "web")});
  }
  *request.add_rows() = Row({Number("CustomerID", 100), Number("Age", 12)});
  const v1::TestRunResponse response = Run(request);
  EXPECT_EQ(response.status(), v1::SUCCESS);

  // The same channel, deployed, segments sessions exactly as the run did.
  auto compiled = channel::CompileChannel(lab);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  engine_.SetChannel("Lab", *compiled, 1);
  int in_a = 0;
  for (int i = 0; i < kVisitors; ++i) {
    const v1::TestRowResult& row = response.rows(i);
    v1::StartSessionRequest start;
    start.set_session_id("lab" + std::to_string(i));
    start.set_interactive_channel("Lab");
    start.set_audience_level("Customer");
    *start.add_audience_id() = Number("CustomerID", 3 + i);
    *start.add_parameters() = Text("Device", "web");
    ASSERT_TRUE(engine_.StartSession(start).ok());
    const v1::SessionState session = Stored(start.session_id());
    ASSERT_EQ(row.segments_size(), 1);
    EXPECT_THAT(session.segments(), ElementsAre(row.segments(0)));
    EXPECT_THAT(row.path(), ElementsAre("Derive", "Check", "Split",
                                        "Pop" + row.segments(0)));
    if (row.segments(0) == "A") ++in_a;
  }
  // The split really splits.
  EXPECT_GT(in_a, 0);
  EXPECT_LT(in_a, kVisitors);
  const v1::TestRowResult& minor = response.rows(kVisitors);
  EXPECT_THAT(minor.segments(), ElementsAre("Minor"));
  EXPECT_THAT(minor.path(), ElementsAre("Derive", "Check", "PopMinor"));

  ASSERT_EQ(response.segment_counts_size(), 3);  // Not "Unused".
  EXPECT_EQ(response.segment_counts(0).segment(), "A");
  EXPECT_EQ(response.segment_counts(0).visitors(), in_a);
  EXPECT_EQ(response.segment_counts(1).segment(), "B");
  EXPECT_EQ(response.segment_counts(1).visitors(), kVisitors - in_a);
  EXPECT_EQ(response.segment_counts(2).segment(), "Minor");
  EXPECT_EQ(response.segment_counts(2).visitors(), 1);

  // The same visitor lands in the same cell every time.
  v1::TestRunRequest again = request;
  const v1::TestRunResponse repeated = Run(again);
  for (int i = 0; i < kVisitors; ++i) {
    EXPECT_EQ(repeated.rows(i).segments(0), response.rows(i).segments(0));
  }
}

TEST_F(TestRunTest, SuppliedChannelThatDoesNotCompileIsAnError) {
  v1::TestRunRequest request;
  request.set_supplied_channel(LabProto("Age >= 'old'").SerializeAsString());
  request.set_flowchart("Lab");
  *request.add_rows() = Row({Number("CustomerID", 1)});
  const v1::TestRunResponse response = Run(request);
  EXPECT_EQ(response.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(response), v1::INVALID_INTERACTIVE_CHANNEL);
  EXPECT_THAT(response.advisory_messages(0).detail(), HasSubstr("Derive"));
  EXPECT_THAT(response.rows(), IsEmpty());
}

TEST_F(TestRunTest, UnknownChannelOrFlowchartIsAnError) {
  v1::TestRunRequest request;
  request.set_interactive_channel("Mobile");
  request.set_flowchart("Main");
  const v1::TestRunResponse no_channel = Run(request);
  EXPECT_EQ(no_channel.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(no_channel), v1::INVALID_INTERACTIVE_CHANNEL);

  request.set_interactive_channel("Web");
  request.set_flowchart("Lab");
  const v1::TestRunResponse no_flowchart = Run(request);
  EXPECT_EQ(no_flowchart.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(no_flowchart), v1::INVALID_PARAMETER);
  EXPECT_EQ(no_flowchart.advisory_messages(0).detail(), "Lab");
}

TEST_F(TestRunTest, MalformedRequestsAreInvalidArguments) {
  v1::TestRunRequest neither;
  neither.set_flowchart("Main");
  EXPECT_THAT(engine_.TestRun(neither),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  v1::TestRunRequest both = neither;
  both.set_interactive_channel("Web");
  both.set_supplied_channel(LabProto().SerializeAsString());
  EXPECT_THAT(engine_.TestRun(both),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  v1::TestRunRequest no_flowchart;
  no_flowchart.set_interactive_channel("Web");
  EXPECT_THAT(engine_.TestRun(no_flowchart),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  v1::TestRunRequest garbage = neither;
  garbage.set_supplied_channel("not a channel");
  EXPECT_THAT(engine_.TestRun(garbage),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("InteractiveChannel")));

  v1::TestRunRequest too_many = neither;
  too_many.set_interactive_channel("Web");
  for (int i = 0; i <= kMaxTestRunRows; ++i) {
    too_many.add_rows()->add_values()->set_name("CustomerID");
  }
  EXPECT_THAT(
      engine_.TestRun(too_many),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("100000")));
  too_many.mutable_rows()->RemoveLast();
  auto at_limit = engine_.TestRun(too_many);
  ASSERT_TRUE(at_limit.ok());
  EXPECT_EQ(at_limit->rows_size(), kMaxTestRunRows);
}

TEST_F(TestRunTest, RunsWithoutAnEngine) {
  ChannelRegistry channels;
  channels.Set("Web", testing::Channel("Basic"), 3);
  v1::TestRunRequest request;
  request.set_interactive_channel("Web");
  request.set_flowchart("Homes");
  *request.add_rows() =
      Row({Number("HouseholdID", 1), Number("HouseholdSize", 4)});
  *request.add_rows() = Row({Number("HouseholdID", 2)});
  auto response = RunFlowchartTest(request, channels, 0);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_THAT(response->rows(0).segments(), ElementsAre("Family"));
  // HouseholdSize NULL: the condition does not hold.
  EXPECT_THAT(response->rows(1).segments(), ElementsAre("Regular"));
  EXPECT_THAT(response->rows(1).path(),
              ElementsAre("BySize", "PopHomeRegular"));
}

}  // namespace
}  // namespace parley::engine
