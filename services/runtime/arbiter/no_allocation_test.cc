// Proves that arbitration does not touch the heap once the scratch and the
// output vector are warmed up: this binary replaces the global operator new
// and counts every allocation.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/common/testing/allocation_counter.h"
#include "services/runtime/arbiter/arbiter.h"
#include "services/runtime/arbiter/test_channel.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/value.h"
namespace parley::arbiter {
namespace {

using ::parley::arbiter::testing::AddRule;
using ::parley::arbiter::testing::BaseChannel;
using ::parley::arbiter::testing::CompileOrDie;

TEST(NoAllocationTest, CounterSeesAllocations) {
  const long before = ::parley::testing::AllocationCount();
  auto* text = new std::string(100, 'x');
  delete text;
  EXPECT_GT(::parley::testing::AllocationCount(), before);
}

TEST(NoAllocationTest, ArbitrationDoesNotAllocateAfterWarmUp) {
  v1::InteractiveChannel proto = BaseChannel(20);
  proto.mutable_suppression()->set_max_presentations_per_session(3);
  const char* const kSegments[] = {"Gold", "Young", "Everyone"};
  const char* const kZones[] = {"Hero", "Checkout", ""};
  for (int i = 0; i < 60; ++i) {
    v1::TreatmentRule* rule =
        AddRule(proto, absl::StrCat("r", i), kSegments[i % 3], kZones[i % 3],
                absl::StrCat("O", i % 20), i % 7 * 10);
    if (i % 2 == 0) rule->set_eligibility("Tier LIKE 'G%' OR Spend > 10");
    if (i % 3 == 0) {
      rule->set_score_expression("Spend / 2 + LENGTH(UPPER(Tier || 'x'))");
    }
  }
  const auto channel = CompileOrDie(proto);
  expression::Bindings bindings(channel->rule_schema());
  const int tier = *channel->rule_schema().Find("Tier");
  const int spend = *channel->rule_schema().Find("Spend");

  const std::vector<int> segments = {0, 1, 2};
  std::vector<OfferState> states(20);
  states[3].presentations = 3;
  states[4].accepted = true;
  const std::vector<int> excluded = {5, 6};
  ArbiterScratch scratch;
  std::vector<RankedOffer> out;
  ArbitrationStats stats;
  const char* const kTiers[] = {"Gold", "Silver", "Platinum member"};

  auto arbitrate = [&](int round) {
    if (!bindings.Set(tier, expression::Value::String(kTiers[round % 3]))
             .ok()) {
      std::abort();
    }
    if (!bindings.Set(spend, expression::Value::Number(round % 50)).ok()) {
      std::abort();
    }
    ArbitrationInput input;
    input.zone = round % 2;
    input.segments = absl::MakeConstSpan(segments).subspan(round % 3);
    input.requested = 1 + round % 10;
    input.now_millis = 1704067200000;
    input.bindings = &bindings;
    input.offer_states = states;
    if (round % 2 == 0) input.excluded_offers = excluded;
    input.ignore_suppression = round % 5 == 0;
    input.tie_break_seed = static_cast<uint64_t>(round);
    if (!Arbitrate(*channel, input, scratch, &out, &stats).ok()) std::abort();
  };

  for (int round = 0; round < 30; ++round) arbitrate(round);  // Warm-up.

  size_t returned = 0;
  int considered = 0;
  const long before = ::parley::testing::AllocationCount();
  for (int round = 0; round < 3000; ++round) {
    arbitrate(round);
    returned += out.size();
    considered += stats.rules_considered;
  }
  const long after = ::parley::testing::AllocationCount();
  EXPECT_EQ(after - before, 0);
  EXPECT_GT(returned, 0u);
  EXPECT_GT(considered, 0);
}

}  // namespace
}  // namespace parley::arbiter
