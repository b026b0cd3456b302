// Proves that evaluating compiled expressions does not touch the heap once
// the scratch is warmed up: this binary replaces the global operator new and
// counts every allocation.
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/common/testing/allocation_counter.h"
#include "services/runtime/expression/expression.h"

namespace parley::expression {
namespace {

constexpr int64_t k20240131 = 1706659200000;
constexpr int64_t kMillisPerDay = 86400000;

// Every operator and function, over variables so nothing is folded away.
constexpr const char* kExpressions[] = {
    "-Age + Score * 2 - Age / 3 + Score % 7",
    "Age / Zero",
    "Name || ' ' || Tier || '!'",
    "Age = Score OR Age <> Score OR Age != 1 OR Age < 1 OR Age <= 2 OR "
    "Age > 3 OR Age >= 4",
    "Tier IN ('Gold', 'Platinum', Name) AND Age NOT IN (1, 2, Score)",
    "Age BETWEEN 18 AND Score OR Age NOT BETWEEN 1 AND 5",
    "Name IS NULL OR Tier IS NOT NULL",
    "Name LIKE '%a_a%' AND Tier NOT LIKE 'S%'",
    "NOT IsVip AND (IsVip OR Age > 30)",
    "UPPER(Name) || LOWER(Tier) || TRIM(Padded)",
    "LENGTH(Name) + LENGTH(SUBSTR(Name, 2, 3)) + LENGTH(SUBSTR(Tier, 2))",
    "CONTAINS(Name, 'Love') OR STARTS_WITH(Tier, 'G') OR "
    "ENDS_WITH(Name, 'e')",
    "ABS(-Score) + ROUND(Score / 7) + ROUND(Score / 7, 2) + FLOOR(Score / 3) "
    "+ CEIL(Score / 3)",
    "MIN(Age, Score, 50) + MAX(Age, Score, 1)",
    "MAX(Name, Tier) || MIN(Name, Tier)",
    "IF(IsVip, UPPER(Name), LOWER(Name))",
    "COALESCE(Nickname, Name, 'friend')",
    "DAYS_BETWEEN(LastPurchase, NOW()) > 30 AND "
    "LastPurchase < ADD_DAYS(NOW(), -7)",
    "YEAR(LastPurchase) + MONTH(LastPurchase) + DAY(LastPurchase) + "
    "HOUR(LastPurchase) + WEEKDAY(NOW())",
    "DATE(DateText) > LastPurchase",
    "TO_NUMBER(AgeText) + 1",
    "TO_STRING(Score / 3) || TO_STRING(Age) || TO_STRING(IsVip) || "
    "TO_STRING(LastPurchase) || TO_STRING(ADD_DAYS(LastPurchase, 0.5))",
    "'Hello ' || COALESCE(Nickname, UPPER(SUBSTR(Name, 1, 1)) || "
    "LOWER(SUBSTR(Name, 2)))",
};

// The inputs of one visitor; text lives here, bindings point at it.
struct Visitor {
  absl::optional<double> age;
  absl::optional<double> score;
  absl::optional<std::string> name;
  absl::optional<std::string> tier;
  absl::optional<std::string> nickname;
  absl::optional<bool> vip;
  absl::optional<int64_t> last_purchase;
  std::string padded;
  std::string date_text;
  std::string age_text;
};

class NoAllocationTest : public ::testing::Test {
 protected:
  NoAllocationTest() {
    age_ = *schema_.AddVariable("Age", Type::kNumber);
    score_ = *schema_.AddVariable("Score", Type::kNumber);
    zero_ = *schema_.AddVariable("Zero", Type::kNumber);
    name_ = *schema_.AddVariable("Name", Type::kString);
    tier_ = *schema_.AddVariable("Tier", Type::kString);
    nickname_ = *schema_.AddVariable("Nickname", Type::kString);
    padded_ = *schema_.AddVariable("Padded", Type::kString);
    date_text_ = *schema_.AddVariable("DateText", Type::kString);
    age_text_ = *schema_.AddVariable("AgeText", Type::kString);
    vip_ = *schema_.AddVariable("IsVip", Type::kBoolean);
    last_purchase_ = *schema_.AddVariable("LastPurchase", Type::kDateTime);
    visitors_ = {
        {42, 99.5, "Ada Lovelace", "Gold", absl::nullopt, true, k20240131,
         "  padded  ", "2024-02-01", "41"},
        {17, 3, "bob", "Silver", "Bobby", false, k20240131 - 90 * kMillisPerDay,
         "x", "not a date", "abc"},
        {absl::nullopt, absl::nullopt, absl::nullopt, absl::nullopt,
         absl::nullopt, absl::nullopt, absl::nullopt, "", "", ""},
        {30, 1e9 / 7, std::string(300, 'z'), "Platinum member of long standing",
         "Z", true, 0, std::string(200, ' ') + "y", "2024-01-31T10:00:00Z",
         " 1e3 "},
    };
  }

