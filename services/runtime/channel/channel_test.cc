#include "services/runtime/channel/channel.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/common/testing/status_matchers.h"

namespace parley::channel {
namespace {

using ::parley::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The demo channel from testdata/demo_channel.json.
v1::InteractiveChannel Demo() {
  const std::string path = absl::StrCat(
      std::getenv("TEST_SRCDIR"), "/", std::getenv("TEST_WORKSPACE"),
      "/services/runtime/channel/testdata/demo_channel.json");
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << path;
  std::stringstream text;
  text << file.rdbuf();
  v1::InteractiveChannel channel;
  const auto status =
      google::protobuf::util::JsonStringToMessage(text.str(), &channel);
  EXPECT_TRUE(status.ok()) << status;
  return channel;
}

v1::FlowchartBox* Box(v1::InteractiveChannel& channel,
                      const std::string& name) {
  for (v1::FlowchartBox& box :
       *channel.mutable_flowcharts(0)->mutable_boxes()) {
    if (box.name() == name) return &box;
  }
  ADD_FAILURE() << "no box " << name;
  return nullptr;
}

v1::TreatmentRule* Rule(v1::InteractiveChannel& channel,
                        const std::string& name) {
  for (v1::TreatmentRule& rule : *channel.mutable_treatment_rules()) {
    if (rule.name() == name) return &rule;
  }
  ADD_FAILURE() << "no rule " << name;
  return nullptr;
}

// The names of `rules`.
std::vector<std::string> Names(const std::vector<const CompiledRule*>& rules) {
  std::vector<std::string> names;
  for (const CompiledRule* rule : rules) names.push_back(rule->name);
  return names;
}

// Expects `channel` to fail to compile with every fragment in the message.
void ExpectInvalid(const v1::InteractiveChannel& channel,
                   const std::vector<std::string>& fragments) {
  auto compiled = CompileChannel(channel);
  ASSERT_THAT(compiled, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("channel 'demo' is invalid")));
  for (const std::string& fragment : fragments) {
    EXPECT_THAT(compiled, StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr(fragment)));
  }
}

TEST(CompileChannelTest, DemoFromJsonCompiles) {
  auto compiled = CompileChannel(Demo());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const CompiledChannel& channel = **compiled;
  EXPECT_EQ(channel.name(), "demo");
  ASSERT_EQ(channel.audience_levels().size(), 1u);
  EXPECT_EQ(channel.audience_levels()[0].profile_attributes.size(), 3u);
  EXPECT_THAT(channel.audience_levels()[0].flowcharts, ElementsAre(0));
  EXPECT_EQ(channel.zones().size(), 2u);
  EXPECT_EQ(channel.offers().size(), 3u);
  EXPECT_EQ(channel.offers()[0].effective_millis, 1704067200000);
  EXPECT_THAT(channel.offers()[0].code, ElementsAre("GC", "001"));
  EXPECT_EQ(channel.suppression().max_presentations_per_session(), 3u);
  EXPECT_EQ(channel.tie_break(), v1::TIE_BREAK_NEWER_OFFER);

  const int ip = channel.FindInteractionPoint("HomePageHero");
  ASSERT_GE(ip, 0);
  EXPECT_EQ(channel.interaction_points()[ip].zone, channel.FindZone("Hero"));
  EXPECT_EQ(channel.interaction_points()[ip].default_string, "welcome");

  const CompiledFlowchart& web = channel.flowcharts()[0];
  ASSERT_EQ(web.boxes.size(), 7u);
  EXPECT_EQ(web.boxes[web.start_box].name, "Split");
  const CompiledBox& split = web.boxes[web.start_box];
  EXPECT_EQ(split.kind, CompiledBox::Kind::kDecision);
  ASSERT_EQ(split.branches.size(), 1u);
  EXPECT_EQ(web.boxes[split.branches[0].next].name, "GoldSelect");
  EXPECT_EQ(web.boxes[split.otherwise].name, "Sample");
  const CompiledBox& select = web.boxes[split.branches[0].next];
  ASSERT_EQ(select.derived_fields.size(), 2u);
  EXPECT_EQ(web.schema.Find("DaysSincePurchase"),
            select.derived_fields[0].slot);
  const CompiledBox& sample = web.boxes[split.otherwise];
  EXPECT_EQ(sample.seed, 42u);
  ASSERT_EQ(sample.cells.size(), 2u);
  EXPECT_EQ(web.boxes[sample.cells[0].next].segments,
            std::vector<int>{channel.FindSegment("Young")});

  const int event = channel.FindEvent("OfferAccepted");
  ASSERT_GE(event, 0);
  ASSERT_EQ(channel.events()[event].actions.size(), 2u);
  EXPECT_EQ(channel.events()[event].actions[1].kind,
            CompiledEventAction::Kind::kResegment);
  EXPECT_THAT(channel.events()[event].actions[1].flowcharts, ElementsAre(0));

  const CompiledRule& upsell = channel.rules()[channel.FindRule("Gold upsell")];
  EXPECT_EQ(upsell.marketing_score, 80);
  EXPECT_TRUE(upsell.eligibility.has_value());
  const CompiledRule& shipping =
      channel.rules()[channel.FindRule("Gold shipping")];
  EXPECT_EQ(shipping.marketing_score, 50);
  EXPECT_EQ(shipping.zone, -1);
  EXPECT_TRUE(shipping.score_expression.has_value());
}

