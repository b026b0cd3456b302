#include "services/runtime/engine/engine.h"

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/history.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/channel/channel.h"
#include "services/runtime/engine/engine_fixture.h"

namespace parley::engine {
namespace {

using ::parley::engine::testing::Channel;
using ::parley::engine::testing::EngineTest;
using ::parley::engine::testing::FirstAdvisory;
using ::parley::engine::testing::Names;
using ::parley::engine::testing::Number;
using ::parley::engine::testing::Text;
using ::parley::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST_F(EngineTest, OffersFollowSegmentsWithUniqueTreatmentCodes) {
  const v1::StartSessionResponse started = Start("s1", 1);
  EXPECT_EQ(started.status(), v1::SUCCESS);
  EXPECT_THAT(started.advisory_messages(), IsEmpty());

  const v1::GetOffersResponse first = Offers("s1");
  EXPECT_EQ(first.status(), v1::SUCCESS);
  EXPECT_THAT(Names(first.offer_list()), ElementsAre("GoldCard", "Basic"));
  const v1::Offer& gold = first.offer_list().offers(0);
  EXPECT_THAT(gold.code(), ElementsAre("GC", "001"));
  EXPECT_EQ(gold.description(), "Gold card");
  EXPECT_EQ(gold.score(), 80);
  ASSERT_EQ(gold.attributes_size(), 2);
  EXPECT_EQ(gold.attributes(0).name(), "Fee");
  EXPECT_EQ(gold.attributes(0).number_value(), 99);
  EXPECT_EQ(gold.attributes(1).string_value(), "card");
  EXPECT_EQ(first.offer_list().default_string(), "");

  const v1::GetOffersResponse second = Offers("s1");
  absl::flat_hash_set<std::string> codes;
  for (const auto* response : {&first, &second}) {
    for (const v1::Offer& offer : response->offer_list().offers()) {
      EXPECT_FALSE(offer.treatment_code().empty());
      codes.insert(offer.treatment_code());
    }
  }
  EXPECT_EQ(codes.size(), 4);

  Start("s2", 2);
  EXPECT_THAT(Names(Offers("s2").offer_list()), ElementsAre("Basic"));
}

TEST_F(EngineTest, EmptyListCarriesDefaultString) {
  Start("s1", 1);
  const v1::GetOffersResponse response = Offers("s1", "FooterBar");
  EXPECT_EQ(response.status(), v1::SUCCESS);
  EXPECT_THAT(response.offer_list().offers(), IsEmpty());
  EXPECT_EQ(response.offer_list().default_string(), "nothing");
}

TEST_F(EngineTest, ReportsUnknownNames) {
  const v1::GetOffersResponse no_session = Offers("nope");
  EXPECT_EQ(no_session.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(no_session), v1::INVALID_SESSION_ID);

  v1::StartSessionRequest request;
  request.set_session_id("s1");
  request.set_interactive_channel("Mobile");
  request.set_audience_level("Customer");
  *request.add_audience_id() = Number("CustomerID", 1);
  auto bad_channel = engine_.StartSession(request);
  ASSERT_TRUE(bad_channel.ok());
  EXPECT_EQ(bad_channel->status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(*bad_channel), v1::INVALID_INTERACTIVE_CHANNEL);

  request.set_interactive_channel("Web");
  request.set_audience_level("Visitor");
  auto bad_level = engine_.StartSession(request);
  ASSERT_TRUE(bad_level.ok());
  EXPECT_EQ(FirstAdvisory(*bad_level), v1::INVALID_AUDIENCE_LEVEL);

  request.set_audience_level("Customer");
  *request.mutable_audience_id(0) = Text("CustomerID", "1");
  auto bad_id = engine_.StartSession(request);
  ASSERT_TRUE(bad_id.ok());
  EXPECT_EQ(bad_id->status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(*bad_id), v1::INVALID_PARAMETER);
  request.clear_audience_id();
  auto missing_id = engine_.StartSession(request);
  ASSERT_TRUE(missing_id.ok());
  EXPECT_EQ(FirstAdvisory(*missing_id), v1::INVALID_PARAMETER);
  EXPECT_EQ(FirstAdvisory(Offers("s1")), v1::INVALID_SESSION_ID);

  request.set_session_id("");
  EXPECT_THAT(engine_.StartSession(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("256")));
  request.set_session_id(std::string(257, 'x'));
  EXPECT_THAT(engine_.StartSession(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("256")));

  Start("s1", 1);
  const v1::GetOffersResponse bad_ip = Offers("s1", "Nowhere");
  EXPECT_EQ(bad_ip.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(bad_ip), v1::INVALID_INTERACTION_POINT);
  const v1::PostEventResponse bad_event = Post("s1", "Clicked");
  EXPECT_EQ(bad_event.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(bad_event), v1::INVALID_EVENT_NAME);
}

TEST_F(EngineTest, MissingProfileWarnsAndStartsWithNullAttributes) {
  const v1::StartSessionResponse started = Start("s1", 3);
  EXPECT_EQ(started.status(), v1::WARNING);
  EXPECT_EQ(FirstAdvisory(started), v1::PROFILE_NOT_FOUND);
  // Tier is NULL, so the visitor is Regular.
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Basic"));
}

TEST_F(EngineTest, RelyOnExistingSessionKeepsALiveSession) {
  Start("s1", 1);
  Start("s1", 2, /*rely=*/true);
  EXPECT_THAT(Names(Offers("s1").offer_list()),
              ElementsAre("GoldCard", "Basic"));
  Start("s1", 2, /*rely=*/false);
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Basic"));
  // Nothing to rely on: a new session starts.
  Start("s2", 1, /*rely=*/true);
  EXPECT_THAT(Names(Offers("s2").offer_list()),
              ElementsAre("GoldCard", "Basic"));
}

TEST_F(EngineTest, AcceptanceSuppressesTheOffer) {
  Start("s1", 1);
  const v1::GetOffersResponse offers = Offers("s1");
  ASSERT_THAT(Names(offers.offer_list()), ElementsAre("GoldCard", "Basic"));
  const std::string code = offers.offer_list().offers(0).treatment_code();

  const v1::PostEventResponse missing = Post("s1", "Accept");
  EXPECT_EQ(missing.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(missing), v1::INVALID_OFFER_TRACKING_CODE);
  const v1::PostEventResponse unknown =
      Post("s1", "Accept", {Text("UACIOfferTrackingCode", "BOGUS", true)});
  EXPECT_EQ(FirstAdvisory(unknown), v1::INVALID_OFFER_TRACKING_CODE);
  EXPECT_THAT(history_, IsEmpty());

  const v1::PostEventResponse accepted =
      Post("s1", "Accept", {Text("UACIOfferTrackingCode", code, true)});
  EXPECT_EQ(accepted.status(), v1::SUCCESS);
  ASSERT_EQ(history_.size(), 1);
  EXPECT_EQ(history_[0].kind(), v1::ACCEPTANCE);
  EXPECT_EQ(history_[0].offer(), "GoldCard");
  EXPECT_EQ(history_[0].treatment_code(), code);
  EXPECT_EQ(history_[0].session_id(), "s1");
  EXPECT_EQ(history_[0].audience_level(), "Customer");
  EXPECT_EQ(history_[0].audience_id(), "CustomerID=1");

  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Basic"));
}

TEST_F(EngineTest, RejectionSuppressesTheOffer) {
  Start("s1", 1);
  const v1::GetOffersResponse offers = Offers("s1");
  const std::string code = offers.offer_list().offers(1).treatment_code();
  EXPECT_EQ(Post("s1", "Reject", {Text("UACIOfferTrackingCode", code, true)})
                .status(),
            v1::SUCCESS);
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("GoldCard"));
  ASSERT_EQ(history_.size(), 1);
  EXPECT_EQ(history_[0].kind(), v1::REJECTION);
  EXPECT_EQ(history_[0].offer(), "Basic");
}

TEST_F(EngineTest, CodesOfEarlierCallsStayValid) {
  Start("s1", 1);
  const std::string first =
      Offers("s1").offer_list().offers(0).treatment_code();
  // Later calls (up to kMaxEarlierPresentations offers) do not retire it.
  for (int i = 0; i < 3; ++i) Offers("s1", "SideBar");
  const v1::PostEventResponse accepted =
      Post("s1", "Accept", {Text("UACIOfferTrackingCode", first, true)});
  EXPECT_EQ(accepted.status(), v1::SUCCESS);
  ASSERT_EQ(history_.size(), 1);
  EXPECT_EQ(history_[0].treatment_code(), first);
  EXPECT_EQ(history_[0].offer(), "GoldCard");
  // The session keeps a bounded number of them.
  for (int i = 0; i < kMaxEarlierPresentations; ++i) {
    Offers("s1", "SideBar");
  }
  EXPECT_LE(Stored("s1").earlier_presentations_size(),
            kMaxEarlierPresentations);
}

TEST_F(EngineTest, ContactWithoutCodeLogsEveryLastRecommendedOffer) {
  Start("s1", 1);
  const v1::GetOffersResponse offers = Offers("s1");
  EXPECT_EQ(Post("s1", "Contact").status(), v1::SUCCESS);
  ASSERT_EQ(history_.size(), 2);
  EXPECT_EQ(history_[0].kind(), v1::CONTACT);
  EXPECT_EQ(history_[0].treatment_code(),
            offers.offer_list().offers(0).treatment_code());
  EXPECT_EQ(history_[1].treatment_code(),
            offers.offer_list().offers(1).treatment_code());
}

TEST_F(EngineTest, MaxPresentationsSuppressesTheOffer) {
  Start("s1", 2);
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Basic"));
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Basic"));
  const v1::GetOffersResponse third = Offers("s1");
  EXPECT_THAT(Names(third.offer_list()), IsEmpty());
  EXPECT_EQ(third.offer_list().default_string(), "welcome");
}

TEST_F(EngineTest, ResegmentAfterParameterChangeMovesTheVisitor) {
  Start("s1", 2);
  // A parameter alone does not re-run segmentation.
  EXPECT_THAT(
      Names(Offers("s1", "HomeHero", {Text("Device", "vip")}).offer_list()),
      ElementsAre("Basic"));
  EXPECT_EQ(Post("s1", "Resegment").status(), v1::SUCCESS);
  EXPECT_THAT(Names(Offers("s1").offer_list()),
              ElementsAre("GoldCard", "Basic"));
  EXPECT_EQ(Post("s1", "Resegment", {Text("device", "web")}).status(),
            v1::SUCCESS);
  EXPECT_THAT(Names(Offers("s1").offer_list()),
              IsEmpty());  // Basic shown twice.
}

// The test channel with a second Customer flowchart, Devices (Device
// 'mobile' -> Mobile, which gets Young in Hero), and events re-running only
// Devices (DeviceChanged) or only Main (TierChanged).
std::shared_ptr<const channel::CompiledChannel> TwoFlowchartChannel(
    const std::string& devices = "Devices") {
  v1::InteractiveChannel proto = testing::ChannelProto("Basic");
  const auto parse = [](const std::string& json,
                        google::protobuf::Message* message) {
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(json, message);
    EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  };
  proto.add_segments()->set_name("Mobile");
  parse(absl::StrReplaceAll(
            R"json({"name": "$DEVICES", "audienceLevel": "Customer",
                "startBox": "ByDevice", "boxes": [
                  {"name": "ByDevice", "decision": {"branches": [
                    {"condition": "Device = 'mobile'",
                     "nextBox": "PopMobile"}]}},
                  {"name": "PopMobile",
                   "populateSegments": {"segments": ["Mobile"]}}]})json",
            {{"$DEVICES", devices}}),
        proto.add_flowcharts());
  parse(R"json({"name": "Mobile app", "segment": "Mobile", "zone": "Hero",
                "offer": "Young", "marketingScore": 90})json",
        proto.add_treatment_rules());
  parse(absl::StrReplaceAll(R"json({"name": "DeviceChanged", "actions": [
                  {"resegment": {"flowcharts": ["$DEVICES"]}}]})json",
                            {{"$DEVICES", devices}}),
        proto.add_events());
  parse(R"json({"name": "TierChanged", "actions": [
                  {"resegment": {"flowcharts": ["Main"]}}]})json",
        proto.add_events());
  auto compiled = channel::CompileChannel(proto);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok() ? *compiled : nullptr;
}

