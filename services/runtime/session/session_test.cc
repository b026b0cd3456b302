#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/session/local_session_store.h"
#include "services/runtime/session/parameters.h"
#include "services/runtime/session/treatment_code.h"

namespace parley::session {
namespace {

using ::parley::testing::StatusIs;
using ::parley::v1::NameValue;
using ::parley::v1::SessionState;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// ---------------------------------------------------------------- codes

TEST(TreatmentCodeTest, UniqueAndWellFormedAcrossTwoGenerators) {
  TreatmentCodeGenerator first;
  TreatmentCodeGenerator second;
  ASSERT_NE(first.instance_id(), second.instance_id());
  absl::flat_hash_set<std::string> seen;
  seen.reserve(1000000);
  for (int i = 0; i < 500000; ++i) {
    for (TreatmentCodeGenerator* generator : {&first, &second}) {
      std::string code = generator->Next();
      ASSERT_TRUE(ValidateTreatmentCode(code).ok()) << code;
      ASSERT_TRUE(seen.insert(std::move(code)).second) << "duplicate";
    }
  }
  EXPECT_THAT(seen, SizeIs(1000000));
}

TEST(TreatmentCodeTest, ExtremeInstanceIdsAreWellFormed) {
  TreatmentCodeGenerator zero(0);
  TreatmentCodeGenerator ones(~uint64_t{0});
  EXPECT_EQ(zero.Next(), "00000000000000000000000000");
  EXPECT_EQ(zero.Next(), "00000000000000000000000001");
  const std::string code = ones.Next();
  EXPECT_EQ(code, "FZZZZZZZZZZZZ0000000000000");
  EXPECT_TRUE(ValidateTreatmentCode(code).ok());
}

TEST(TreatmentCodeTest, RejectsMalformedCodes) {
  const std::string good = TreatmentCodeGenerator(12345).Next();
  ASSERT_TRUE(ValidateTreatmentCode(good).ok());
  EXPECT_THAT(ValidateTreatmentCode(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("26")));
  EXPECT_THAT(ValidateTreatmentCode(good.substr(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("26")));
  std::string lower = good;
  lower[20] = 'a';
  EXPECT_THAT(ValidateTreatmentCode(lower),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invalid character at 20")));
  std::string ambiguous = good;
  ambiguous[5] = 'I';
  EXPECT_THAT(ValidateTreatmentCode(ambiguous),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invalid character at 5")));
  std::string out_of_range = good;
  out_of_range[13] = 'G';  // 16: a 65th bit.
  EXPECT_THAT(ValidateTreatmentCode(out_of_range),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("out of range at 13")));
}

// ---------------------------------------------------------------- parameters

NameValue String(const std::string& name, const std::string& value,
                 bool transient = false) {
  NameValue param;
  param.set_name(name);
  param.set_string_value(value);
  param.set_transient(transient);
  return param;
}

NameValue Number(const std::string& name, double value) {
  NameValue param;
  param.set_name(name);
  param.set_number_value(value);
  return param;
}

google::protobuf::RepeatedPtrField<NameValue> Params(
    std::vector<NameValue> params) {
  return {params.begin(), params.end()};
}

TEST(ApplyParametersTest, PersistentReplaceCaseInsensitivelyTransientReturned) {
  SessionState state;
  *state.add_parameters() = String("Channel", "web");
  *state.add_parameters() = Number("Visits", 1);
  std::vector<NameValue> transient = {String("stale", "x")};

  ASSERT_TRUE(
      ApplyParameters(state,
                      Params({String("CHANNEL", "mobile"), Number("Score", 7),
                              String("Cart", "42", true)}),
                      &transient)
          .ok());

  ASSERT_EQ(state.parameters_size(), 3);
  EXPECT_EQ(state.parameters(0).name(), "CHANNEL");
  EXPECT_EQ(state.parameters(0).string_value(), "mobile");
  EXPECT_EQ(state.parameters(1).name(), "Visits");
  EXPECT_EQ(state.parameters(1).number_value(), 1);
  EXPECT_EQ(state.parameters(2).name(), "Score");
  EXPECT_EQ(state.parameters(2).number_value(), 7);
  ASSERT_THAT(transient, SizeIs(1));
  EXPECT_EQ(transient[0].name(), "Cart");
  EXPECT_EQ(transient[0].string_value(), "42");

  // A transient value does not touch the session's persistent one, and is
  // gone from the next call.
  ASSERT_TRUE(
      ApplyParameters(state, Params({String("visits", "9", true)}), &transient)
          .ok());
  EXPECT_EQ(state.parameters(1).number_value(), 1);
  ASSERT_THAT(transient, SizeIs(1));
  ASSERT_TRUE(ApplyParameters(state, Params({}), &transient).ok());
  EXPECT_THAT(transient, SizeIs(0));
  ASSERT_TRUE(
      ApplyParameters(state, Params({String("x", "y", true)}), nullptr).ok());
  EXPECT_EQ(state.parameters_size(), 3);
}

TEST(ApplyParametersTest, InvalidCallsNameTheIndexAndChangeNothing) {
  SessionState state;
  *state.add_parameters() = String("Channel", "web");
  const SessionState before = state;
  std::vector<NameValue> transient;

  NameValue unset;
  unset.set_name("Unset");
  EXPECT_THAT(
      ApplyParameters(state, Params({String("Channel", "x"), String("", "v")}),
                      &transient),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("parameters[1]: empty name")));
  EXPECT_THAT(ApplyParameters(state,
                              Params({String("Channel", "x"), Number("a", 1),
                                      String("A", "b", true)}),
                              &transient),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("parameters[2] (A): duplicate of "
                                 "parameters[1]")));
  EXPECT_THAT(ApplyParameters(state, Params({String("Channel", "x"), unset}),
                              &transient),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("parameters[1] (Unset): value not set")));
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(state, before));
}