TEST(CompileChannelTest, LookupsIgnoreCase) {
  auto compiled = CompileChannel(Demo());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const CompiledChannel& channel = **compiled;
  EXPECT_EQ(channel.FindInteractionPoint("checkoutsidebar"),
            channel.FindInteractionPoint("CheckoutSidebar"));
  EXPECT_GE(channel.FindInteractionPoint("CHECKOUTSIDEBAR"), 0);
  EXPECT_EQ(channel.FindAudienceLevel("customer"), 0);
  EXPECT_EQ(channel.FindEvent("offeraccepted"), 0);
  EXPECT_EQ(channel.FindOffer("goldcard"), 0);
  EXPECT_EQ(channel.FindSegment("YOUNG"), 1);
  EXPECT_EQ(channel.FindFlowchart("wEB"), 0);
  EXPECT_EQ(channel.FindZone("checkout"), 1);
  EXPECT_EQ(channel.FindRule("gold UPSELL"), 0);
  EXPECT_EQ(channel.FindOffer("Nope"), -1);
}

TEST(CompileChannelTest, RulesForCombinesZoneAndAllZoneRules) {
  auto compiled = CompileChannel(Demo());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const CompiledChannel& channel = **compiled;
  const int gold = channel.FindSegment("Gold");
  const int young = channel.FindSegment("Young");
  const int everyone = channel.FindSegment("Everyone");
  const int hero = channel.FindZone("Hero");
  const int checkout = channel.FindZone("Checkout");
  // "Old promo" is disabled and never listed.
  EXPECT_THAT(Names(channel.RulesFor(gold, hero)),
              ElementsAre("Gold upsell", "Gold shipping"));
  EXPECT_THAT(Names(channel.RulesFor(gold, checkout)),
              ElementsAre("Gold shipping"));
  EXPECT_THAT(Names(channel.RulesFor(young, hero)), IsEmpty());
  EXPECT_THAT(Names(channel.RulesFor(young, checkout)),
              ElementsAre("Young newsletter"));
  EXPECT_THAT(Names(channel.RulesFor(everyone, hero)), IsEmpty());
  const CompiledRule* rule = channel.RulesFor(gold, hero)[0];
  EXPECT_EQ(rule->offer, channel.FindOffer("GoldCard"));
  EXPECT_EQ(rule->segment, gold);
  EXPECT_EQ(rule->zone, hero);
}

TEST(CompileChannelTest, ElementNamesMustBeValid) {
  v1::InteractiveChannel channel = Demo();
  channel.mutable_offers(0)->set_name("");
  channel.mutable_segments(2)->set_name("Every/one");
  channel.mutable_zones(0)->set_name(" Hero");
  ExpectInvalid(channel, {"offer '': name is empty",
                          "segment 'Every/one': name has invalid character '/'",
                          "zone ' Hero': name has leading or trailing spaces"});
}

TEST(CompileChannelTest, NonAsciiCharactersAreNamedInAscii) {
  v1::InteractiveChannel channel = Demo();
  channel.mutable_segments(2)->set_name("Caf\xc3\xa9");
  // The offending byte is escaped, so the message stays valid UTF-8 for
  // clients that check it.
  ExpectInvalid(channel,
                {"segment 'Caf\xc3\xa9': name has invalid character '\\xc3'"});
}