TEST_F(EngineTest, ResegmentingNamedFlowchartsKeepsTheOtherFlowchartsSegments) {
  engine_.SetChannel("Web", TwoFlowchartChannel(), 2);
  Start("s1", 1);  // Gold, from Main; Devices assigns nothing.
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Gold"));

  EXPECT_EQ(Post("s1", "DeviceChanged", {Text("Device", "mobile")}).status(),
            v1::SUCCESS);
  v1::SessionState stored = Stored("s1");
  EXPECT_THAT(stored.segments(), ElementsAre("Gold", "Mobile"));
  ASSERT_EQ(stored.flowchart_segments_size(), 2);
  EXPECT_EQ(stored.flowchart_segments(0).flowchart(), "Main");
  EXPECT_THAT(stored.flowchart_segments(0).segments(), ElementsAre("Gold"));
  EXPECT_EQ(stored.flowchart_segments(1).flowchart(), "Devices");
  EXPECT_THAT(stored.flowchart_segments(1).segments(), ElementsAre("Mobile"));
  EXPECT_THAT(Names(Offers("s1").offer_list()),
              ElementsAre("Young", "GoldCard", "Basic"));

  // Main runs again; Devices, not run, keeps Mobile though Device changed.
  EXPECT_EQ(Post("s1", "TierChanged", {Text("Device", "web")}).status(),
            v1::SUCCESS);
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Gold", "Mobile"));
  // Every flowchart runs again.
  EXPECT_EQ(Post("s1", "Resegment").status(), v1::SUCCESS);
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Gold"));
}