// ---------------------------------------------------------------- store

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

SessionState NewSession(const std::string& id) {
  SessionState state;
  state.set_session_id(id);
  state.set_interactive_channel("web");
  return state;
}

LocalSessionStoreOptions Options(int max_entries, int num_shards = 16) {
  LocalSessionStoreOptions options;
  options.max_entries = max_entries;
  options.num_shards = num_shards;
  options.timeout = absl::Seconds(300);
  return options;
}

std::vector<std::string> Ids(const std::vector<RetiredSession>& retired,
                             RetireReason reason) {
  std::vector<std::string> ids;
  for (const RetiredSession& session : retired) {
    if (session.reason == reason) ids.push_back(session.state.session_id());
  }
  return ids;
}

TEST(LocalSessionStoreTest, CreateGetReplaceAndRelyOnExisting) {
  LocalSessionStore store(Options(100));
  EXPECT_THAT(store.Get("s1", kT0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("s1")));
  EXPECT_THAT(store.Create(NewSession(""), false, kT0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("id")));

  SessionState first = NewSession("s1");
  first.set_audience_level("Customer");
  absl::StatusOr<uint64_t> v1 = store.Create(first, false, kT0);
  ASSERT_TRUE(v1.ok());
  absl::StatusOr<SessionState> got = store.Get("s1", kT0 + absl::Seconds(1));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->audience_level(), "Customer");
  EXPECT_EQ(got->version(), *v1);
  EXPECT_EQ(got->last_access_time().seconds(), 1700000001);

  // rely_on_existing_session: the live session is kept as it is.
  SessionState second = NewSession("s1");
  second.set_audience_level("Household");
  EXPECT_THAT(store.Create(second, false, kT0 + absl::Seconds(2)),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("s1")));
  EXPECT_EQ(store.Get("s1", kT0 + absl::Seconds(2))->audience_level(),
            "Customer");

  // A second StartSession replaces the first, which is reported.
  absl::StatusOr<uint64_t> v2 = store.Create(second, true, kT0);
  ASSERT_TRUE(v2.ok());
  EXPECT_NE(*v2, *v1);
  EXPECT_EQ(store.Get("s1", kT0)->audience_level(), "Household");
  EXPECT_EQ(store.size(), 1u);
  std::vector<RetiredSession> retired = store.ExpireIdle(kT0);
  ASSERT_THAT(retired, SizeIs(1));
  EXPECT_EQ(retired[0].reason, RetireReason::kReplaced);
  EXPECT_EQ(retired[0].state.audience_level(), "Customer");

  ASSERT_TRUE(store.Remove("s1", kT0).ok());
  EXPECT_THAT(store.Remove("s1", kT0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("s1")));
  EXPECT_THAT(store.Get("s1", kT0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("s1")));
  EXPECT_EQ(store.size(), 0u);
}

TEST(LocalSessionStoreTest, ExpiresExactlyAtTheTimeout) {
  LocalSessionStore store(Options(100));
  ASSERT_TRUE(store.Create(NewSession("s"), false, kT0).ok());
  const absl::Time last = kT0 + absl::Seconds(300) - absl::Nanoseconds(1);
  ASSERT_TRUE(store.Get("s", last).ok());  // Touches it.
  ASSERT_TRUE(
      store.Get("s", last + absl::Seconds(300) - absl::Nanoseconds(1)).ok());
  const absl::Time last2 = last + absl::Seconds(300) - absl::Nanoseconds(1);
  EXPECT_THAT(store.Get("s", last2 + absl::Seconds(300)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("s")));
  // Invisible to every call once expired; creating anew is allowed.
  SessionState fresh = NewSession("s");
  ASSERT_TRUE(store.Create(fresh, false, last2 + absl::Seconds(300)).ok());
  std::vector<RetiredSession> retired =
      store.ExpireIdle(last2 + absl::Seconds(300));
  EXPECT_THAT(Ids(retired, RetireReason::kExpired), UnorderedElementsAre("s"));
  EXPECT_THAT(retired, SizeIs(1));
}