TEST(CompileChannelTest, TimesBeyondTheTimestampRangeAreClamped) {
  v1::InteractiveChannel channel = Demo();
  // A channel in wire form may hold any seconds; they must not overflow.
  channel.mutable_offers(0)->mutable_effective_time()->set_seconds(
      -43910158502459137);
  channel.mutable_offers(0)->mutable_expiration_time()->set_seconds(INT64_MAX);
  EXPECT_TRUE(CompileChannel(channel).ok());
}

TEST(CompileChannelTest, NamesAreUniqueIgnoringCase) {
  v1::InteractiveChannel channel = Demo();
  channel.add_offers()->set_name("goldcard");
  channel.add_events()->set_name("OFFERACCEPTED");
  channel.add_interaction_points()->set_name("homepagehero");
  channel.mutable_interaction_points()->rbegin()->set_zone("Hero");
  ExpectInvalid(channel, {"offer 'goldcard' defined twice",
                          "event 'OFFERACCEPTED' defined twice",
                          "interaction point 'homepagehero' defined twice"});
}

TEST(CompileChannelTest, FieldTypesMustBeSpecified) {
  v1::InteractiveChannel channel = Demo();
  channel.mutable_audience_levels(0)->mutable_profile_attributes(1)->set_type(
      v1::FIELD_TYPE_UNSPECIFIED);
  channel.mutable_session_parameters(0)->set_type(v1::FIELD_TYPE_UNSPECIFIED);
  ExpectInvalid(channel, {"audience level 'Customer': profile attribute "
                          "'Tier': type is not specified",
                          "session parameter 'Device': type is not specified"});
}

TEST(CompileChannelTest, FieldNamesMustBeUniqueAndValid) {
  v1::InteractiveChannel channel = Demo();
  v1::AudienceLevel* level = channel.mutable_audience_levels(0);
  v1::FieldDefinition* twice = level->add_profile_attributes();
  twice->set_name("AGE");
  twice->set_type(v1::NUMBER);
  v1::FieldDefinition* bad = level->add_profile_attributes();
  bad->set_name("Last Name");
  bad->set_type(v1::STRING);
  ExpectInvalid(channel,
                {"audience level 'Customer': profile attribute 'AGE' defined "
                 "twice",
                 "profile attribute 'Last Name': name has invalid character"});
}

TEST(CompileChannelTest, InteractionPointZoneMustExist) {
  v1::InteractiveChannel channel = Demo();
  channel.mutable_interaction_points(1)->set_zone("Cart");
  ExpectInvalid(channel,
                {"interaction point 'CheckoutSidebar': zone 'Cart' is not "
                 "defined"});
}

TEST(CompileChannelTest, RuleReferencesMustExist) {
  v1::InteractiveChannel channel = Demo();
  Rule(channel, "Gold upsell")->set_segment("Platinum");
  Rule(channel, "Gold shipping")->set_zone("Footer");
  Rule(channel, "Young newsletter")->set_offer("Magazine");
  ExpectInvalid(channel,
                {"treatment rule 'Gold upsell': segment 'Platinum' is not "
                 "defined",
                 "treatment rule 'Gold shipping': zone 'Footer' is not "
                 "defined",
                 "treatment rule 'Young newsletter': offer 'Magazine' is not "
                 "defined"});
}

TEST(CompileChannelTest, MarketingScoreMustBeInRange) {
  v1::InteractiveChannel channel = Demo();
  Rule(channel, "Gold upsell")->mutable_marketing_score()->set_value(101);
  Rule(channel, "Gold shipping")->mutable_marketing_score()->set_value(-1);
  ExpectInvalid(channel,
                {"treatment rule 'Gold upsell': marketing score 101 "
                 "is not in [0, 100]",
                 "treatment rule 'Gold shipping': marketing score -1"});
}

TEST(CompileChannelTest, EffectiveMustBeBeforeExpiration) {
  v1::InteractiveChannel channel = Demo();
  channel.mutable_offers(0)->mutable_expiration_time()->set_seconds(
      channel.offers(0).effective_time().seconds());
  v1::TreatmentRule* rule = Rule(channel, "Gold upsell");
  rule->mutable_effective_time()->set_seconds(2000);
  rule->mutable_expiration_time()->set_seconds(1000);
  ExpectInvalid(channel, {"offer 'GoldCard': effective time must be before "
                          "expiration time",
                          "treatment rule 'Gold upsell': effective time must "
                          "be before expiration time"});
}

TEST(CompileChannelTest, FlowchartAudienceLevelMustExist) {
  v1::InteractiveChannel channel = Demo();
  channel.mutable_flowcharts(0)->set_audience_level("Household");
  ExpectInvalid(channel, {"flowchart 'Web': audience level 'Household' is "
                          "not defined"});
}