TEST_F(EngineTest, ResegmentingNamedFlowchartsRunsAllWithoutARecord) {
  engine_.SetChannel("Web", TwoFlowchartChannel(), 2);
  Start("s1", 1);
  // As a session written before flowcharts' segments were recorded: it
  // cannot tell which flowchart assigned Regular.
  v1::SessionState legacy = Stored("s1");
  legacy.clear_flowchart_segments();
  legacy.clear_segments();
  legacy.add_segments("Regular");
  ASSERT_TRUE(store_.Update(legacy, absl::FromUnixMillis(now_millis_)).ok());

  EXPECT_EQ(Post("s1", "DeviceChanged", {Text("Device", "mobile")}).status(),
            v1::SUCCESS);
  const v1::SessionState stored = Stored("s1");
  EXPECT_THAT(stored.segments(), ElementsAre("Gold", "Mobile"));
  EXPECT_EQ(stored.flowchart_segments_size(), 2);
}

TEST_F(EngineTest, AParameterOfTheWrongTypeIsRejected) {
  Start("s1", 2);
  const int writes_before = store_.successful_updates();
  const v1::GetOffersResponse offers =
      Offers("s1", "HomeHero", {Number("device", 5)});
  EXPECT_EQ(offers.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(offers), v1::INVALID_PARAMETER);
  EXPECT_THAT(
      offers.advisory_messages(0).detail(),
      AllOf(HasSubstr("device"), HasSubstr("STRING"), HasSubstr("NUMBER")));
  EXPECT_THAT(offers.offer_list().offers(), IsEmpty());
  const v1::PostEventResponse event =
      Post("s1", "Resegment", {Number("Device", 5)});
  EXPECT_EQ(FirstAdvisory(event), v1::INVALID_PARAMETER);
  EXPECT_EQ(store_.successful_updates(), writes_before);
  EXPECT_THAT(Stored("s1").parameters(), IsEmpty());

  // Of the declared type, or not declared at all: applied.
  EXPECT_EQ(Offers("s1", "HomeHero", {Text("Device", "vip"), Number("Age", 3)})
                .status(),
            v1::SUCCESS);
  EXPECT_EQ(Stored("s1").parameters_size(), 2);
}

