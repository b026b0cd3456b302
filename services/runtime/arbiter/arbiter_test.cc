#include "services/runtime/arbiter/arbiter.h"

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/arbiter/test_channel.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/value.h"

namespace parley::arbiter {
namespace {

using ::parley::arbiter::testing::AddRule;
using ::parley::arbiter::testing::BaseChannel;
using ::parley::arbiter::testing::CompileOrDie;
using ::parley::arbiter::testing::SetMillis;
using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kJan2024 = 1704067200000;  // 2024-01-01T00:00:00Z.
constexpr int64_t kDay = 86400000;

class ArbiterTest : public ::testing::Test {
 protected:
  ArbiterTest() : proto_(BaseChannel(6)) {}

  // Compiles proto_; call after editing it.
  void Compile() {
    channel_ = CompileOrDie(proto_);
    bindings_ = std::make_unique<expression::Bindings>(channel_->rule_schema());
  }

  void SetTier(const char* tier) {
    const int slot = *channel_->rule_schema().Find("Tier");
    ASSERT_TRUE(bindings_
                    ->Set(slot, tier == nullptr
                                    ? expression::Value::Null()
                                    : expression::Value::String(tier))
                    .ok());
  }

  void SetSpend(absl::optional<double> spend) {
    const int slot = *channel_->rule_schema().Find("Spend");
    ASSERT_TRUE(bindings_
                    ->Set(slot, spend.has_value()
                                    ? expression::Value::Number(*spend)
                                    : expression::Value::Null())
                    .ok());
  }

  // An input for the visitor in `segments` at a point of `zone`.
  ArbitrationInput Input(const std::vector<std::string>& segments,
                         const std::string& zone, int requested = 10) {
    segments_.clear();
    for (const std::string& name : segments) {
      segments_.push_back(channel_->FindSegment(name));
    }
    ArbitrationInput input;
    input.zone = channel_->FindZone(zone);
    input.segments = segments_;
    input.requested = requested;
    input.now_millis = kJan2024;
    input.bindings = bindings_.get();
    return input;
  }

  // Runs the arbiter, expecting success.
  std::vector<RankedOffer> Run(const ArbitrationInput& input) {
    std::vector<RankedOffer> out;
    const absl::Status status =
        Arbitrate(*channel_, input, scratch_, &out, &stats_);
    EXPECT_TRUE(status.ok()) << status;
    return out;
  }

  // The offer names of `offers`, in order.
  std::vector<std::string> Names(const std::vector<RankedOffer>& offers) {
    std::vector<std::string> names;
    for (const RankedOffer& offer : offers) {
      names.push_back(channel_->offers()[offer.offer].name);
    }
    return names;
  }

  // The offer names for a Gold visitor in Hero.
  std::vector<std::string> GoldHero() {
    return Names(Run(Input({"Gold"}, "Hero")));
  }

  v1::InteractiveChannel proto_;
  std::shared_ptr<const channel::CompiledChannel> channel_;
  std::unique_ptr<expression::Bindings> bindings_;
  std::vector<int> segments_;
  ArbiterScratch scratch_;
  ArbitrationStats stats_;
};

TEST_F(ArbiterTest, BestScoreFirst) {
  AddRule(proto_, "a", "Gold", "Hero", "O0", 30);
  AddRule(proto_, "b", "Gold", "Hero", "O1", 90);
  AddRule(proto_, "c", "Gold", "Hero", "O2", 60);
  Compile();
  const std::vector<RankedOffer> out = Run(Input({"Gold"}, "Hero"));
  EXPECT_THAT(Names(out), ElementsAre("O1", "O2", "O0"));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].score, 90);
  EXPECT_EQ(out[0].rule, channel_->FindRule("b"));
  EXPECT_EQ(out[2].score, 30);
  EXPECT_EQ(out[2].rule, channel_->FindRule("a"));
}

TEST_F(ArbiterTest, UnsetMarketingScoreIsFifty) {
  AddRule(proto_, "a", "Gold", "Hero", "O0", absl::nullopt);
  AddRule(proto_, "b", "Gold", "Hero", "O1", 49);
  Compile();
  const std::vector<RankedOffer> out = Run(Input({"Gold"}, "Hero"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].offer, channel_->FindOffer("O0"));
  EXPECT_EQ(out[0].score, 50);
}