  void Fill(const Visitor& v, Bindings& bindings) {
    auto set = [&bindings](int slot, Value value) {
      if (!bindings.Set(slot, value).ok()) std::abort();
    };
    set(age_, v.age ? Value::Number(*v.age) : Value::Null());
    set(score_, v.score ? Value::Number(*v.score) : Value::Null());
    set(zero_, Value::Number(0));
    set(name_, v.name ? Value::String(*v.name) : Value::Null());
    set(tier_, v.tier ? Value::String(*v.tier) : Value::Null());
    set(nickname_, v.nickname ? Value::String(*v.nickname) : Value::Null());
    set(padded_, Value::String(v.padded));
    set(date_text_, Value::String(v.date_text));
    set(age_text_, Value::String(v.age_text));
    set(vip_, v.vip ? Value::Boolean(*v.vip) : Value::Null());
    set(last_purchase_,
        v.last_purchase ? Value::DateTime(*v.last_purchase) : Value::Null());
    bindings.SetNow(k20240131 + 40 * kMillisPerDay);
  }

  Schema schema_;
  int age_, score_, zero_, name_, tier_, nickname_, padded_, date_text_,
      age_text_, vip_, last_purchase_;
  std::vector<Visitor> visitors_;
};

TEST_F(NoAllocationTest, CounterSeesAllocations) {
  const long before = ::parley::testing::AllocationCount();
  auto* text = new std::string(100, 'x');
  delete text;
  EXPECT_GT(::parley::testing::AllocationCount(), before);
}

TEST_F(NoAllocationTest, EvaluationDoesNotAllocateAfterWarmUp) {
  std::vector<CompiledExpression> compiled;
  for (const char* source : kExpressions) {
    absl::StatusOr<CompiledExpression> expression = Compile(source, schema_);
    ASSERT_TRUE(expression.ok()) << source << ": " << expression.status();
    compiled.push_back(*std::move(expression));
  }
  Bindings bindings(schema_);
  EvaluationScratch scratch;

  // Warm-up: every expression once per visitor grows the scratch.
  for (const Visitor& visitor : visitors_) {
    Fill(visitor, bindings);
    for (const CompiledExpression& expression : compiled) {
      Evaluate(expression, bindings, scratch);
      EvaluateCondition(expression, bindings, scratch);
    }
  }

  constexpr int kRounds = 1000;
  size_t checksum = 0;
  int non_null = 0;
  const long before = ::parley::testing::AllocationCount();
  for (int round = 0; round < kRounds; ++round) {
    for (const Visitor& visitor : visitors_) {
      Fill(visitor, bindings);
      for (const CompiledExpression& expression : compiled) {
        const Value value = Evaluate(expression, bindings, scratch);
        if (!value.is_null()) ++non_null;
        checksum += value.string().size() + (value.boolean() ? 1 : 0);
        checksum += EvaluateCondition(expression, bindings, scratch) ? 1 : 0;
      }
    }
  }
  const long after = ::parley::testing::AllocationCount();

  EXPECT_EQ(after - before, 0)
      << "allocations during " << kRounds << " rounds of evaluations";
  EXPECT_GT(checksum, 0u);
  // Most results are real values, so the work was really done.
  EXPECT_GT(non_null, kRounds * static_cast<int>(std::size(kExpressions)) * 2);

  // Spot-check a few results for the first visitor.
  Fill(visitors_[0], bindings);
  EXPECT_EQ(Evaluate(compiled[2], bindings, scratch),
            Value::String("Ada Lovelace Gold!"));
  EXPECT_EQ(Evaluate(compiled[16], bindings, scratch),
            Value::String("Ada Lovelace"));
  EXPECT_EQ(Evaluate(compiled[22], bindings, scratch),
            Value::String("Hello Ada lovelace"));
  EXPECT_EQ(Evaluate(compiled[20], bindings, scratch), Value::Number(42));
}

}  // namespace
}  // namespace parley::expression