TEST_F(EngineTest, UACIIgnoreSuppressionRulesServesSuppressedOffers) {
  Start("s1", 2);
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Basic"));
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Basic"));
  EXPECT_THAT(Names(Offers("s1").offer_list()), IsEmpty());  // At its max.
  EXPECT_THAT(Names(Offers("s1", "HomeHero",
                           {Text("UACIIgnoreSuppressionRules", "1", true)})
                        .offer_list()),
              ElementsAre("Basic"));
  // Transient: the next call is suppressed again.
  EXPECT_THAT(Names(Offers("s1").offer_list()), IsEmpty());
  // Persistent, as a number, until set otherwise.
  v1::NameValue ignore = Number("uaciignoresuppressionrules", 1);
  EXPECT_THAT(Names(Offers("s1", "HomeHero", {ignore}).offer_list()),
              ElementsAre("Basic"));
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Basic"));
  EXPECT_THAT(
      Names(Offers("s1", "HomeHero", {Number("UACIIgnoreSuppressionRules", 0)})
                .offer_list()),
      IsEmpty());
}

TEST_F(EngineTest, UACIExecuteFlowchartByNameRunsOnlyTheNamedFlowcharts) {
  engine_.SetChannel("Web", TwoFlowchartChannel(), 2);
  Start("s1", 2);  // Regular, from Main.
  // Device 'vip' would move the visitor to Gold, but only Devices runs.
  EXPECT_EQ(Post("s1", "Resegment",
                 {Text("Device", "vip"),
                  Text("UACIExecuteFlowchartByName", " devices ", true)})
                .status(),
            v1::SUCCESS);
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Regular"));

  // An unknown name is a warning; the known one still runs alone.
  const v1::PostEventResponse partly =
      Post("s1", "Resegment",
           {Text("Device", "mobile"),
            Text("UACIExecuteFlowchartByName", "Nope|Devices", true)});
  EXPECT_EQ(partly.status(), v1::WARNING);
  EXPECT_EQ(FirstAdvisory(partly), v1::INVALID_PARAMETER);
  EXPECT_THAT(partly.advisory_messages(0).detail(),
              AllOf(HasSubstr("'Nope'"), HasSubstr("'Customer'")));
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Regular", "Mobile"));

  // Naming none of the level's flowcharts, or not a string: ignored, with a
  // warning; the event's own list (every flowchart) runs.
  const v1::PostEventResponse none =
      Post("s1", "Resegment",
           {Text("Device", "vip"),
            Text("UACIExecuteFlowchartByName", "Nope", true)});
  EXPECT_EQ(FirstAdvisory(none), v1::INVALID_PARAMETER);
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Gold"));
  const v1::PostEventResponse number =
      Post("s1", "Resegment", {Number("UACIExecuteFlowchartByName", 3)});
  EXPECT_EQ(FirstAdvisory(number), v1::INVALID_PARAMETER);
  EXPECT_THAT(number.advisory_messages(0).detail(), HasSubstr("string_value"));
}