TEST_F(ArbiterTest, DuplicateOfferKeepsHigherScore) {
  AddRule(proto_, "low", "Gold", "Hero", "O0", 40);
  AddRule(proto_, "high", "Young", "", "O0", 70);
  AddRule(proto_, "later lower", "Everyone", "Hero", "O0", 55);
  AddRule(proto_, "other", "Gold", "Hero", "O1", 60);
  Compile();
  const std::vector<RankedOffer> out =
      Run(Input({"Gold", "Young", "Everyone"}, "Hero"));
  EXPECT_THAT(Names(out), ElementsAre("O0", "O1"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].score, 70);
  EXPECT_EQ(out[0].rule, channel_->FindRule("high"));
  EXPECT_EQ(stats_.rules_considered, 4);
}

TEST_F(ArbiterTest, ZoneRulesAndAllZoneRules) {
  AddRule(proto_, "hero", "Gold", "Hero", "O0", 80);
  AddRule(proto_, "everywhere", "Gold", "", "O1", 70);
  AddRule(proto_, "checkout", "Gold", "Checkout", "O2", 90);
  AddRule(proto_, "young", "Young", "Hero", "O3", 95);
  Compile();
  EXPECT_THAT(GoldHero(), ElementsAre("O0", "O1"));
  EXPECT_EQ(stats_.rules_considered, 2);
  EXPECT_THAT(Names(Run(Input({"Gold"}, "Checkout"))), ElementsAre("O2", "O1"));
  EXPECT_THAT(Names(Run(Input({"Gold"}, "Footer"))), ElementsAre("O1"));
  EXPECT_THAT(Names(Run(Input({}, "Hero"))), IsEmpty());
}

TEST_F(ArbiterTest, DisabledRulesIgnored) {
  AddRule(proto_, "off", "Gold", "Hero", "O0", 80)->set_disabled(true);
  AddRule(proto_, "on", "Gold", "Hero", "O1", 70);
  Compile();
  EXPECT_THAT(GoldHero(), ElementsAre("O1"));
}

TEST_F(ArbiterTest, RuleDates) {
  v1::TreatmentRule* rule = AddRule(proto_, "a", "Gold", "Hero", "O0", 80);
  SetMillis(kJan2024, rule->mutable_effective_time());
  SetMillis(kJan2024 + kDay, rule->mutable_expiration_time());
  AddRule(proto_, "b", "Gold", "Hero", "O1", 70);
  Compile();
  ArbitrationInput input = Input({"Gold"}, "Hero");
  input.now_millis = kJan2024 - 1;
  EXPECT_THAT(Names(Run(input)), ElementsAre("O1"));
  input.now_millis = kJan2024;
  EXPECT_THAT(Names(Run(input)), ElementsAre("O0", "O1"));
  input.now_millis = kJan2024 + kDay - 1;
  EXPECT_THAT(Names(Run(input)), ElementsAre("O0", "O1"));
  input.now_millis = kJan2024 + kDay;
  EXPECT_THAT(Names(Run(input)), ElementsAre("O1"));
}

TEST_F(ArbiterTest, OfferDates) {
  SetMillis(kJan2024, proto_.mutable_offers(0)->mutable_effective_time());
  SetMillis(kJan2024 + kDay,
            proto_.mutable_offers(1)->mutable_expiration_time());
  AddRule(proto_, "a", "Gold", "Hero", "O0", 80);
  AddRule(proto_, "b", "Gold", "Hero", "O1", 70);
  Compile();
  ArbitrationInput input = Input({"Gold"}, "Hero");
  input.now_millis = kJan2024 - 1;
  EXPECT_THAT(Names(Run(input)), ElementsAre("O1"));
  input.now_millis = kJan2024;
  EXPECT_THAT(Names(Run(input)), ElementsAre("O0", "O1"));
  input.now_millis = kJan2024 + kDay;
  EXPECT_THAT(Names(Run(input)), ElementsAre("O0"));
}

TEST_F(ArbiterTest, Eligibility) {
  AddRule(proto_, "gold only", "Gold", "Hero", "O0", 80)
      ->set_eligibility("Tier = 'Gold'");
  AddRule(proto_, "always", "Gold", "Hero", "O1", 70);
  Compile();
  SetTier("Gold");
  EXPECT_THAT(GoldHero(), ElementsAre("O0", "O1"));
  EXPECT_EQ(stats_.expressions_evaluated, 1);
  SetTier("Silver");
  EXPECT_THAT(GoldHero(), ElementsAre("O1"));
  SetTier(nullptr);
  EXPECT_THAT(GoldHero(), ElementsAre("O1"));
}

