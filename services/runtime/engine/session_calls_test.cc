// SetAudience, GetProfile, SetDebug and GetVersion.
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/version.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/engine_fixture.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace parley::engine {
namespace {

using ::parley::engine::testing::EngineTest;
using ::parley::engine::testing::FirstAdvisory;
using ::parley::engine::testing::Names;
using ::parley::engine::testing::Number;
using ::parley::engine::testing::Text;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class SessionCallsTest : public EngineTest {
 protected:
  v1::SetAudienceResponse SetAudience(
      const std::string& level, std::vector<v1::NameValue> audience_id,
      std::vector<v1::NameValue> parameters = {},
      const std::string& session_id = "s1") {
    v1::SetAudienceRequest request;
    request.set_session_id(session_id);
    request.set_audience_level(level);
    for (v1::NameValue& field : audience_id) {
      *request.add_audience_id() = std::move(field);
    }
    for (v1::NameValue& parameter : parameters) {
      *request.add_parameters() = std::move(parameter);
    }
    absl::StatusOr<v1::SetAudienceResponse> response =
        engine_.SetAudience(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(v1::SetAudienceResponse());
  }

  v1::GetProfileResponse Profile(const std::string& session_id = "s1") {
    v1::GetProfileRequest request;
    request.set_session_id(session_id);
    absl::StatusOr<v1::GetProfileResponse> response =
        engine_.GetProfile(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(v1::GetProfileResponse());
  }

  static std::vector<std::string> ProfileNames(
      const v1::GetProfileResponse& response) {
    std::vector<std::string> names;
    for (const v1::NameValue& value : response.profile()) {
      names.push_back(value.name());
    }
    return names;
  }
};

TEST_F(SessionCallsTest, SetAudienceReloadsTheProfileAndResegments) {
  Start("s1", 2);
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("Basic"));
  const v1::SetAudienceResponse switched = SetAudience(
      "customer", {Number("CUSTOMERID", 1)}, {Text("Device", "tv")});
  EXPECT_EQ(switched.status(), v1::SUCCESS);
  EXPECT_EQ(switched.session_id(), "s1");
  EXPECT_THAT(switched.advisory_messages(), IsEmpty());
  EXPECT_EQ(lookups_.back(), "Customer:1");

  const v1::SessionState state = Stored("s1");
  EXPECT_EQ(state.audience_level(), "Customer");
  ASSERT_EQ(state.audience_id_size(), 1);
  EXPECT_EQ(state.audience_id(0).name(), "CustomerID");
  EXPECT_EQ(state.audience_id(0).number_value(), 1);
  EXPECT_THAT(state.segments(), ElementsAre("Gold"));
  // Offer history is kept across the switch.
  EXPECT_EQ(state.offers().at("Basic").presentations(), 1);

  const v1::GetProfileResponse profile = Profile();
  EXPECT_THAT(ProfileNames(profile), ElementsAre("Age", "Tier", "Device"));
  EXPECT_EQ(profile.profile(1).string_value(), "Gold");
  EXPECT_EQ(profile.profile(2).string_value(), "tv");
  EXPECT_THAT(Names(Offers("s1").offer_list()),
              ElementsAre("GoldCard", "Basic"));
}

TEST_F(SessionCallsTest, SetAudienceToAnotherLevel) {
  Start("s1", 1);
  const v1::SetAudienceResponse switched =
      SetAudience("Household", {Number("HouseholdID", 7)});
  EXPECT_EQ(switched.status(), v1::SUCCESS);
  EXPECT_EQ(lookups_.back(), "Household:7");
  const v1::SessionState state = Stored("s1");
  EXPECT_EQ(state.audience_level(), "Household");
  EXPECT_THAT(state.segments(), ElementsAre("Family"));
  EXPECT_THAT(ProfileNames(Profile()), ElementsAre("HouseholdSize"));
  EXPECT_THAT(Names(Offers("s1").offer_list()), ElementsAre("HomeLoan"));

  // Contacts are logged under the new audience.
  ASSERT_EQ(Post("s1", "Contact").status(), v1::SUCCESS);
  ASSERT_EQ(history_.size(), 1);
  EXPECT_EQ(history_[0].audience_level(), "Household");
  EXPECT_EQ(history_[0].audience_id(), "HouseholdID=7");
}

TEST_F(SessionCallsTest, SetAudienceWithoutProfileWarnsAndClearsIt) {
  Start("s1", 1);
  const v1::SetAudienceResponse switched =
      SetAudience("Customer", {Number("CustomerID", 3)});
  EXPECT_EQ(switched.status(), v1::WARNING);
  EXPECT_EQ(FirstAdvisory(switched), v1::PROFILE_NOT_FOUND);
  EXPECT_EQ(switched.advisory_messages(0).detail(), "CustomerID=3");
  const v1::SessionState state = Stored("s1");
  EXPECT_THAT(state.profile(), IsEmpty());
  EXPECT_EQ(state.audience_id(0).number_value(), 3);
  EXPECT_THAT(state.segments(), ElementsAre("Regular"));
}

TEST_F(SessionCallsTest, SetAudienceProblemsChangeNothing) {
  Start("s1", 1);
  const v1::SessionState before = Stored("s1");
  const int writes_before = store_.successful_updates();

  const v1::SetAudienceResponse bad_level =
      SetAudience("Visitor", {Number("CustomerID", 2)});
  EXPECT_EQ(bad_level.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(bad_level), v1::INVALID_AUDIENCE_LEVEL);
  const v1::SetAudienceResponse bad_id =
      SetAudience("Customer", {Text("CustomerID", "2")});
  EXPECT_EQ(FirstAdvisory(bad_id), v1::INVALID_PARAMETER);
  const v1::SetAudienceResponse wrong_level_id =
      SetAudience("Household", {Number("CustomerID", 2)});
  EXPECT_EQ(FirstAdvisory(wrong_level_id), v1::INVALID_PARAMETER);
  const v1::SetAudienceResponse bad_parameter =
      SetAudience("Customer", {Number("CustomerID", 2)}, {Text("", "x")});
  EXPECT_EQ(FirstAdvisory(bad_parameter), v1::INVALID_PARAMETER);
  const v1::SetAudienceResponse load_failed =
      SetAudience("Customer", {Number("CustomerID", 666)});
  EXPECT_EQ(load_failed.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(load_failed), v1::PROFILE_LOAD_FAILED);
  EXPECT_EQ(FirstAdvisory(
                SetAudience("Customer", {Number("CustomerID", 2)}, {}, "nope")),
            v1::INVALID_SESSION_ID);

  EXPECT_EQ(store_.successful_updates(), writes_before);
  const v1::SessionState after = Stored("s1");
  EXPECT_EQ(after.audience_id(0).number_value(), 1);
  EXPECT_THAT(after.segments(), ElementsAre("Gold"));
  EXPECT_EQ(after.profile_size(), before.profile_size());
}

TEST_F(SessionCallsTest, SetAudienceLoadsTheProfileOnceAcrossRetries) {
  Start("s1", 1);
  store_.RaceNextUpdates(2, [](v1::SessionState& state) {
    state.clear_parameters();
    *state.add_parameters() = Text("Device", "vip");
  });
  lookups_.clear();
  const v1::SetAudienceResponse switched =
      SetAudience("Customer", {Number("CustomerID", 2)});
  EXPECT_EQ(switched.status(), v1::SUCCESS);
  EXPECT_EQ(store_.aborted_updates(), 2);
  EXPECT_THAT(lookups_, ElementsAre("Customer:2"));
  // The concurrent parameter is kept and used by the re-segmentation:
  // Silver, but a vip device.
  const v1::SessionState state = Stored("s1");
  EXPECT_THAT(state.segments(), ElementsAre("Gold"));
  EXPECT_EQ(state.profile(1).string_value(), "Silver");
}

// The blocking calls run every step on the calling thread, even over a
// store that answers its asynchronous calls on threads of its own: a
// profile lookup (which blocks on the cache tier) never runs on the store's
// threads, which its answer may need.
TEST_F(SessionCallsTest, SetAudienceLooksUpTheProfileOnTheCallingThread) {
  Start("s1", 1);
  store_.CompleteOnStoreThreads();
  store_.RaceNextUpdates(1, [](v1::SessionState& state) {
    *state.add_parameters() = Text("Device", "concurrent");
  });
  lookup_threads_.clear();
  const v1::SetAudienceResponse switched =
      SetAudience("Customer", {Number("CustomerID", 2)});
  EXPECT_EQ(switched.status(), v1::SUCCESS);
  EXPECT_EQ(store_.aborted_updates(), 1);
  EXPECT_EQ(store_.store_thread_completions(), 0);
  ASSERT_FALSE(lookup_threads_.empty());
  for (const std::thread::id& thread : lookup_threads_) {
    EXPECT_EQ(thread, std::this_thread::get_id());
  }
}

TEST_F(SessionCallsTest, GetProfileListsProfileThenParameters) {
  Start("s1", 2);
  Offers("s1", "HomeHero",
         {Text("Device", "web"), Text("Page", "home", /*transient=*/true)});
  const v1::GetProfileResponse profile = Profile();
  EXPECT_EQ(profile.status(), v1::SUCCESS);
  EXPECT_EQ(profile.session_id(), "s1");
  EXPECT_THAT(ProfileNames(profile), ElementsAre("Age", "Tier", "Device"));
  EXPECT_EQ(profile.profile(0).number_value(), 20);
  EXPECT_EQ(profile.profile(1).string_value(), "Silver");

  const v1::GetProfileResponse missing = Profile("nope");
  EXPECT_EQ(missing.status(), v1::ERROR);
  EXPECT_EQ(FirstAdvisory(missing), v1::INVALID_SESSION_ID);
  EXPECT_THAT(missing.profile(), IsEmpty());
}

// Routes the default logger to a string for the test's life.
class CapturedLog {
 public:
  CapturedLog()
      : previous_(spdlog::default_logger()),
        logger_(std::make_shared<spdlog::logger>(
            "captured",
            std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_))) {
    spdlog::set_default_logger(logger_);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string Text() {
    logger_->flush();
    return stream_.str();
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(SessionCallsTest, ADebugSessionLogsEachCall) {
  CapturedLog log;
  Start("quiet", 1);
  Offers("quiet");
  EXPECT_EQ(log.Text(), "");

  Start("s1", 1);
  v1::SetDebugRequest request;
  request.set_session_id("s1");
  request.set_debug(true);
  ASSERT_TRUE(engine_.SetDebug(request).ok());
  Offers("s1");
  const std::string text = log.Text();
  EXPECT_THAT(text, HasSubstr("debug session 's1': SetDebugResponse"));
  EXPECT_THAT(text, HasSubstr("debug session 's1': GetOffersResponse "
                              "segments=[Gold]"));
  EXPECT_THAT(text, HasSubstr("GoldCard"));
  EXPECT_THAT(text, Not(HasSubstr("quiet")));

  request.set_debug(false);
  ASSERT_TRUE(engine_.SetDebug(request).ok());
  const size_t before = log.Text().size();
  Offers("s1");
  EXPECT_EQ(log.Text().size(), before);
}

TEST_F(SessionCallsTest, SetDebugFlagsTheSession) {
  Start("s1", 1);
  EXPECT_FALSE(Stored("s1").debug());
  v1::SetDebugRequest request;
  request.set_session_id("s1");
  request.set_debug(true);
  auto on = engine_.SetDebug(request);
  ASSERT_TRUE(on.ok());
  EXPECT_EQ(on->status(), v1::SUCCESS);
  EXPECT_EQ(on->session_id(), "s1");
  EXPECT_TRUE(Stored("s1").debug());
  request.set_debug(false);
  ASSERT_TRUE(engine_.SetDebug(request).ok());
  EXPECT_FALSE(Stored("s1").debug());

  request.set_session_id("nope");
  auto missing = engine_.SetDebug(request);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(FirstAdvisory(*missing), v1::INVALID_SESSION_ID);
}

TEST_F(SessionCallsTest, CallsOnAnUndeployedChannelAreAdvisories) {
  Start("s1", 1);
  engine_.RemoveChannel("Web");
  EXPECT_EQ(FirstAdvisory(Profile()), v1::INVALID_INTERACTIVE_CHANNEL);
  EXPECT_EQ(FirstAdvisory(SetAudience("Customer", {Number("CustomerID", 2)})),
            v1::INVALID_INTERACTIVE_CHANNEL);
}

TEST_F(SessionCallsTest, GetVersion) {
  auto version = engine_.GetVersion(v1::GetVersionRequest());
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->api_version(), "1");
  EXPECT_EQ(version->server_version(), kParleyVersion);
  EXPECT_FALSE(version->server_version().empty());
  EXPECT_EQ(version->status(), v1::SUCCESS);
}

}  // namespace
}  // namespace parley::engine