TEST_F(EngineTest, SetAudienceWithNamedFlowchartsDropsTheOldVisitorsSegments) {
  engine_.SetChannel("Web", TwoFlowchartChannel(), 2);
  Start("s1", 1);
  EXPECT_EQ(Post("s1", "DeviceChanged", {Text("Device", "mobile")}).status(),
            v1::SUCCESS);
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Gold", "Mobile"));

  // Customer 2, running only Devices: customer 1's Gold does not carry over.
  v1::SetAudienceRequest request;
  request.set_session_id("s1");
  request.set_audience_level("Customer");
  *request.add_audience_id() = Number("CustomerID", 2);
  *request.add_parameters() =
      Text("UACIExecuteFlowchartByName", "Devices", true);
  absl::StatusOr<v1::SetAudienceResponse> switched =
      engine_.SetAudience(request);
  ASSERT_TRUE(switched.ok()) << switched.status();
  EXPECT_EQ(switched->status(), v1::SUCCESS);
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Mobile"));
  // Main did not run for customer 2 (it assigned nothing), nor does it for
  // an event naming only Devices.
  EXPECT_EQ(Post("s1", "DeviceChanged").status(), v1::SUCCESS);
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Mobile"));
}

TEST_F(EngineTest, FlowchartsWithoutATrustedRecordRunAgain) {
  engine_.SetChannel("Web", TwoFlowchartChannel(), 2);
  Start("s1", 2);
  EXPECT_EQ(Post("s1", "DeviceChanged", {Text("Device", "mobile")}).status(),
            v1::SUCCESS);
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Regular", "Mobile"));

  // A redeploy renames Devices: re-running Main alone also runs the renamed
  // flowchart, which has no record, so Mobile stays.
  engine_.SetChannel("Web", TwoFlowchartChannel("DeviceRules"), 3);
  EXPECT_EQ(Post("s1", "TierChanged").status(), v1::SUCCESS);
  v1::SessionState stored = Stored("s1");
  EXPECT_THAT(stored.segments(), ElementsAre("Regular", "Mobile"));
  ASSERT_EQ(stored.flowchart_segments_size(), 2);
  EXPECT_EQ(stored.flowchart_segments(1).flowchart(), "DeviceRules");

  // Segments that disagree with the records (written by a server that did
  // not keep them): every flowchart runs.
  stored.clear_segments();
  stored.add_segments("Gold");
  ASSERT_TRUE(store_.Update(stored, absl::FromUnixMillis(now_millis_)).ok());
  EXPECT_EQ(Post("s1", "TierChanged", {Text("Device", "web")}).status(),
            v1::SUCCESS);
  EXPECT_THAT(Stored("s1").segments(), ElementsAre("Regular"));
}