TEST_F(ArbiterTest, ScoreExpressionAndFallback) {
  AddRule(proto_, "scored", "Gold", "Hero", "O0", 30)
      ->set_score_expression("Spend * 2");
  AddRule(proto_, "fixed", "Gold", "Hero", "O1", 60);
  Compile();
  SetSpend(40);
  std::vector<RankedOffer> out = Run(Input({"Gold"}, "Hero"));
  EXPECT_THAT(Names(out), ElementsAre("O0", "O1"));
  EXPECT_EQ(out[0].score, 80);
  EXPECT_EQ(stats_.expressions_evaluated, 1);
  SetSpend(250);  // Beyond the marketing range is allowed.
  EXPECT_EQ(Run(Input({"Gold"}, "Hero"))[0].score, 500);
  SetSpend(absl::nullopt);  // NULL: the marketing score.
  out = Run(Input({"Gold"}, "Hero"));
  EXPECT_THAT(Names(out), ElementsAre("O1", "O0"));
  EXPECT_EQ(out[1].score, 30);
  SetSpend(1e308);  // Infinite: the marketing score.
  out = Run(Input({"Gold"}, "Hero"));
  EXPECT_THAT(Names(out), ElementsAre("O1", "O0"));
  EXPECT_EQ(out[1].score, 30);
}

class SuppressionTest : public ArbiterTest {
 protected:
  SuppressionTest() {
    for (int i = 0; i < 4; ++i) {
      AddRule(proto_, absl::StrCat("r", i), "Gold", "Hero",
              absl::StrCat("O", i), 90 - i);
    }
    proto_.mutable_suppression()->set_max_presentations_per_session(2);
    states_.resize(4);
    states_[0].presentations = 2;
    states_[1].presentations = 1;
    states_[2].accepted = true;
    states_[3].rejected = true;
  }

  std::vector<std::string> Serve(bool ignore_suppression = false) {
    ArbitrationInput input = Input({"Gold"}, "Hero");
    input.offer_states = states_;
    input.excluded_offers = excluded_;
    input.ignore_suppression = ignore_suppression;
    return Names(Run(input));
  }

  std::vector<OfferState> states_;
  std::vector<int> excluded_;
};

TEST_F(SuppressionTest, DefaultSettings) {
  Compile();
  EXPECT_THAT(Serve(), ElementsAre("O1"));
}

TEST_F(SuppressionTest, NoPresentationLimit) {
  proto_.mutable_suppression()->set_max_presentations_per_session(0);
  Compile();
  EXPECT_THAT(Serve(), ElementsAre("O0", "O1"));
}

TEST_F(SuppressionTest, KeepAccepted) {
  proto_.mutable_suppression()->set_keep_accepted(true);
  Compile();
  EXPECT_THAT(Serve(), ElementsAre("O1", "O2"));
}

TEST_F(SuppressionTest, KeepRejected) {
  proto_.mutable_suppression()->set_keep_rejected(true);
  Compile();
  EXPECT_THAT(Serve(), ElementsAre("O1", "O3"));
}

TEST_F(SuppressionTest, IgnoreSuppression) {
  Compile();
  EXPECT_THAT(Serve(/*ignore_suppression=*/true),
              ElementsAre("O0", "O1", "O2", "O3"));
}

TEST_F(SuppressionTest, ExcludedOffersEvenIgnoringSuppression) {
  Compile();
  excluded_ = {channel_->FindOffer("O0"), channel_->FindOffer("O2")};
  EXPECT_THAT(Serve(/*ignore_suppression=*/true), ElementsAre("O1", "O3"));
  EXPECT_THAT(Serve(), ElementsAre("O1"));
  excluded_.clear();  // Exclusions do not leak into the next call.
  EXPECT_THAT(Serve(/*ignore_suppression=*/true),
              ElementsAre("O0", "O1", "O2", "O3"));
}

TEST_F(ArbiterTest, RequestedLimitsResults) {
  for (int i = 0; i < 5; ++i) {
    AddRule(proto_, absl::StrCat("r", i), "Gold", "Hero", absl::StrCat("O", i),
            10 * i);
  }
  Compile();
  EXPECT_THAT(Names(Run(Input({"Gold"}, "Hero", 2))), ElementsAre("O4", "O3"));
  EXPECT_THAT(Names(Run(Input({"Gold"}, "Hero", 1))), ElementsAre("O4"));
  EXPECT_EQ(Run(Input({"Gold"}, "Hero", kMaxRequestedOffers)).size(), 5u);
}

