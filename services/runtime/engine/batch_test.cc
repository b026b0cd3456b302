// ExecuteBatch.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/engine_fixture.h"

namespace parley::engine {
namespace {

using ::parley::engine::testing::EngineTest;
using ::parley::engine::testing::Names;
using ::parley::engine::testing::Number;
using ::parley::engine::testing::Text;
using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class BatchTest : public EngineTest {
 protected:
  v1::ExecuteBatchResponse Run(const v1::ExecuteBatchRequest& request) {
    absl::StatusOr<v1::ExecuteBatchResponse> response =
        engine_.ExecuteBatch(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(v1::ExecuteBatchResponse());
  }

  static v1::StartSessionRequest StartRequest(double customer) {
    v1::StartSessionRequest start;
    start.set_interactive_channel("Web");
    start.set_audience_level("Customer");
    *start.add_audience_id() = Number("CustomerID", customer);
    return start;
  }
};

TEST_F(BatchTest, RunsCommandsInOrderOnTheBatchSession) {
  v1::ExecuteBatchRequest request;
  request.set_session_id("b1");
  *request.add_commands()->mutable_start_session() = StartRequest(1);
  v1::GetOffersRequest& get_offers =
      *request.add_commands()->mutable_get_offers();
  get_offers.set_interaction_point("HomeHero");
  get_offers.set_number_requested(1);
  *request.add_commands()->mutable_post_event() = [] {
    v1::PostEventRequest post;
    post.set_event_name("Contact");
    return post;
  }();
  request.add_commands()->mutable_get_profile();
  request.add_commands()->mutable_get_version();
  request.add_commands()->mutable_end_session();

  const v1::ExecuteBatchResponse response = Run(request);
  EXPECT_EQ(response.session_id(), "b1");
  EXPECT_EQ(response.status(), v1::SUCCESS);
  ASSERT_EQ(response.results_size(), 6);
  EXPECT_EQ(response.results(0).start_session().session_id(), "b1");
  EXPECT_EQ(response.results(0).start_session().status(), v1::SUCCESS);
  EXPECT_THAT(Names(response.results(1).get_offers().offer_list()),
              ElementsAre("GoldCard"));
  EXPECT_EQ(response.results(2).post_event().status(), v1::SUCCESS);
  ASSERT_EQ(history_.size(), 1);
  EXPECT_EQ(history_[0].session_id(), "b1");
  EXPECT_EQ(
      history_[0].treatment_code(),
      response.results(1).get_offers().offer_list().offers(0).treatment_code());
  EXPECT_EQ(response.results(3).get_profile().profile_size(), 2);
  EXPECT_EQ(response.results(4).get_version().api_version(), "1");
  EXPECT_EQ(response.results(5).end_session().status(), v1::SUCCESS);
  EXPECT_TRUE(absl::IsNotFound(
      store_.Get("b1", absl::FromUnixMillis(now_millis_)).status()));
}

TEST_F(BatchTest, OwnSessionIdWinsAndErrorsDoNotStopTheBatch) {
  Start("own", 2);
  v1::ExecuteBatchRequest request;
  request.set_session_id("missing");
  // The batch's session does not exist: an ERROR result.
  request.add_commands()->mutable_get_offers()->set_interaction_point(
      "HomeHero");
  // A command with its own session still runs.
  v1::GetOffersRequest& own = *request.add_commands()->mutable_get_offers();
  own.set_session_id("own");
  own.set_interaction_point("HomeHero");
  // A warning: customer 3 has no profile.
  v1::StartSessionRequest& warn =
      *request.add_commands()->mutable_start_session();
  warn = StartRequest(3);
  warn.set_session_id("other");

  const v1::ExecuteBatchResponse response = Run(request);
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_EQ(response.results(0).get_offers().status(), v1::ERROR);
  EXPECT_EQ(response.results(0).get_offers().session_id(), "missing");
  EXPECT_EQ(response.results(0).get_offers().advisory_messages(0).code(),
            v1::INVALID_SESSION_ID);
  EXPECT_EQ(response.results(1).get_offers().session_id(), "own");
  EXPECT_THAT(Names(response.results(1).get_offers().offer_list()),
              ElementsAre("Basic"));
  EXPECT_EQ(response.results(2).start_session().status(), v1::WARNING);
  EXPECT_EQ(response.status(), v1::ERROR);
}

TEST_F(BatchTest, StatusIsTheWorstOfTheResults) {
  v1::ExecuteBatchRequest request;
  request.set_session_id("b1");
  *request.add_commands()->mutable_start_session() = StartRequest(3);
  request.add_commands()->mutable_get_version();
  const v1::ExecuteBatchResponse warning = Run(request);
  EXPECT_EQ(warning.results(0).start_session().status(), v1::WARNING);
  EXPECT_EQ(warning.status(), v1::WARNING);

  EXPECT_EQ(Run(v1::ExecuteBatchRequest()).status(), v1::SUCCESS);
}

TEST_F(BatchTest, CommandWithoutMethodIsUnrecognized) {
  v1::ExecuteBatchRequest request;
  request.set_session_id("b1");
  request.add_commands();
  *request.add_commands()->mutable_start_session() = StartRequest(1);
  const v1::ExecuteBatchResponse response = Run(request);
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(0).result_case(), v1::BatchResult::RESULT_NOT_SET);
  ASSERT_EQ(response.results(0).advisory_messages_size(), 1);
  EXPECT_EQ(response.results(0).advisory_messages(0).code(),
            v1::COMMAND_METHOD_UNRECOGNIZED);
  EXPECT_EQ(response.results(0).advisory_messages(0).level(), v1::ERROR);
  EXPECT_EQ(response.results(1).start_session().status(), v1::SUCCESS);
  EXPECT_EQ(response.status(), v1::ERROR);
}

TEST_F(BatchTest, MalformedCommandBecomesAnErrorResult) {
  v1::ExecuteBatchRequest request;  // No batch session id.
  *request.add_commands()->mutable_start_session() = StartRequest(1);
  v1::SetDebugRequest& debug = *request.add_commands()->mutable_set_debug();
  debug.set_session_id(std::string(300, 'x'));
  v1::StartSessionRequest& fine =
      *request.add_commands()->mutable_start_session();
  fine = StartRequest(1);
  fine.set_session_id("s9");
  const v1::ExecuteBatchResponse response = Run(request);
  ASSERT_EQ(response.results_size(), 3);
  const v1::StartSessionResponse& start = response.results(0).start_session();
  EXPECT_EQ(start.status(), v1::ERROR);
  ASSERT_EQ(start.advisory_messages_size(), 1);
  EXPECT_EQ(start.advisory_messages(0).code(), v1::INVALID_PARAMETER);
  EXPECT_EQ(start.advisory_messages(0).level(), v1::ERROR);
  EXPECT_THAT(start.advisory_messages(0).detail(),
              HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(start.advisory_messages(0).detail(), HasSubstr("session_id"));
  EXPECT_EQ(response.results(1).set_debug().status(), v1::ERROR);
  EXPECT_EQ(response.results(1).set_debug().session_id(),
            std::string(300, 'x'));
  EXPECT_EQ(response.results(2).start_session().status(), v1::SUCCESS);
  EXPECT_EQ(response.status(), v1::ERROR);
  Stored("s9");
}

TEST_F(BatchTest, SetAudienceAndMultipleOffersInABatch) {
  Start("s1", 2);
  v1::ExecuteBatchRequest request;
  request.set_session_id("s1");
  v1::SetAudienceRequest& audience =
      *request.add_commands()->mutable_set_audience();
  audience.set_audience_level("Customer");
  *audience.add_audience_id() = Number("CustomerID", 1);
  v1::GetOffersForMultipleInteractionPointsRequest& multi =
      *request.add_commands()
           ->mutable_get_offers_for_multiple_interaction_points();
  v1::InteractionPointRequest& hero = *multi.add_requests();
  hero.set_interaction_point("HomeHero");
  hero.set_number_requested(1);
  v1::InteractionPointRequest& side = *multi.add_requests();
  side.set_interaction_point("SideBar");
  side.set_number_requested(1);
  v1::SetDebugRequest& debug = *request.add_commands()->mutable_set_debug();
  debug.set_debug(true);
  const v1::ExecuteBatchResponse response = Run(request);
  EXPECT_EQ(response.status(), v1::SUCCESS);
  EXPECT_EQ(response.results(0).set_audience().status(), v1::SUCCESS);
  const auto& lists =
      response.results(1).get_offers_for_multiple_interaction_points();
  EXPECT_THAT(Names(lists.offer_lists(0)), ElementsAre("GoldCard"));
  EXPECT_THAT(Names(lists.offer_lists(1)), ElementsAre("Basic"));
  EXPECT_TRUE(Stored("s1").debug());
}

TEST_F(BatchTest, TooManyCommandsIsMalformed) {
  v1::ExecuteBatchRequest request;
  for (int i = 0; i <= kMaxBatchCommands; ++i) {
    request.add_commands()->mutable_get_version();
  }
  EXPECT_THAT(engine_.ExecuteBatch(request),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  request.mutable_commands()->RemoveLast();
  auto at_limit = engine_.ExecuteBatch(request);
  ASSERT_TRUE(at_limit.ok());
  EXPECT_EQ(at_limit->results_size(), kMaxBatchCommands);
  EXPECT_THAT(at_limit->results(0).advisory_messages(), IsEmpty());
}

}  // namespace
}  // namespace parley::engine