TEST_F(EngineTest, BooleanParametersAreSentAsOneOrZeroOrTrueOrFalse) {
  v1::InteractiveChannel proto = testing::ChannelProto("Basic");
  v1::FieldDefinition& member = *proto.add_session_parameters();
  member.set_name("Member");
  member.set_type(v1::BOOLEAN);
  v1::TreatmentRule& rule = *proto.add_treatment_rules();
  rule.set_name("Members");
  rule.set_segment("Regular");
  rule.set_zone("Hero");
  rule.set_offer("HomeLoan");
  rule.mutable_marketing_score()->set_value(95);
  rule.set_eligibility("Member");
  auto compiled = channel::CompileChannel(proto);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  engine_.SetChannel("Web", *compiled, 2);
  Start("s1", 2);  // Regular.

  const auto offered = [&](v1::NameValue member) {
    member.set_transient(true);
    return Names(Offers("s1", "HomeHero", {member}).offer_list());
  };
  EXPECT_THAT(offered(Number("Member", 1)), ElementsAre("HomeLoan", "Basic"));
  EXPECT_THAT(offered(Text("member", "TRUE")),
              ElementsAre("HomeLoan", "Basic"));
  // Not a member; Basic was shown its most (2) times.
  EXPECT_THAT(offered(Text("Member", "false")), IsEmpty());
  EXPECT_THAT(offered(Number("Member", 0)), IsEmpty());
  const v1::GetOffersResponse yes =
      Offers("s1", "HomeHero", {Text("Member", "yes")});
  EXPECT_EQ(FirstAdvisory(yes), v1::INVALID_PARAMETER);
  EXPECT_THAT(yes.advisory_messages(0).detail(), HasSubstr("BOOLEAN"));
}

TEST_F(EngineTest, DeploymentSwitchAppliesToNewCalls) {
  Start("s1", 2);
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Basic"));
  engine_.SetChannel("WEB", Channel("Young"), 2);
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Young"));
  Start("s2", 2);
  EXPECT_THAT(Names(Offers("s2").offer_list()), ElementsAre("Young"));

  engine_.RemoveChannel("web");
  EXPECT_EQ(FirstAdvisory(Offers("s1")), v1::INVALID_INTERACTIVE_CHANNEL);
  EXPECT_EQ(FirstAdvisory(Start("s3", 1)), v1::INVALID_INTERACTIVE_CHANNEL);
}

TEST_F(EngineTest, EndSessionRemovesTheSession) {
  Start("s1", 1);
  v1::EndSessionRequest request;
  request.set_session_id("s1");
  auto ended = engine_.EndSession(request);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->status(), v1::SUCCESS);
  EXPECT_EQ(FirstAdvisory(Offers("s1")), v1::INVALID_SESSION_ID);
  auto again = engine_.EndSession(request);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(*again), v1::INVALID_SESSION_ID);
}

TEST_F(EngineTest, ExpiredSessionIsInvalid) {
  Start("s1", 1);
  now_millis_ += 301 * 1000;
  EXPECT_EQ(FirstAdvisory(Offers("s1")), v1::INVALID_SESSION_ID);
  EXPECT_EQ(FirstAdvisory(Post("s1", "Contact")), v1::INVALID_SESSION_ID);
}