TEST(CompileChannelTest, StartBoxMustExist) {
  v1::InteractiveChannel channel = Demo();
  channel.mutable_flowcharts(0)->set_start_box("Begin");
  ExpectInvalid(channel, {"flowchart 'Web': start box 'Begin': no such box"});
}

TEST(CompileChannelTest, NextBoxesMustExist) {
  v1::InteractiveChannel channel = Demo();
  Box(channel, "Split")->mutable_decision()->set_otherwise_box("Nowhere");
  Box(channel, "GoldSelect")->mutable_select()->set_next_box("Gone");
  Box(channel, "Sample")
      ->mutable_sample()
      ->mutable_cells(0)
      ->set_next_box("Lost");
  ExpectInvalid(channel, {"flowchart 'Web': box 'Split' -> 'Nowhere': no such "
                          "box",
                          "flowchart 'Web': box 'GoldSelect' -> 'Gone': no "
                          "such box",
                          "flowchart 'Web': box 'Sample' -> 'Lost': no such "
                          "box"});
}

TEST(CompileChannelTest, BoxNamesMustBeUnique) {
  v1::InteractiveChannel channel = Demo();
  Box(channel, "PopYoung")->set_name("popgold");
  ExpectInvalid(channel, {"flowchart 'Web': box 'popgold' defined twice"});
}

TEST(CompileChannelTest, CyclesAreRejected) {
  v1::InteractiveChannel channel = Demo();
  Box(channel, "GoldCheck")->mutable_decision()->set_otherwise_box("Split");
  ExpectInvalid(channel, {"flowchart 'Web': cycle through boxes 'Split' -> "
                          "'GoldSelect' -> 'GoldCheck' -> 'Split'"});
}

TEST(CompileChannelTest, UnreachableBoxesAreRejected) {
  v1::InteractiveChannel channel = Demo();
  v1::FlowchartBox* orphan = channel.mutable_flowcharts(0)->add_boxes();
  orphan->set_name("Orphan");
  orphan->mutable_populate_segments()->add_segments("Gold");
  ExpectInvalid(channel, {"flowchart 'Web': box 'Orphan' is unreachable from "
                          "the start box"});
}

TEST(CompileChannelTest, SampleCellsMustBeValidPercentages) {
  v1::InteractiveChannel channel = Demo();
  Box(channel, "Sample")->mutable_sample()->mutable_cells(0)->set_percent(0);
  ExpectInvalid(channel, {"flowchart 'Web': box 'Sample': cell 1 percent 0 is "
                          "not in (0, 100]"});

  channel = Demo();
  Box(channel, "Sample")->mutable_sample()->mutable_cells(1)->set_percent(70);
  ExpectInvalid(channel, {"flowchart 'Web': box 'Sample': cells add up to 120 "
                          "percent, more than 100"});
}

TEST(CompileChannelTest, PopulatedSegmentsMustExist) {
  v1::InteractiveChannel channel = Demo();
  Box(channel, "PopGold")->mutable_populate_segments()->add_segments("VIP");
  ExpectInvalid(channel, {"flowchart 'Web': box 'PopGold': segment 'VIP' is "
                          "not defined"});
}

TEST(CompileChannelTest, DerivedFieldMustMatchItsType) {
  v1::InteractiveChannel channel = Demo();
  Box(channel, "GoldSelect")
      ->mutable_select()
      ->mutable_derived_fields(0)
      ->set_expression("Tier || 'x'");
  ExpectInvalid(channel,
                {"flowchart 'Web': box 'GoldSelect': derived field "
                 "'DaysSincePurchase': the expression must produce NUMBER",
                 "at line 1, column"});
}

TEST(CompileChannelTest, DecisionConditionMustBeBoolean) {
  v1::InteractiveChannel channel = Demo();
  Box(channel, "Split")
      ->mutable_decision()
      ->mutable_branches(0)
      ->set_condition("Tier = 'Gold'\n  AND Age");
  ExpectInvalid(channel, {"flowchart 'Web': box 'Split': branch 1 condition: "
                          "AND needs BOOLEAN operands, got NUMBER at line 2, "
                          "column 7"});
}