TEST(LocalSessionStoreTest, ExpiredSessionsCannotBeUpdatedOrRemoved) {
  LocalSessionStore store(Options(100));
  ASSERT_TRUE(store.Create(NewSession("s"), false, kT0).ok());
  SessionState state = *store.Get("s", kT0);
  const absl::Time late = kT0 + absl::Seconds(300);
  EXPECT_THAT(store.Update(state, late),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("s")));
  ASSERT_TRUE(store.Create(NewSession("t"), false, kT0).ok());
  EXPECT_THAT(store.Remove("t", late),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("t")));
  EXPECT_THAT(Ids(store.ExpireIdle(late), RetireReason::kExpired),
              UnorderedElementsAre("s", "t"));
}

TEST(LocalSessionStoreTest, EvictsTheLeastRecentlyUsed) {
  LocalSessionStore store(Options(3, /*num_shards=*/1));
  ASSERT_TRUE(store.Create(NewSession("a"), false, kT0).ok());
  ASSERT_TRUE(
      store.Create(NewSession("b"), false, kT0 + absl::Seconds(1)).ok());
  ASSERT_TRUE(
      store.Create(NewSession("c"), false, kT0 + absl::Seconds(2)).ok());
  ASSERT_TRUE(store.Get("a", kT0 + absl::Seconds(3)).ok());
  ASSERT_TRUE(
      store.Create(NewSession("d"), false, kT0 + absl::Seconds(4)).ok());
  EXPECT_THAT(store.Get("b", kT0 + absl::Seconds(5)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("b")));
  SessionState c = *store.Get("c", kT0 + absl::Seconds(5));
  ASSERT_TRUE(store.Update(c, kT0 + absl::Seconds(6)).ok());
  // Now a is the least recently used.
  ASSERT_TRUE(
      store.Create(NewSession("e"), false, kT0 + absl::Seconds(7)).ok());
  EXPECT_EQ(store.size(), 3u);
  std::vector<RetiredSession> retired =
      store.ExpireIdle(kT0 + absl::Seconds(8));
  ASSERT_THAT(retired, SizeIs(2));
  EXPECT_EQ(retired[0].state.session_id(), "b");
  EXPECT_EQ(retired[0].reason, RetireReason::kEvicted);
  EXPECT_EQ(retired[1].state.session_id(), "a");
  EXPECT_EQ(retired[1].reason, RetireReason::kEvicted);
  for (const char* id : {"c", "d", "e"}) {
    EXPECT_TRUE(store.Get(id, kT0 + absl::Seconds(9)).ok()) << id;
  }
}

TEST(LocalSessionStoreTest, ShardedStoreStaysWithinMaxEntries) {
  LocalSessionStore store(Options(100));
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(
        store.Create(NewSession(absl::StrCat("s", i)), false, kT0).ok());
    ASSERT_LE(store.size(), 100u);
  }
  EXPECT_EQ(store.size(), 100u);
  EXPECT_THAT(store.ExpireIdle(kT0), SizeIs(900));
  // The newest session of all is always kept.
  EXPECT_TRUE(store.Get("s999", kT0).ok());
}

TEST(LocalSessionStoreTest, UpdateIsCompareAndSet) {
  LocalSessionStore store(Options(100));
  ASSERT_TRUE(store.Create(NewSession("s"), false, kT0).ok());
  SessionState read = *store.Get("s", kT0);
  SessionState stale = read;

  (*read.mutable_offers())["Gold"].set_presentations(1);
  absl::StatusOr<uint64_t> v2 = store.Update(read, kT0);
  ASSERT_TRUE(v2.ok());
  EXPECT_NE(*v2, read.version());

  (*stale.mutable_offers())["Silver"].set_presentations(1);
  EXPECT_THAT(store.Update(stale, kT0),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("version")));
  SessionState now = *store.Get("s", kT0);
  EXPECT_EQ(now.version(), *v2);
  EXPECT_EQ(now.offers().count("Gold"), 1u);
  EXPECT_EQ(now.offers().count("Silver"), 0u);
  EXPECT_THAT(store.Update(NewSession("missing"), kT0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing")));

  // A re-created session never takes an old version.
  ASSERT_TRUE(store.Remove("s", kT0).ok());
  ASSERT_TRUE(store.Create(NewSession("s"), false, kT0).ok());
  EXPECT_THAT(store.Update(now, kT0),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("version")));
}