TEST_F(EngineTest, HistoryRecordsCarryTheWholeContext) {
  Start("s1", 1);
  const v1::GetOffersResponse offers =
      Offers("s1", "HomeHero", {Text("Device", "web")});
  ASSERT_THAT(Names(offers.offer_list()), ElementsAre("GoldCard", "Basic"));
  now_millis_ += 1500;
  const std::string code = offers.offer_list().offers(1).treatment_code();
  ASSERT_EQ(Post("s1", "Reject",
                 {Text("UACIOfferTrackingCode", code, true),
                  Text("Device", "phone"), Text("Campaign", "spring")})
                .status(),
            v1::SUCCESS);
  ASSERT_EQ(history_.size(), 1);
  const v1::HistoryRecord& record = history_[0];
  EXPECT_EQ(record.kind(), v1::REJECTION);
  EXPECT_EQ(record.session_id(), "s1");
  EXPECT_EQ(record.interactive_channel(), "Web");
  EXPECT_EQ(record.audience_level(), "Customer");
  EXPECT_EQ(record.audience_id(), "CustomerID=1");
  EXPECT_EQ(record.offer(), "Basic");
  EXPECT_EQ(record.treatment_code(), code);
  EXPECT_EQ(record.interaction_point(), "HomeHero");
  EXPECT_EQ(record.time().seconds() * 1000 + record.time().nanos() / 1000000,
            now_millis_);
  // The session's persistent parameters after the event's own; the
  // transient tracking code is not one of them.
  ASSERT_EQ(record.parameters_size(), 2);
  EXPECT_EQ(record.parameters(0).name(), "Device");
  EXPECT_EQ(record.parameters(0).string_value(), "phone");
  EXPECT_EQ(record.parameters(1).name(), "Campaign");
  EXPECT_EQ(record.parameters(1).string_value(), "spring");
}

TEST_F(EngineTest, ContactRecordsNameEachOffersInteractionPoint) {
  Start("s1", 1);
  v1::GetOffersForMultipleInteractionPointsRequest request;
  request.set_session_id("s1");
  v1::InteractionPointRequest* hero = request.add_requests();
  hero->set_interaction_point("HomeHero");
  hero->set_number_requested(1);
  v1::InteractionPointRequest* side = request.add_requests();
  side->set_interaction_point("sidebar");
  side->set_number_requested(1);
  auto offers = engine_.GetOffersForMultipleInteractionPoints(request);
  ASSERT_TRUE(offers.ok()) << offers.status();
  ASSERT_EQ(Post("s1", "Contact").status(), v1::SUCCESS);
  ASSERT_EQ(history_.size(), 2);
  EXPECT_EQ(history_[0].kind(), v1::CONTACT);
  EXPECT_EQ(history_[0].offer(), "GoldCard");
  EXPECT_EQ(history_[0].interaction_point(), "HomeHero");
  EXPECT_EQ(history_[1].offer(), "Basic");
  EXPECT_EQ(history_[1].interaction_point(), "SideBar");
  EXPECT_THAT(history_[1].parameters(), IsEmpty());
}

TEST_F(EngineTest, NoHistoryWhenTheEventIsNotStored) {
  Start("s1", 1);
  const v1::GetOffersResponse offers = Offers("s1");
  const std::string code = offers.offer_list().offers(0).treatment_code();
  // Every write attempt loses the race: nothing is stored, nothing logged.
  store_.RaceNextUpdates(100, [](v1::SessionState& state) {
    state.set_sequence(state.sequence() + 100);
  });
  v1::PostEventRequest request;
  request.set_session_id("s1");
  request.set_event_name("Accept");
  *request.add_parameters() = Text("UACIOfferTrackingCode", code, true);
  EXPECT_THAT(engine_.PostEvent(request),
              StatusIs(absl::StatusCode::kAborted, ::testing::_));
  EXPECT_THAT(history_, IsEmpty());
  EXPECT_FALSE(Stored("s1").offers().at("GoldCard").accepted());
}