TEST_F(ArbiterTest, InvalidInputs) {
  AddRule(proto_, "a", "Gold", "Hero", "O0", 80);
  Compile();
  std::vector<RankedOffer> out = {RankedOffer{}};
  auto check = [&](const ArbitrationInput& input) {
    EXPECT_THAT(Arbitrate(*channel_, input, scratch_, &out, &stats_),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
    EXPECT_THAT(out, IsEmpty());
  };
  check(Input({"Gold"}, "Hero", 0));
  check(Input({"Gold"}, "Hero", kMaxRequestedOffers + 1));
  check(Input({"Gold"}, "Nowhere"));
  ArbitrationInput input = Input({"Gold"}, "Hero");
  input.bindings = nullptr;
  check(input);
  const std::vector<int> bad_segments = {7};
  input = Input({"Gold"}, "Hero");
  input.segments = bad_segments;
  check(input);
  const std::vector<int> bad_offers = {-1};
  input = Input({"Gold"}, "Hero");
  input.excluded_offers = bad_offers;
  check(input);
}

TEST_F(ArbiterTest, RandomTieBreakIsReproduciblePerSeedAndFair) {
  for (int i = 0; i < 4; ++i) {
    AddRule(proto_, absl::StrCat("tie", i), "Gold", "Hero",
            absl::StrCat("O", i), 50);
  }
  AddRule(proto_, "best", "Gold", "Hero", "O4", 60);
  proto_.set_tie_break(v1::TIE_BREAK_RANDOM);
  Compile();
  std::set<std::string> first_tied;
  std::set<std::vector<std::string>> orders;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    ArbitrationInput input = Input({"Gold"}, "Hero");
    input.tie_break_seed = seed;
    const std::vector<std::string> names = Names(Run(input));
    ASSERT_EQ(names.size(), 5u);
    EXPECT_EQ(names[0], "O4");  // Scores still come first.
    EXPECT_EQ(Names(Run(input)), names) << "seed " << seed;
    first_tied.insert(names[1]);
    orders.insert(names);
  }
  EXPECT_THAT(first_tied, ElementsAre("O0", "O1", "O2", "O3"));
  EXPECT_GT(orders.size(), 10u);
}

TEST_F(ArbiterTest, NewerOfferTieBreak) {
  SetMillis(kJan2024 - 100 * kDay,
            proto_.mutable_offers(0)->mutable_effective_time());
  SetMillis(kJan2024 - kDay,
            proto_.mutable_offers(1)->mutable_effective_time());
  // O2 and O3 have no effective time: oldest, later-defined first.
  for (const char* offer : {"O2", "O0", "O3", "O1"}) {
    AddRule(proto_, absl::StrCat("r", offer), "Gold", "Hero", offer, 50);
  }
  AddRule(proto_, "best", "Gold", "Hero", "O5", 51);
  proto_.set_tie_break(v1::TIE_BREAK_NEWER_OFFER);
  Compile();
  for (uint64_t seed : {0, 1, 2}) {
    ArbitrationInput input = Input({"Gold"}, "Hero");
    input.tie_break_seed = seed;
    EXPECT_THAT(Names(Run(input)), ElementsAre("O5", "O1", "O0", "O3", "O2"));
  }
}

TEST_F(ArbiterTest, CostDoesNotGrowWithUnrelatedRules) {
  AddRule(proto_, "hero", "Gold", "Hero", "O0", 80)
      ->set_eligibility("Tier = 'Gold'");
  AddRule(proto_, "all zones", "Gold", "", "O1", 70)
      ->set_score_expression("Spend");
  AddRule(proto_, "hero 2", "Gold", "Hero", "O2", 60);
  const char* const kOtherSegments[] = {"Young", "Everyone"};
  const char* const kZones[] = {"Hero", "Checkout", "Footer", ""};
  for (int i = 0; i < 1000; ++i) {
    // Other segments in any zone, or Gold in other zones.
    const bool gold = i % 3 == 0;
    v1::TreatmentRule* rule =
        AddRule(proto_, absl::StrCat("unrelated", i),
                gold ? "Gold" : kOtherSegments[i % 2],
                gold ? (i % 2 == 0 ? "Checkout" : "Footer") : kZones[i % 4],
                absl::StrCat("O", i % 6), 99);
    rule->set_eligibility("Tier = 'Gold'");
    rule->set_score_expression("Spend + 1");
  }
  Compile();
  SetTier("Gold");
  SetSpend(65);
  EXPECT_THAT(GoldHero(), ElementsAre("O0", "O1", "O2"));
  EXPECT_EQ(stats_.rules_considered, 3);
  EXPECT_EQ(stats_.expressions_evaluated, 2);
}

}  // namespace
}  // namespace parley::arbiter
