// GetOffersForMultipleInteractionPoints.
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/engine_fixture.h"

namespace parley::engine {
namespace {

using ::parley::engine::testing::EngineTest;
using ::parley::engine::testing::FirstAdvisory;
using ::parley::engine::testing::Names;
using ::parley::engine::testing::Number;
using ::parley::engine::testing::Text;
using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

using Request = v1::GetOffersForMultipleInteractionPointsRequest;
using Response = v1::GetOffersForMultipleInteractionPointsResponse;

class MultiOffersTest : public EngineTest {
 protected:
  // Adds a request for `ip`.
  static v1::InteractionPointRequest& Add(
      Request& request, const std::string& ip, uint32_t count = 5,
      v1::DuplicationPolicy policy = v1::NO_DUPLICATION) {
    v1::InteractionPointRequest& added = *request.add_requests();
    added.set_interaction_point(ip);
    added.set_number_requested(count);
    added.set_duplication_policy(policy);
    return added;
  }

  Response Call(Request request, const std::string& session_id = "s1") {
    request.set_session_id(session_id);
    absl::StatusOr<Response> response =
        engine_.GetOffersForMultipleInteractionPoints(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(Response());
  }
};

TEST_F(MultiOffersTest, NoDuplicationSkipsOffersOfEarlierPoints) {
  Start("s1", 1);
  Request request;
  Add(request, "homehero", 1);
  Add(request, "SideBar", 5);
  Add(request, "FooterBar", 5);
  const Response response = Call(request);
  EXPECT_EQ(response.status(), v1::SUCCESS);
  EXPECT_EQ(response.session_id(), "s1");
  ASSERT_EQ(response.offer_lists_size(), 3);
  EXPECT_EQ(response.offer_lists(0).interaction_point(), "HomeHero");
  EXPECT_THAT(Names(response.offer_lists(0)), ElementsAre("GoldCard"));
  EXPECT_EQ(response.offer_lists(1).interaction_point(), "SideBar");
  EXPECT_THAT(Names(response.offer_lists(1)), ElementsAre("Basic"));
  EXPECT_EQ(response.offer_lists(1).default_string(), "");
  EXPECT_THAT(Names(response.offer_lists(2)), IsEmpty());
  EXPECT_EQ(response.offer_lists(2).default_string(), "nothing");
}

TEST_F(MultiOffersTest, AllowDuplicationMayRepeatOffers) {
  Start("s1", 1);
  Request request;
  Add(request, "HomeHero", 5);
  Add(request, "SideBar", 5, v1::ALLOW_DUPLICATION);
  const Response response = Call(request);
  EXPECT_THAT(Names(response.offer_lists(0)), ElementsAre("GoldCard", "Basic"));
  EXPECT_THAT(Names(response.offer_lists(1)), ElementsAre("GoldCard", "Basic"));
  // Each presentation has its own treatment code.
  absl::flat_hash_set<std::string> codes;
  for (const v1::OfferList& list : response.offer_lists()) {
    for (const v1::Offer& offer : list.offers()) {
      codes.insert(offer.treatment_code());
    }
  }
  EXPECT_EQ(codes.size(), 4);
}

TEST_F(MultiOffersTest, PresentationsCountWithinTheCall) {
  // At most 2 presentations per session: the third point gets nothing.
  Start("s1", 2);
  Request request;
  Add(request, "HomeHero", 5, v1::ALLOW_DUPLICATION);
  Add(request, "SideBar", 5, v1::ALLOW_DUPLICATION);
  Add(request, "HomeHero", 5, v1::ALLOW_DUPLICATION);
  const Response response = Call(request);
  EXPECT_THAT(Names(response.offer_lists(0)), ElementsAre("Basic"));
  EXPECT_THAT(Names(response.offer_lists(1)), ElementsAre("Basic"));
  EXPECT_THAT(Names(response.offer_lists(2)), IsEmpty());
  EXPECT_EQ(response.offer_lists(2).default_string(), "welcome");
  EXPECT_EQ(Stored("s1").offers().at("Basic").presentations(), 2);
}

TEST_F(MultiOffersTest, AttributeFilterMatchesNameAnyCaseAndTypedValue) {
  Start("s1", 1);
  Request request;
  *Add(request, "HomeHero", 5, v1::ALLOW_DUPLICATION)
       .add_offer_attribute_filter() = Number("fee", 99);
  *Add(request, "HomeHero", 5, v1::ALLOW_DUPLICATION)
       .add_offer_attribute_filter() = Text("FEE", "99");
  v1::InteractionPointRequest& both =
      Add(request, "HomeHero", 5, v1::ALLOW_DUPLICATION);
  *both.add_offer_attribute_filter() = Text("Kind", "card");
  *both.add_offer_attribute_filter() = Number("Fee", 99);
  v1::InteractionPointRequest& none =
      Add(request, "HomeHero", 5, v1::ALLOW_DUPLICATION);
  *none.add_offer_attribute_filter() = Text("Kind", "card");
  *none.add_offer_attribute_filter() = Number("Fee", 98);
  *Add(request, "HomeHero", 5, v1::ALLOW_DUPLICATION)
       .add_offer_attribute_filter() = Text("Kind", "CARD");
  const Response response = Call(request);
  EXPECT_EQ(response.status(), v1::SUCCESS);
  EXPECT_THAT(Names(response.offer_lists(0)), ElementsAre("GoldCard"));
  EXPECT_THAT(Names(response.offer_lists(1)), ElementsAre("Basic"));
  EXPECT_THAT(Names(response.offer_lists(2)), ElementsAre("GoldCard"));
  EXPECT_THAT(Names(response.offer_lists(3)), IsEmpty());
  EXPECT_EQ(response.offer_lists(3).default_string(), "welcome");
  EXPECT_THAT(Names(response.offer_lists(4)), IsEmpty());
}

TEST_F(MultiOffersTest, OneWriteRecordsEveryPresentation) {
  Start("s1", 1);
  const int writes_before = store_.successful_updates();
  Request request;
  Add(request, "HomeHero", 1);
  Add(request, "SideBar", 1);
  *request.add_parameters() = Text("Device", "web");
  const Response response = Call(request);
  EXPECT_EQ(store_.successful_updates(), writes_before + 1);
  const v1::SessionState state = Stored("s1");
  ASSERT_EQ(state.last_recommended_size(), 2);
  EXPECT_EQ(state.last_recommended(0).offer(), "GoldCard");
  EXPECT_EQ(state.last_recommended(0).interaction_point(), "HomeHero");
  EXPECT_EQ(state.last_recommended(0).treatment_code(),
            response.offer_lists(0).offers(0).treatment_code());
  EXPECT_EQ(state.last_recommended(1).offer(), "Basic");
  EXPECT_EQ(state.last_recommended(1).interaction_point(), "SideBar");
  EXPECT_EQ(state.offers().at("GoldCard").presentations(), 1);
  EXPECT_EQ(state.offers().at("Basic").presentations(), 1);
  ASSERT_EQ(state.parameters_size(), 1);
  EXPECT_EQ(state.parameters(0).string_value(), "web");

  // The codes of both points can be accepted.
  const std::string code = response.offer_lists(1).offers(0).treatment_code();
  EXPECT_EQ(Post("s1", "Accept", {Text("UACIOfferTrackingCode", code, true)})
                .status(),
            v1::SUCCESS);
  ASSERT_EQ(history_.size(), 1);
  EXPECT_EQ(history_[0].offer(), "Basic");
  EXPECT_EQ(history_[0].interaction_point(), "SideBar");
}

TEST_F(MultiOffersTest, RetriesALostRaceWithoutCountingTwice) {
  Start("s1", 1);
  store_.RaceNextUpdates(
      2, [](v1::SessionState& state) { state.set_debug(true); });
  Request request;
  Add(request, "HomeHero", 1);
  Add(request, "SideBar", 1);
  const Response response = Call(request);
  EXPECT_EQ(store_.aborted_updates(), 2);
  EXPECT_THAT(Names(response.offer_lists(0)), ElementsAre("GoldCard"));
  EXPECT_THAT(Names(response.offer_lists(1)), ElementsAre("Basic"));
  const v1::SessionState state = Stored("s1");
  EXPECT_TRUE(state.debug());
  EXPECT_EQ(state.offers().at("GoldCard").presentations(), 1);
  EXPECT_EQ(state.offers().at("Basic").presentations(), 1);
  EXPECT_EQ(state.last_recommended_size(), 2);
}

TEST_F(MultiOffersTest, BadPointOrFilterServesNothing) {
  Start("s1", 1);
  const int writes_before = store_.successful_updates();
  Request request;
  Add(request, "HomeHero", 1);
  Add(request, "Nowhere", 1);
  *Add(request, "SideBar", 1).add_offer_attribute_filter() = Text("", "x");
  v1::NameValue unset;
  unset.set_name("Fee");
  *Add(request, "SideBar", 1).add_offer_attribute_filter() = unset;
  const Response response = Call(request);
  EXPECT_EQ(response.status(), v1::ERROR);
  ASSERT_EQ(response.advisory_messages_size(), 3);
  EXPECT_EQ(response.advisory_messages(0).code(),
            v1::INVALID_INTERACTION_POINT);
  EXPECT_EQ(response.advisory_messages(0).detail(), "Nowhere");
  EXPECT_EQ(response.advisory_messages(1).code(), v1::INVALID_PARAMETER);
  EXPECT_EQ(response.advisory_messages(2).code(), v1::INVALID_PARAMETER);
  EXPECT_THAT(response.advisory_messages(2).detail(),
              ::testing::HasSubstr("has no value"));
  EXPECT_THAT(response.offer_lists(), IsEmpty());
  EXPECT_EQ(store_.successful_updates(), writes_before);
  EXPECT_THAT(Stored("s1").offers(), IsEmpty());
}

TEST_F(MultiOffersTest, ReportsSessionProblemsAndLimits) {
  EXPECT_EQ(FirstAdvisory(Call(Request(), "nope")), v1::INVALID_SESSION_ID);
  Start("s1", 1);
  Request invalid_parameter;
  Add(invalid_parameter, "HomeHero");
  *invalid_parameter.add_parameters() = Text("", "x");
  EXPECT_EQ(FirstAdvisory(Call(invalid_parameter)), v1::INVALID_PARAMETER);

  Request too_many;
  too_many.set_session_id("s1");
  for (int i = 0; i <= kMaxInteractionPointsPerCall; ++i) {
    Add(too_many, "HomeHero");
  }
  EXPECT_THAT(engine_.GetOffersForMultipleInteractionPoints(too_many),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  too_many.mutable_requests()->RemoveLast();
  auto at_limit = engine_.GetOffersForMultipleInteractionPoints(too_many);
  ASSERT_TRUE(at_limit.ok());
  EXPECT_EQ(at_limit->offer_lists_size(), kMaxInteractionPointsPerCall);
}

}  // namespace
}  // namespace parley::engine