TEST_F(EngineTest, GetOffersRetriesALostRaceOnAFreshRead) {
  Start("s1", 2);
  store_.RaceNextUpdates(1, [](v1::SessionState& state) {
    *state.add_parameters() = Text("Device", "concurrent");
  });
  const v1::GetOffersResponse offers = Offers("s1");
  EXPECT_THAT(Names(offers.offer_list()), ElementsAre("Basic"));
  EXPECT_EQ(store_.aborted_updates(), 1);
  EXPECT_EQ(store_.successful_updates(), 1);
  const v1::SessionState state = Stored("s1");
  // Both changes are kept, and the offer counted once.
  ASSERT_EQ(state.parameters_size(), 1);
  EXPECT_EQ(state.parameters(0).string_value(), "concurrent");
  EXPECT_EQ(state.offers().at("Basic").presentations(), 1);
  ASSERT_EQ(state.last_recommended_size(), 1);
  EXPECT_EQ(state.last_recommended(0).treatment_code(),
            offers.offer_list().offers(0).treatment_code());
}

// Over a store that answers on threads of its own, GetOffersAsync returns
// at once and continues (re-reading after a lost race included) on the
// store's threads.
TEST_F(EngineTest, GetOffersAsyncContinuesOnTheStoresThreads) {
  Start("s1", 2);
  store_.CompleteOnStoreThreads();
  store_.RaceNextUpdates(1, [](v1::SessionState& state) {
    *state.add_parameters() = Text("Device", "concurrent");
  });
  v1::GetOffersRequest request;
  request.set_session_id("s1");
  request.set_interaction_point("HomeHero");
  request.set_number_requested(5);
  absl::Notification finished;
  absl::StatusOr<v1::GetOffersResponse> result;
  std::thread::id completed_on;
  engine_.GetOffersAsync(request,
                         [&](absl::StatusOr<v1::GetOffersResponse> response) {
                           result = std::move(response);
                           completed_on = std::this_thread::get_id();
                           finished.Notify();
                         });
  ASSERT_TRUE(finished.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_NE(completed_on, std::this_thread::get_id());
  EXPECT_THAT(Names(result->offer_list()), ElementsAre("Basic"));
  // Read, lost write, re-read, write.
  EXPECT_EQ(store_.store_thread_completions(), 4);
  EXPECT_EQ(store_.aborted_updates(), 1);
  EXPECT_EQ(store_.successful_updates(), 1);
  const v1::SessionState state = Stored("s1");
  ASSERT_EQ(state.parameters_size(), 1);
  EXPECT_EQ(state.offers().at("Basic").presentations(), 1);
  EXPECT_EQ(state.last_recommended(0).treatment_code(),
            result->offer_list().offers(0).treatment_code());
}

TEST_F(EngineTest, EveryCallRejectsAMalformedSessionId) {
  for (const std::string& id : {std::string(), std::string(257, 'x')}) {
    SCOPED_TRACE(id.size());
    const auto invalid =
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("session_id"));
    v1::GetOffersRequest get_offers;
    get_offers.set_session_id(id);
    EXPECT_THAT(engine_.GetOffers(get_offers), invalid);
    v1::GetOffersForMultipleInteractionPointsRequest multi;
    multi.set_session_id(id);
    EXPECT_THAT(engine_.GetOffersForMultipleInteractionPoints(multi), invalid);
    v1::PostEventRequest post;
    post.set_session_id(id);
    EXPECT_THAT(engine_.PostEvent(post), invalid);
    v1::SetAudienceRequest audience;
    audience.set_session_id(id);
    EXPECT_THAT(engine_.SetAudience(audience), invalid);
    v1::GetProfileRequest profile;
    profile.set_session_id(id);
    EXPECT_THAT(engine_.GetProfile(profile), invalid);
    v1::SetDebugRequest debug;
    debug.set_session_id(id);
    EXPECT_THAT(engine_.SetDebug(debug), invalid);
    v1::EndSessionRequest end;
    end.set_session_id(id);
    EXPECT_THAT(engine_.EndSession(end), invalid);
  }
  // 256 characters is fine (an unknown session).
  v1::GetProfileRequest longest;
  longest.set_session_id(std::string(256, 'x'));
  auto response = engine_.GetProfile(longest);
  ASSERT_TRUE(response.ok());
  EXPECT_THAT(FirstAdvisory(*response), Eq(v1::INVALID_SESSION_ID));
}

}  // namespace
}  // namespace parley::engine
