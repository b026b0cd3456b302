#include "services/runtime/engine/engine.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/channel/channel.h"
#include "services/runtime/session/local_session_store.h"

namespace parley::engine {
namespace {

using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Customers with Tier 'Gold' (or sent Device 'vip') are in segment Gold,
// everyone else in Regular. Gold gets GoldCard (80) and Basic (40) in Hero;
// Regular gets $REGULAR_OFFER (50) in Hero; Footer has no rules.
constexpr char kChannelJson[] = R"json({
  "name": "Web",
  "audienceLevels": [
    {"name": "Customer",
     "audienceIdFields": [{"name": "CustomerID", "type": "NUMBER"}],
     "profileAttributes": [{"name": "Age", "type": "NUMBER"},
                           {"name": "Tier", "type": "STRING"}]},
    {"name": "Household",
     "audienceIdFields": [{"name": "HouseholdID", "type": "NUMBER"}]}
  ],
  "sessionParameters": [{"name": "Device", "type": "STRING"}],
  "zones": [{"name": "Hero"}, {"name": "Footer"}],
  "interactionPoints": [
    {"name": "HomeHero", "zone": "Hero", "defaultString": "welcome"},
    {"name": "FooterBar", "zone": "Footer", "defaultString": "nothing"}
  ],
  "offers": [
    {"name": "GoldCard", "code": ["GC", "001"], "description": "Gold card",
     "attributes": [{"name": "Fee", "numberValue": 99}]},
    {"name": "Basic", "code": ["BA"]},
    {"name": "Young", "code": ["YO"]}
  ],
  "segments": [{"name": "Gold"}, {"name": "Regular"}],
  "flowcharts": [
    {"name": "Main", "audienceLevel": "Customer", "startBox": "Split",
     "boxes": [
       {"name": "Split", "decision": {
         "branches": [{"condition": "Tier = 'Gold'", "nextBox": "PopGold"},
                      {"condition": "Device = 'vip'", "nextBox": "PopGold"}],
         "otherwiseBox": "PopRegular"}},
       {"name": "PopGold", "populateSegments": {"segments": ["Gold"]}},
       {"name": "PopRegular", "populateSegments": {"segments": ["Regular"]}}
     ]}
  ],
  "treatmentRules": [
    {"name": "Gold card", "segment": "Gold", "zone": "Hero",
     "offer": "GoldCard", "marketingScore": 80},
    {"name": "Gold basic", "segment": "Gold", "zone": "Hero",
     "offer": "Basic", "marketingScore": 40},
    {"name": "Regular", "segment": "Regular", "zone": "Hero",
     "offer": "$REGULAR_OFFER", "marketingScore": 50}
  ],
  "events": [
    {"name": "Accept", "actions": [{"logAcceptance": {}}]},
    {"name": "Reject", "actions": [{"logRejection": {}}]},
    {"name": "Contact", "actions": [{"logContact": {}}]},
    {"name": "Resegment", "actions": [{"resegment": {}}]}
  ],
  "suppression": {"maxPresentationsPerSession": 2}
})json";

std::shared_ptr<const channel::CompiledChannel> Channel(
    const std::string& regular_offer) {
  const std::string json =
      absl::StrReplaceAll(kChannelJson, {{"$REGULAR_OFFER", regular_offer}});
  v1::InteractiveChannel proto;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &proto);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  auto compiled = channel::CompileChannel(proto);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok() ? *compiled : nullptr;
}

v1::NameValue Text(const std::string& name, const std::string& value,
                   bool transient = false) {
  v1::NameValue result;
  result.set_name(name);
  result.set_string_value(value);
  result.set_transient(transient);
  return result;
}

v1::NameValue Number(const std::string& name, double value) {
  v1::NameValue result;
  result.set_name(name);
  result.set_number_value(value);
  return result;
}