TEST(LocalSessionStoreTest, ConcurrentCasRetriesLoseNoIncrement) {
  constexpr int kThreads = 8;
  constexpr int kIncrements = 1000;
  LocalSessionStore store(Options(100));
  ASSERT_TRUE(store.Create(NewSession("s"), false, kT0).ok());
  std::vector<std::thread> threads;
  std::vector<int> errors(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, &errors, t] {
      for (int i = 0; i < kIncrements; ++i) {
        while (true) {
          absl::StatusOr<SessionState> state = store.Get("s", kT0);
          if (!state.ok()) {
            ++errors[t];
            return;
          }
          auto& history = (*state->mutable_offers())["Gold"];
          history.set_presentations(history.presentations() + 1);
          absl::StatusOr<uint64_t> version = store.Update(*state, kT0);
          if (version.ok()) break;
          if (version.status().code() != absl::StatusCode::kAborted) {
            ++errors[t];
            return;
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(errors, ::testing::Each(0));
  EXPECT_EQ(store.Get("s", kT0)->offers().at("Gold").presentations(),
            static_cast<uint32_t>(kThreads * kIncrements));
}

TEST(LocalSessionStoreTest, ExpireIdleReturnsExactlyTheExpired) {
  LocalSessionStore store(Options(1000));
  for (int i = 0; i < 10; ++i) {
    // s<i> is last accessed at kT0 + i seconds.
    ASSERT_TRUE(store
                    .Create(NewSession(absl::StrCat("s", i)), false,
                            kT0 + absl::Seconds(i))
                    .ok());
  }
  EXPECT_THAT(store.ExpireIdle(kT0 + absl::Seconds(299)), SizeIs(0));
  // Idle exactly 300 s: s0..s3.
  std::vector<RetiredSession> retired =
      store.ExpireIdle(kT0 + absl::Seconds(303));
  EXPECT_THAT(Ids(retired, RetireReason::kExpired),
              UnorderedElementsAre("s0", "s1", "s2", "s3"));
  EXPECT_THAT(retired, SizeIs(4));
  for (const RetiredSession& session : retired) {
    EXPECT_EQ(absl::StrCat("s", session.state.last_access_time().seconds() -
                                    absl::ToUnixSeconds(kT0)),
              session.state.session_id());
  }
  EXPECT_EQ(store.size(), 6u);
  EXPECT_THAT(store.ExpireIdle(kT0 + absl::Seconds(303)), SizeIs(0));

  // A shorter group timeout applies at once.
  store.SetTimeout(absl::Seconds(100));
  EXPECT_EQ(store.timeout(), absl::Seconds(100));
  retired = store.ExpireIdle(kT0 + absl::Seconds(107));
  EXPECT_THAT(Ids(retired, RetireReason::kExpired),
              UnorderedElementsAre("s4", "s5", "s6", "s7"));
  EXPECT_THAT(retired, SizeIs(4));
  for (const char* id : {"s8", "s9"}) {
    EXPECT_TRUE(store.Get(id, kT0 + absl::Seconds(107)).ok()) << id;
  }
}

// ---------------------------------------------------------------- proto

TEST(SessionStateTest, RoundTripsThroughSerialization) {
  SessionState state = NewSession("s");
  state.set_deployment_version(7);
  state.set_audience_level("Customer");
  *state.add_audience_id() = Number("CustomerID", 42);
  *state.add_profile() = String("Tier", "Gold");
  *state.add_parameters() = String("Channel", "web");
  state.add_segments("HighValue");
  state.set_segmentation_status(parley::v1::SEGMENTATION_FAILED);
  state.set_segmentation_error("boom");
  auto& history = (*state.mutable_offers())["Gold"];
  history.set_presentations(3);
  history.set_accepted(true);
  (*state.mutable_offers())["Silver"].set_rejected(true);
  parley::v1::Presentation* shown = state.add_last_recommended();
  shown->set_treatment_code(TreatmentCodeGenerator(1).Next());
  shown->set_offer("Gold");
  shown->set_interaction_point("Hero");
  shown->set_score(0.5);
  shown->mutable_presented_at()->set_seconds(1700000000);
  state.set_debug(true);
  state.mutable_start_time()->set_seconds(1700000000);
  state.mutable_last_access_time()->set_nanos(5);
  state.set_sequence(11);
  state.set_version(12);

  SessionState parsed;
  ASSERT_TRUE(parsed.ParseFromString(state.SerializeAsString()));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, state))
      << parsed.DebugString();
  EXPECT_EQ(parsed.offers().at("Gold").presentations(), 3u);
}

}  // namespace
}  // namespace parley::session