TEST(CompileChannelTest, DerivedFieldsMustBeComputedOnEveryPath) {
  // Used before the Select box computes it.
  v1::InteractiveChannel channel = Demo();
  Box(channel, "Split")
      ->mutable_decision()
      ->mutable_branches(0)
      ->set_condition("Recent");
  ExpectInvalid(channel, {"flowchart 'Web': box 'Split': branch 1 condition: "
                          "unknown variable 'Recent' at line 1, column 1"});

  // GoldCheck is also reached by a path that skips GoldSelect.
  channel = Demo();
  Box(channel, "Sample")
      ->mutable_sample()
      ->mutable_cells(0)
      ->set_next_box("GoldCheck");
  ExpectInvalid(channel, {"flowchart 'Web': box 'GoldCheck': branch 1 "
                          "condition: unknown variable 'Recent' at line 1, "
                          "column 1"});

  // Within a Select box, a field sees only the fields before it.
  channel = Demo();
  v1::SelectBox* select = Box(channel, "GoldSelect")->mutable_select();
  select->mutable_derived_fields(0)->set_expression("IF(Recent, 1, 2)");
  ExpectInvalid(channel, {"derived field 'DaysSincePurchase': unknown "
                          "variable 'Recent' at line 1, column 4"});
}

TEST(CompileChannelTest, EligibilityMustBeBoolean) {
  v1::InteractiveChannel channel = Demo();
  Rule(channel, "Gold upsell")->set_eligibility("Age > 1 AND Age");
  auto compiled = CompileChannel(channel);
  EXPECT_THAT(compiled,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("treatment rule 'Gold upsell': eligibility: "
                                 "AND needs BOOLEAN operands, got NUMBER at "
                                 "line 1, column 13")));
}

TEST(CompileChannelTest, ScoreExpressionMustBeNumber) {
  v1::InteractiveChannel channel = Demo();
  Rule(channel, "Gold shipping")->set_score_expression("Device");
  ExpectInvalid(channel, {"treatment rule 'Gold shipping': score expression: "
                          "the expression must produce NUMBER",
                          "at line 1, column 1"});
}

TEST(CompileChannelTest, RuleSchemaLeavesOutNamesWithConflictingTypes) {
  v1::InteractiveChannel channel = Demo();
  v1::AudienceLevel* household = channel.add_audience_levels();
  household->set_name("Household");
  v1::FieldDefinition* id = household->add_audience_id_fields();
  id->set_name("HouseholdID");
  id->set_type(v1::NUMBER);
  v1::FieldDefinition* age = household->add_profile_attributes();
  age->set_name("Age");
  age->set_type(v1::STRING);  // Customer's Age is a NUMBER.
  v1::FieldDefinition* tier = household->add_profile_attributes();
  tier->set_name("Tier");
  tier->set_type(v1::STRING);  // Same type as Customer's: usable.
  Rule(channel, "Gold shipping")->set_eligibility("Tier = 'Gold'");
  ExpectInvalid(channel, {"treatment rule 'Gold upsell': eligibility: unknown "
                          "variable 'Age' at line 1, column 1"});
  auto compiled = CompileChannel(channel);
  EXPECT_THAT(compiled, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("(1 problem)")));
}

TEST(CompileChannelTest, ResegmentFlowchartsMustExist) {
  v1::InteractiveChannel channel = Demo();
  channel.mutable_events(0)
      ->mutable_actions(1)
      ->mutable_resegment()
      ->add_flowcharts("Mobile");
  ExpectInvalid(channel, {"event 'OfferAccepted': flowchart 'Mobile' is not "
                          "defined"});
}

TEST(CompileChannelTest, ReportsEveryProblem) {
  v1::InteractiveChannel channel = Demo();
  channel.mutable_interaction_points(1)->set_zone("Cart");
  Rule(channel, "Gold upsell")->set_offer("Magazine");
  Box(channel, "Split")->mutable_decision()->set_otherwise_box("Nowhere");
  ExpectInvalid(channel, {"(3 problems)", "zone 'Cart' is not defined",
                          "offer 'Magazine' is not defined", "-> 'Nowhere'"});
}

TEST(CompileChannelTest, CapsTheListOfProblems) {
  v1::InteractiveChannel channel = Demo();
  for (int i = 0; i < 60; ++i) channel.add_offers()->set_name("GoldCard");
  auto compiled = CompileChannel(channel);
  ASSERT_THAT(compiled, StatusIs(absl::StatusCode::kInvalidArgument,
                                 AllOf(HasSubstr("(60 problems)"),
                                       HasSubstr("... and 10 more"))));
}

}  // namespace
}  // namespace parley::channel