std::vector<std::string> Names(const v1::GetOffersResponse& response) {
  std::vector<std::string> names;
  for (const v1::Offer& offer : response.offer_list().offers()) {
    names.push_back(offer.name());
  }
  return names;
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest()
      : store_(session::LocalSessionStoreOptions{}),
        engine_(
            &store_, [this] { return now_millis_; },
            [](absl::string_view level,
               const google::protobuf::RepeatedPtrField<v1::NameValue>& id)
                -> absl::StatusOr<absl::optional<std::vector<v1::NameValue>>> {
              EXPECT_EQ(level, "Customer");
              const double customer = id.Get(0).number_value();
              if (customer == 1) {
                return std::vector<v1::NameValue>{Number("Age", 40),
                                                  Text("Tier", "Gold")};
              }
              if (customer == 2) {
                return std::vector<v1::NameValue>{Number("Age", 20),
                                                  Text("Tier", "Silver")};
              }
              return absl::nullopt;
            },
            [this](const HistoryRecord& record) {
              history_.push_back(record);
            }) {
    engine_.SetChannel("Web", Channel("Basic"), 1);
  }

  v1::StartSessionResponse Start(const std::string& session_id, double customer,
                                 bool rely = false) {
    v1::StartSessionRequest request;
    request.set_session_id(session_id);
    request.set_interactive_channel("web");
    request.set_audience_level("customer");
    *request.add_audience_id() = Number("customerid", customer);
    request.set_rely_on_existing_session(rely);
    absl::StatusOr<v1::StartSessionResponse> response =
        engine_.StartSession(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(v1::StartSessionResponse());
  }

  v1::GetOffersResponse Offers(const std::string& session_id,
                               const std::string& ip = "HomeHero",
                               std::vector<v1::NameValue> parameters = {}) {
    v1::GetOffersRequest request;
    request.set_session_id(session_id);
    request.set_interaction_point(ip);
    request.set_number_requested(5);
    for (v1::NameValue& parameter : parameters) {
      *request.add_parameters() = std::move(parameter);
    }
    absl::StatusOr<v1::GetOffersResponse> response = engine_.GetOffers(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(v1::GetOffersResponse());
  }

  v1::PostEventResponse Post(const std::string& session_id,
                             const std::string& event,
                             std::vector<v1::NameValue> parameters = {}) {
    v1::PostEventRequest request;
    request.set_session_id(session_id);
    request.set_event_name(event);
    for (v1::NameValue& parameter : parameters) {
      *request.add_parameters() = std::move(parameter);
    }
    absl::StatusOr<v1::PostEventResponse> response = engine_.PostEvent(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(v1::PostEventResponse());
  }

  int64_t now_millis_ = 1735689600000;  // 2025-01-01.
  session::LocalSessionStore store_;
  std::vector<HistoryRecord> history_;
  SessionEngine engine_;
};

template <typename Response>
v1::AdvisoryCode FirstAdvisory(const Response& response) {
  return response.advisory_messages().empty()
             ? v1::ADVISORY_CODE_UNSPECIFIED
             : response.advisory_messages(0).code();
}

TEST_F(EngineTest, OffersFollowSegmentsWithUniqueTreatmentCodes) {
  const v1::StartSessionResponse started = Start("s1", 1);
  EXPECT_EQ(started.status(), v1::SUCCESS);
  EXPECT_THAT(started.advisory_messages(), IsEmpty());

  const v1::GetOffersResponse first = Offers("s1");
  EXPECT_EQ(first.status(), v1::SUCCESS);
  EXPECT_THAT(Names(first), ElementsAre("GoldCard", "Basic"));
  const v1::Offer& gold = first.offer_list().offers(0);
  EXPECT_THAT(gold.code(), ElementsAre("GC", "001"));
  EXPECT_EQ(gold.description(), "Gold card");
  EXPECT_EQ(gold.score(), 80);
  ASSERT_EQ(gold.attributes_size(), 1);
  EXPECT_EQ(gold.attributes(0).number_value(), 99);
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
  EXPECT_THAT(Names(Offers("s2")), ElementsAre("Basic"));
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
  const v1::GetOffersResponse bad_ip = Offers("s1", "Sidebar");
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
  EXPECT_THAT(Names(Offers("s1")), ElementsAre("Basic"));
}

TEST_F(EngineTest, RelyOnExistingSessionKeepsALiveSession) {
  Start("s1", 1);
  Start("s1", 2, /*rely=*/true);
  EXPECT_THAT(Names(Offers("s1")), ElementsAre("GoldCard", "Basic"));
  Start("s1", 2, /*rely=*/false);
  EXPECT_THAT(Names(Offers("s1")), ElementsAre("Basic"));
  // Nothing to rely on: a new session starts.
  Start("s2", 1, /*rely=*/true);
  EXPECT_THAT(Names(Offers("s2")), ElementsAre("GoldCard", "Basic"));
}

TEST_F(EngineTest, AcceptanceSuppressesTheOffer) {
  Start("s1", 1);
  const v1::GetOffersResponse offers = Offers("s1");
  ASSERT_THAT(Names(offers), ElementsAre("GoldCard", "Basic"));
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
  EXPECT_EQ(history_[0].kind, HistoryRecord::Kind::kAcceptance);
  EXPECT_EQ(history_[0].offer, "GoldCard");
  EXPECT_EQ(history_[0].treatment_code, code);
  EXPECT_EQ(history_[0].session_id, "s1");
  EXPECT_EQ(history_[0].audience_level, "Customer");
  EXPECT_EQ(history_[0].audience_id, "CustomerID=1");
  EXPECT_EQ(history_[0].time_millis, now_millis_);

  EXPECT_THAT(Names(Offers("s1")), ElementsAre("Basic"));
}

TEST_F(EngineTest, RejectionSuppressesTheOffer) {
  Start("s1", 1);
  const v1::GetOffersResponse offers = Offers("s1");
  const std::string code = offers.offer_list().offers(1).treatment_code();
  EXPECT_EQ(Post("s1", "Reject", {Text("UACIOfferTrackingCode", code, true)})
                .status(),
            v1::SUCCESS);
  EXPECT_THAT(Names(Offers("s1")), ElementsAre("GoldCard"));
  ASSERT_EQ(history_.size(), 1);
  EXPECT_EQ(history_[0].kind, HistoryRecord::Kind::kRejection);
  EXPECT_EQ(history_[0].offer, "Basic");
}

TEST_F(EngineTest, ContactWithoutCodeLogsEveryLastRecommendedOffer) {
  Start("s1", 1);
  const v1::GetOffersResponse offers = Offers("s1");
  EXPECT_EQ(Post("s1", "Contact").status(), v1::SUCCESS);
  ASSERT_EQ(history_.size(), 2);
  EXPECT_EQ(history_[0].kind, HistoryRecord::Kind::kContact);
  EXPECT_EQ(history_[0].treatment_code,
            offers.offer_list().offers(0).treatment_code());
  EXPECT_EQ(history_[1].treatment_code,
            offers.offer_list().offers(1).treatment_code());
}

TEST_F(EngineTest, MaxPresentationsSuppressesTheOffer) {
  Start("s1", 2);
  EXPECT_THAT(Names(Offers("s1")), ElementsAre("Basic"));
  EXPECT_THAT(Names(Offers("s1")), ElementsAre("Basic"));
  const v1::GetOffersResponse third = Offers("s1");
  EXPECT_THAT(Names(third), IsEmpty());
  EXPECT_EQ(third.offer_list().default_string(), "welcome");
}

TEST_F(EngineTest, ResegmentAfterParameterChangeMovesTheVisitor) {
  Start("s1", 2);
  // A parameter alone does not re-run segmentation.
  EXPECT_THAT(Names(Offers("s1", "HomeHero", {Text("Device", "vip")})),
              ElementsAre("Basic"));
  EXPECT_EQ(Post("s1", "Resegment").status(), v1::SUCCESS);
  EXPECT_THAT(Names(Offers("s1")), ElementsAre("GoldCard", "Basic"));
  EXPECT_EQ(Post("s1", "Resegment", {Text("device", "web")}).status(),
            v1::SUCCESS);
  EXPECT_THAT(Names(Offers("s1")), IsEmpty());  // Basic shown twice.
}

TEST_F(EngineTest, DeploymentSwitchAppliesToNewCalls) {
  Start("s1", 2);
  EXPECT_THAT(Names(Offers("s1")), ElementsAre("Basic"));
  engine_.SetChannel("WEB", Channel("Young"), 2);
  EXPECT_THAT(Names(Offers("s1")), ElementsAre("Young"));
  Start("s2", 2);
  EXPECT_THAT(Names(Offers("s2")), ElementsAre("Young"));

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

}  // namespace
}  // namespace parley::engine
