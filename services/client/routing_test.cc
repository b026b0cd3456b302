#include "services/client/routing.h"

#include "gtest/gtest.h"

namespace parley::client {
namespace {

TEST(RoutingTest, SessionCallsGoToTheirSession) {
  v1::StartSessionRequest start;
  start.set_session_id("a");
  v1::GetOffersRequest offers;
  offers.set_session_id("b");
  v1::GetOffersForMultipleInteractionPointsRequest multi;
  multi.set_session_id("c");
  v1::PostEventRequest event;
  event.set_session_id("d");
  v1::SetAudienceRequest audience;
  audience.set_session_id("e");
  v1::EndSessionRequest end;
  end.set_session_id("f");
  for (const Routing& routing :
       {RoutingOf(start), RoutingOf(offers), RoutingOf(multi), RoutingOf(event),
        RoutingOf(audience), RoutingOf(end)}) {
    EXPECT_FALSE(routing.any_server);
    // They change the session: not sent again after a deadline.
    EXPECT_FALSE(routing.repeatable);
  }
  EXPECT_EQ(RoutingOf(start).session_id, "a");
  EXPECT_EQ(RoutingOf(end).session_id, "f");
}

TEST(RoutingTest, ReadsAndSetDebugAreRepeatable) {
  v1::GetProfileRequest profile;
  profile.set_session_id("p");
  v1::SetDebugRequest debug;
  debug.set_session_id("q");
  EXPECT_TRUE(RoutingOf(profile).repeatable);
  EXPECT_EQ(RoutingOf(profile).session_id, "p");
  EXPECT_TRUE(RoutingOf(debug).repeatable);
  EXPECT_TRUE(RoutingOf(v1::GetVersionRequest()).any_server);
  EXPECT_TRUE(RoutingOf(v1::GetVersionRequest()).repeatable);
  EXPECT_TRUE(RoutingOf(v1::TestRunRequest()).any_server);
  EXPECT_TRUE(RoutingOf(v1::TestRunRequest()).repeatable);
}

TEST(RoutingTest, BatchGoesToItsSession) {
  v1::ExecuteBatchRequest batch;
  batch.add_commands()->mutable_get_version();
  batch.add_commands()->mutable_get_profile()->set_session_id("first");
  batch.add_commands()->mutable_get_profile()->set_session_id("second");
  Routing routing = RoutingOf(batch);
  EXPECT_FALSE(routing.any_server);
  EXPECT_EQ(routing.session_id, "first");
  EXPECT_TRUE(routing.repeatable);

  batch.set_session_id("own");
  batch.add_commands()->mutable_post_event();
  routing = RoutingOf(batch);
  EXPECT_EQ(routing.session_id, "own");
  EXPECT_FALSE(routing.repeatable);
}

TEST(RoutingTest, BatchNamingNoSessionGoesAnywhere) {
  v1::ExecuteBatchRequest batch;
  EXPECT_TRUE(RoutingOf(batch).any_server);
  batch.add_commands()->mutable_get_version();
  EXPECT_TRUE(RoutingOf(batch).any_server);
  EXPECT_TRUE(RoutingOf(batch).repeatable);
}

}  // namespace
}  // namespace parley::client
