#include "services/runtime/expression/expression.h"

#include <deque>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/status_matchers.h"

namespace parley::expression {
namespace {

using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

// Midnight UTC of some dates, in milliseconds since the epoch.
constexpr int64_t k20240101 = 1704067200000;
constexpr int64_t k20240131 = 1706659200000;
constexpr int64_t kMillisPerDay = 86400000;

// Variables every test may use, in slot order.
enum Slot { kAge, kTier, kName, kVip, kLastPurchase, kChannel, kScore };

Schema TestSchema() {
  Schema schema;
  EXPECT_EQ(*schema.AddVariable("Age", Type::kNumber), kAge);
  EXPECT_EQ(*schema.AddVariable("Profile.Tier", Type::kString), kTier);
  EXPECT_EQ(*schema.AddVariable("Name", Type::kString), kName);
  EXPECT_EQ(*schema.AddVariable("IsVip", Type::kBoolean), kVip);
  EXPECT_EQ(*schema.AddVariable("LastPurchase", Type::kDateTime),
            kLastPurchase);
  EXPECT_EQ(*schema.AddVariable("session.channel", Type::kString), kChannel);
  EXPECT_EQ(*schema.AddVariable("Score", Type::kNumber), kScore);
  return schema;
}

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest() : schema_(TestSchema()), bindings_(schema_) {}

  void Set(int slot, const Value& value) {
    ASSERT_TRUE(bindings_.Set(slot, value).ok());
  }

  // Compiles `source` (failing the test on errors) and keeps it alive while
  // the values it returns are checked.
  const CompiledExpression* CompileOk(absl::string_view source) {
    absl::StatusOr<CompiledExpression> compiled = Compile(source, schema_);
    EXPECT_TRUE(compiled.ok()) << source << ": " << compiled.status();
    if (!compiled.ok()) return nullptr;
    compiled_.push_back(*std::move(compiled));
    return &compiled_.back();
  }

  Value Eval(absl::string_view source) {
    const CompiledExpression* compiled = CompileOk(source);
    if (compiled == nullptr) return Value::Null();
    return Evaluate(*compiled, bindings_, scratch_);
  }

  bool Condition(absl::string_view source) {
    const CompiledExpression* compiled = CompileOk(source);
    return compiled != nullptr &&
           EvaluateCondition(*compiled, bindings_, scratch_);
  }

  absl::Status CompileStatus(absl::string_view source,
                             absl::optional<Type> type = absl::nullopt) {
    return Compile(source, schema_, type).status();
  }

  Schema schema_;
  Bindings bindings_;
  EvaluationScratch scratch_;
  std::deque<CompiledExpression> compiled_;
};

Value N(double number) { return Value::Number(number); }
Value S(absl::string_view text) { return Value::String(text); }
Value B(bool boolean) { return Value::Boolean(boolean); }
Value D(int64_t millis) { return Value::DateTime(millis); }
Value Null(Type type) { return Value::Null(type); }

struct Case {
  const char* source;
  Value expected;
};

// Evaluates each case and compares with its expected value.
#define EXPECT_CASES(...)                                          \
  for (const Case& c : std::initializer_list<Case>{__VA_ARGS__}) { \
    EXPECT_EQ(Eval(c.source), c.expected) << c.source;             \
  }

TEST_F(ExpressionTest, Literals) {
  EXPECT_CASES({"12", N(12)}, {"3.5", N(3.5)}, {".5", N(0.5)}, {"1e3", N(1000)},
               {"'text'", S("text")}, {"'it''s'", S("it's")}, {"''", S("")},
               {"TRUE", B(true)}, {"false", B(false)},
               {"NULL", Null(Type::kNull)}, {"'é'", S("é")});
}

TEST_F(ExpressionTest, Precedence) {
  EXPECT_CASES(
      {"1 + 2 * 3", N(7)}, {"(1 + 2) * 3", N(9)}, {"-2 * 3", N(-6)},
      {"- -2", N(2)}, {"10 - 4 - 3", N(3)}, {"12 / 3 / 2", N(2)},
      {"2 * 7 % 4", N(2)}, {"1 + 2 = 3", B(true)}, {"NOT 1 = 2", B(true)},
      {"TRUE OR FALSE AND FALSE", B(true)},
      {"(TRUE OR FALSE) AND FALSE", B(false)},
      {"NOT FALSE AND FALSE", B(false)}, {"'a' || 'b' || 'c'", S("abc")},
      {"'n' || TO_STRING(1 + 2) = 'n3'", B(true)}, {"1 < 2 = TRUE", B(true)},
      {"3 BETWEEN 1 + 1 AND 2 * 2 AND TRUE", B(true)},
      {"NOT 5 IN (1, 2)", B(true)});
}

TEST_F(ExpressionTest, KeywordsAndNamesIgnoreCase) {
  Set(kAge, N(40));
  Set(kTier, S("Gold"));
  Set(kChannel, S("web"));
  EXPECT_CASES({"age", N(40)}, {"AGE + 1", N(41)}, {"profile.tier", S("Gold")},
               {"Session.Channel = 'web'", B(true)},
               {"age between 30 and 50 and not isvip is null", B(false)},
               {"upper(PROFILE.TIER)", S("GOLD")});
}

TEST_F(ExpressionTest, UnsetVariablesAreNull) {
  EXPECT_EQ(Eval("Age"), Null(Type::kNumber));
  EXPECT_EQ(Eval("Name"), Null(Type::kString));
  EXPECT_EQ(Eval("Age > 18"), Null(Type::kBoolean));
  EXPECT_FALSE(Condition("Age > 18"));
  EXPECT_FALSE(Condition("NOT Age > 18"));
  EXPECT_TRUE(Condition("Age IS NULL"));
}

TEST_F(ExpressionTest, Arithmetic) {
  Set(kAge, N(30));
  Set(kScore, N(0));
  EXPECT_CASES({"Age + 1.5", N(31.5)}, {"Age - 40", N(-10)}, {"Age * 2", N(60)},
               {"Age / 4", N(7.5)}, {"Age % 7", N(2)}, {"-Age", N(-30)},
               {"Age / Score", Null(Type::kNumber)},
               {"Age % Score", Null(Type::kNumber)},
               {"1 / 0", Null(Type::kNumber)}, {"0.1 + 0.2 > 0.3", B(true)});
}

TEST_F(ExpressionTest, NullPropagatesThroughOperators) {
  EXPECT_CASES(
      {"NULL + 1", Null(Type::kNumber)}, {"-Age", Null(Type::kNumber)},
      {"Age * 2", Null(Type::kNumber)}, {"Name || 'x'", Null(Type::kString)},
      {"Age = NULL", Null(Type::kBoolean)},
      {"NULL = NULL", Null(Type::kBoolean)},
      {"NULL <> 1", Null(Type::kBoolean)}, {"UPPER(Name)", Null(Type::kString)},
      {"LENGTH(NULL)", Null(Type::kNumber)},
      {"MAX(1, Age, 3)", Null(Type::kNumber)},
      {"Name LIKE 'a%'", Null(Type::kBoolean)});
}

TEST_F(ExpressionTest, ThreeValuedLogic) {
  // IsVip is NULL (unknown).
  EXPECT_CASES({"TRUE AND IsVip", Null(Type::kBoolean)},
               {"FALSE AND IsVip", B(false)}, {"IsVip AND FALSE", B(false)},
               {"IsVip AND TRUE", Null(Type::kBoolean)},
               {"TRUE OR IsVip", B(true)}, {"IsVip OR TRUE", B(true)},
               {"FALSE OR IsVip", Null(Type::kBoolean)},
               {"IsVip OR FALSE", Null(Type::kBoolean)},
               {"NOT IsVip", Null(Type::kBoolean)},
               {"IsVip AND IsVip", Null(Type::kBoolean)},
               {"NOT NULL", Null(Type::kBoolean)});
  Set(kVip, B(true));
  EXPECT_CASES({"IsVip AND TRUE", B(true)}, {"NOT IsVip", B(false)},
               {"IsVip = TRUE", B(true)}, {"IsVip <> FALSE", B(true)});
}

TEST_F(ExpressionTest, IsNull) {
  Set(kName, S(""));
  EXPECT_CASES({"Age IS NULL", B(true)}, {"Age IS NOT NULL", B(false)},
               {"Name IS NULL", B(false)}, {"Name IS NOT NULL", B(true)},
               {"NULL IS NULL", B(true)}, {"(Age + 1) IS NULL", B(true)},
               {"Age IS NULL IS NULL", B(false)});
}

TEST_F(ExpressionTest, Comparisons) {
  Set(kTier, S("Gold"));
  Set(kLastPurchase, D(k20240131));
  EXPECT_CASES({"1 = 1", B(true)}, {"1 <> 1", B(false)}, {"1 != 2", B(true)},
               {"1 < 2", B(true)}, {"2 <= 2", B(true)}, {"3 > 2", B(true)},
               {"2 >= 3", B(false)}, {"Profile.Tier = 'Gold'", B(true)},
               {"Profile.Tier = 'gold'", B(false)}, {"'abc' < 'abd'", B(true)},
               {"'B' < 'a'", B(true)},
               {"LastPurchase > DATE('2024-01-01')", B(true)},
               {"LastPurchase = DATE('2024-01-31')", B(true)},
               {"TRUE = FALSE", B(false)}, {"TRUE <> FALSE", B(true)});
}

TEST_F(ExpressionTest, In) {
  Set(kTier, S("Gold"));
  Set(kAge, N(30));
  EXPECT_CASES({"Profile.Tier IN ('Gold', 'Platinum')", B(true)},
               {"Profile.Tier IN ('Silver')", B(false)},
               {"Profile.Tier NOT IN ('Silver', 'Bronze')", B(true)},
               {"Age IN (10, 20, Age)", B(true)}, {"Age IN (10 + 20)", B(true)},
               {"Age IN (1, NULL)", Null(Type::kBoolean)},
               {"Age IN (30, NULL)", B(true)},
               {"Age NOT IN (1, NULL)", Null(Type::kBoolean)},
               {"Score IN (1, 2)", Null(Type::kBoolean)},
               {"Score NOT IN (1, 2)", Null(Type::kBoolean)},
               {"LastPurchase IN (DATE('2024-01-31'))", Null(Type::kBoolean)},
               {"NULL IN (1)", Null(Type::kBoolean)});
  EXPECT_FALSE(Condition("Age NOT IN (1, NULL)"));
}

TEST_F(ExpressionTest, Between) {
  Set(kAge, N(18));
  Set(kName, S("m"));
  EXPECT_CASES({"Age BETWEEN 18 AND 30", B(true)},
               {"Age BETWEEN 19 AND 30", B(false)},
               {"Age BETWEEN 10 AND 18", B(true)},
               {"Age NOT BETWEEN 19 AND 30", B(true)},
               {"Age BETWEEN 30 AND 10", B(false)},
               {"Name BETWEEN 'a' AND 'z'", B(true)},
               {"Age BETWEEN NULL AND 30", Null(Type::kBoolean)},
               {"Age BETWEEN NULL AND 10", B(false)},
               {"Score BETWEEN 1 AND 2", Null(Type::kBoolean)},
               {"DATE('2024-01-15') BETWEEN DATE('2024-01-01') AND "
                "DATE('2024-01-31')",
                B(true)});
}

TEST_F(ExpressionTest, Like) {
  Set(kName, S("Ada Lovelace"));
  EXPECT_CASES({"Name LIKE 'Ada%'", B(true)}, {"Name LIKE '%lace'", B(true)},
               {"Name LIKE '%Love%'", B(true)}, {"Name LIKE 'Ada'", B(false)},
               {"Name LIKE 'A_a %'", B(true)}, {"Name LIKE 'ada%'", B(false)},
               {"Name NOT LIKE '%x%'", B(true)}, {"Name LIKE '%'", B(true)},
               {"'' LIKE '%'", B(true)}, {"'' LIKE '_'", B(false)},
               {"'é' LIKE '_'", B(true)}, {"'aXbXc' LIKE 'a%b%c'", B(true)},
               {"'abcabd' LIKE '%abd'", B(true)},
               {"'mississippi' LIKE 'm%iss%pi'", B(true)},
               {"'abc' LIKE 'a%%c'", B(true)}, {"'abc' LIKE 'a_'", B(false)},
               {"Name LIKE NULL", Null(Type::kBoolean)},
               {"Name LIKE 'Ada' || '%'", B(true)});
}

TEST_F(ExpressionTest, TextFunctions) {
  EXPECT_CASES(
      {"UPPER('abc é')", S("ABC é")}, {"lower('AbC')", S("abc")},
      {"TRIM('  a b \t')", S("a b")}, {"LENGTH('héllo')", N(5)},
      {"LENGTH('')", N(0)}, {"SUBSTR('abcdef', 2, 3)", S("bcd")},
      {"SUBSTR('abcdef', 4)", S("def")}, {"SUBSTR('héllo', 2, 2)", S("él")},
      {"SUBSTR('abc', 0, 2)", S("a")}, {"SUBSTR('abc', 5)", S("")},
      {"SUBSTR('abc', 2, -1)", S("")}, {"SUBSTR('abc', 2.9, 1)", S("b")},
      {"CONTAINS('hello', 'ell')", B(true)},
      {"CONTAINS('hello', 'L')", B(false)},
      {"STARTS_WITH('hello', 'he')", B(true)},
      {"STARTS_WITH('hello', 'lo')", B(false)},
      {"ENDS_WITH('hello', 'lo')", B(true)},
      {"ENDS_WITH('hello', '')", B(true)},
      {"SUBSTR(NULL, 1)", Null(Type::kString)},
      {"CONTAINS('a', NULL)", Null(Type::kBoolean)});
}

TEST_F(ExpressionTest, NumberFunctions) {
  EXPECT_CASES({"ABS(-3)", N(3)}, {"ABS(2.5)", N(2.5)}, {"ROUND(2.5)", N(3)},
               {"ROUND(-2.5)", N(-3)}, {"ROUND(2.4)", N(2)},
               {"ROUND(3.14159, 2)", N(3.14)}, {"ROUND(1234, -2)", N(1200)},
               {"ROUND(1.5, 20)", N(1.5)}, {"FLOOR(-1.5)", N(-2)},
               {"FLOOR(1.9)", N(1)}, {"CEIL(1.2)", N(2)}, {"CEIL(-1.2)", N(-1)},
               {"MIN(3, 1, 2)", N(1)}, {"MAX(3, 1, 2)", N(3)},
               {"MAX('a', 'c', 'b')", S("c")},
               {"MIN(DATE('2024-01-31'), DATE('2024-01-01'))", D(k20240101)},
               {"MIN(NULL, NULL)", Null(Type::kNull)},
               {"ROUND(NULL)", Null(Type::kNumber)});
}

TEST_F(ExpressionTest, ConditionalFunctions) {
  Set(kAge, N(20));
  EXPECT_CASES({"IF(TRUE, 1, 2)", N(1)}, {"IF(FALSE, 1, 2)", N(2)},
               {"IF(NULL, 1, 2)", N(2)}, {"IF(IsVip, 1, 2)", N(2)},
               {"IF(Age > 18, 'adult', 'minor')", S("adult")},
               {"IF(FALSE, 'a', NULL)", Null(Type::kString)},
               {"IF(Age < 18, NULL, Age * 2)", N(40)},
               {"COALESCE(NULL, 2, 3)", N(2)}, {"COALESCE(Score, Age)", N(20)},
               {"COALESCE(Score, Age, 1)", N(20)},
               {"COALESCE(Name, Profile.Tier, 'none')", S("none")},
               {"COALESCE(Score)", Null(Type::kNumber)},
               {"COALESCE(NULL, NULL)", Null(Type::kNull)},
               {"COALESCE(IsVip, FALSE) OR Age > 18", B(true)});
}

TEST_F(ExpressionTest, DateFunctions) {
  Set(kLastPurchase, D(k20240131 + (13 * 3600 + 5 * 60) * 1000));
  bindings_.SetNow(k20240131 + 45 * kMillisPerDay + 1000);
  EXPECT_CASES(
      {"DATE('2024-01-31')", D(k20240131)},
      {"DATE('2024-01-31T12:30:00Z')",
       D(k20240131 + (12 * 3600 + 30 * 60) * 1000)},
      {"DATE('2024-01-31T00:00:00.250Z')", D(k20240131 + 250)},
      {"DATE('1969-12-31')", D(-kMillisPerDay)},
      {"DATE(Name)", Null(Type::kDateTime)},
      {"NOW()", D(k20240131 + 45 * kMillisPerDay + 1000)},
      {"DAYS_BETWEEN(DATE('2024-01-01'), DATE('2024-03-01'))", N(60)},
      {"DAYS_BETWEEN(DATE('2024-03-01'), DATE('2024-01-01'))", N(-60)},
      {"DAYS_BETWEEN(LastPurchase, NOW())", N(45)},
      {"DAYS_BETWEEN(DATE('2024-01-01T23:59:00Z'), "
       "DATE('2024-01-02T00:01:00Z'))",
       N(1)},
      {"ADD_DAYS(DATE('2024-02-28'), 1) = DATE('2024-02-29')", B(true)},
      {"ADD_DAYS(DATE('2024-01-31'), -30)", D(k20240101)},
      {"ADD_DAYS(DATE('2024-01-31'), 0.5)", D(k20240131 + kMillisPerDay / 2)},
      {"ADD_DAYS(NOW(), 1e20)", Null(Type::kDateTime)},
      {"YEAR(LastPurchase)", N(2024)}, {"MONTH(LastPurchase)", N(1)},
      {"DAY(LastPurchase)", N(31)}, {"HOUR(LastPurchase)", N(13)},
      {"WEEKDAY(DATE('2024-01-01'))", N(1)},
      {"WEEKDAY(DATE('2024-01-07'))", N(7)},
      {"WEEKDAY(DATE('1969-12-31'))", N(3)},
      {"YEAR(DATE('1900-03-01'))", N(1900)},
      {"MONTH(DATE('2000-02-29'))", N(2)},
      {"DAYS_BETWEEN(LastPurchase, NOW()) > 30", B(true)},
      {"LastPurchase < ADD_DAYS(NOW(), -30)", B(true)},
      {"YEAR(Null)", Null(Type::kNumber)});
}

// Date parts hold at the ends of the DATETIME range (int64 milliseconds):
// -292275055-05-16T16:47:04.192Z and 292278994-08-17T07:12:55.807Z.
TEST_F(ExpressionTest, DatePartsAtTheEndsOfTheRange) {
  Set(kLastPurchase, D(std::numeric_limits<int64_t>::min()));
  EXPECT_CASES({"YEAR(LastPurchase)", N(-292275055)},
               {"MONTH(LastPurchase)", N(5)}, {"DAY(LastPurchase)", N(16)},
               {"HOUR(LastPurchase)", N(16)});
  Set(kLastPurchase, D(std::numeric_limits<int64_t>::max()));
  EXPECT_CASES({"YEAR(LastPurchase)", N(292278994)},
               {"MONTH(LastPurchase)", N(8)}, {"DAY(LastPurchase)", N(17)},
               {"HOUR(LastPurchase)", N(7)});
}

TEST_F(ExpressionTest, Conversions) {
  EXPECT_CASES(
      {"TO_NUMBER(' 12.5 ')", N(12.5)}, {"TO_NUMBER('-3e2')", N(-300)},
      {"TO_NUMBER('+7')", N(7)}, {"TO_NUMBER('abc')", Null(Type::kNumber)},
      {"TO_NUMBER('12abc')", Null(Type::kNumber)},
      {"TO_NUMBER('')", Null(Type::kNumber)},
      {"TO_NUMBER('nan')", Null(Type::kNumber)},
      {"TO_NUMBER('1e999')", Null(Type::kNumber)}, {"TO_STRING(12)", S("12")},
      {"TO_STRING(-0.5)", S("-0.5")}, {"TO_STRING(0.1 + 0.2)", S("0.3")},
      {"TO_STRING(1e20)", S("1e+20")}, {"TO_STRING(TRUE)", S("TRUE")},
      {"TO_STRING('x')", S("x")},
      {"TO_STRING(DATE('2024-01-31'))", S("2024-01-31T00:00:00Z")},
      {"TO_STRING(DATE('2024-01-31T10:20:30.045Z'))",
       S("2024-01-31T10:20:30.045Z")},
      {"TO_STRING(NULL)", Null(Type::kString)},
      {"TO_NUMBER(TO_STRING(42)) = 42", B(true)});
}

TEST_F(ExpressionTest, StringResultsLiveInScratchUntilNextEvaluation) {
  std::string name = "ada";
  Set(kName, S(name));
  const CompiledExpression* upper = CompileOk("UPPER(Name) || '!'");
  ASSERT_NE(upper, nullptr);
  EXPECT_EQ(Evaluate(*upper, bindings_, scratch_), S("ADA!"));
  name = "bob";  // Bindings refer to the caller's text.
  EXPECT_EQ(Evaluate(*upper, bindings_, scratch_), S("BOB!"));
  EXPECT_EQ(Eval("Name"), S("bob"));
}

TEST_F(ExpressionTest, ConstantFolding) {
  EXPECT_EQ(CompileOk("1 + 2 * 3")->DebugString(), "0 push 7\n");
  EXPECT_EQ(CompileOk("UPPER('a') || 'b'")->DebugString(), "0 push 'Ab'\n");
  EXPECT_EQ(CompileOk("DATE('2024-01-31')")->DebugString(),
            "0 push DATETIME '2024-01-31T00:00:00Z'\n");
  EXPECT_EQ(CompileOk("1 IN (1, 2) AND NOT FALSE")->DebugString(),
            "0 push TRUE\n");
  EXPECT_EQ(CompileOk("Age > 60 * 60")->DebugString(),
            "0 load $0\n1 push 3600\n2 greater NUMBER\n");
  EXPECT_EQ(CompileOk("NOW()")->DebugString(), "0 now\n");
  // Constants are pooled.
  EXPECT_EQ(CompileOk("Age IN (1, 2, 1)")->DebugString(),
            "0 load $0\n1 push 1\n2 push 2\n3 push 1\n4 in NUMBER 3\n");
}

TEST_F(ExpressionTest, ShortCircuitAndLazyBranchesCompileToJumps) {
  EXPECT_EQ(CompileOk("IsVip AND Age > 1")->DebugString(),
            "0 load $3\n1 jump_if_false_keep 6\n2 load $0\n3 push 1\n"
            "4 greater NUMBER\n5 and\n");
  EXPECT_EQ(CompileOk("IF(IsVip, Age, Score)")->DebugString(),
            "0 load $3\n1 jump_if_not_true 4\n2 load $0\n3 jump 5\n"
            "4 load $6\n");
  EXPECT_EQ(CompileOk("COALESCE(Age, Score, 0)")->DebugString(),
            "0 load $0\n1 jump_if_not_null_keep 7\n2 pop\n3 load $6\n"
            "4 jump_if_not_null_keep 7\n5 pop\n6 push 0\n");
}

TEST_F(ExpressionTest, ResultType) {
  EXPECT_EQ(CompileOk("Age > 1")->result_type(), Type::kBoolean);
  EXPECT_EQ(CompileOk("Name")->result_type(), Type::kString);
  EXPECT_EQ(CompileOk("NULL")->result_type(), Type::kNull);
  absl::StatusOr<CompiledExpression> null_condition =
      Compile("NULL", schema_, Type::kBoolean);
  ASSERT_TRUE(null_condition.ok());
  EXPECT_EQ(null_condition->result_type(), Type::kBoolean);
  EXPECT_EQ(Evaluate(*null_condition, bindings_, scratch_),
            Null(Type::kBoolean));
  EXPECT_FALSE(EvaluateCondition(*null_condition, bindings_, scratch_));
  EXPECT_TRUE(Compile("Age * 2", schema_, Type::kNumber).ok());
  EXPECT_THAT(CompileStatus("Age + 1", Type::kBoolean),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "the expression must produce BOOLEAN, got NUMBER at "
                       "line 1, column 1"));
  // A non-BOOLEAN expression is never a true condition.
  Set(kAge, N(1));
  EXPECT_FALSE(Condition("Age"));
}

struct ErrorCase {
  const char* source;
  const char* message;  // The whole message.
  int line;
  int column;
};

TEST_F(ExpressionTest, CompileErrorsNameTheProblemAndPosition) {
  const ErrorCase cases[] = {
      // Syntax.
      {"", "the expression is empty at line 1, column 1", 1, 1},
      {"  \n ", "the expression is empty at line 2, column 2", 2, 2},
      {"Age >", "expected a value, found end of expression at line 1, column 6",
       1, 6},
      {"(Age > 1",
       "expected ')' to close the '(', found end of expression at line 1, "
       "column 9",
       1, 9},
      {"Age > 1 1",
       "unexpected number 1 at line 1, column 9; is an operator or a comma "
       "missing?",
       1, 9},
      {"Age > 1)",
       "unexpected ')' at line 1, column 8; is an operator or a comma "
       "missing?",
       1, 8},
      {"'abc",
       "unterminated text: add the closing quote (') at line 1, column 1", 1,
       1},
      {"Age # 2", "unexpected character '#' at line 1, column 5", 1, 5},
      {"Name = \"Ada\"",
       "unexpected '\"' at line 1, column 8; write text in single quotes", 1,
       8},
      {"12abc", "malformed number '12abc' at line 1, column 1", 1, 1},
      {"1.2.3", "malformed number '1.2.3' at line 1, column 1", 1, 1},
      {"1e999", "number '1e999' is out of range at line 1, column 1", 1, 1},
      {"Age IN ()",
       "the IN list is empty; list at least one value at line 1, column 9", 1,
       9},
      {"Age IN 1, 2",
       "expected '(' after IN, found number 1 at line 1, column 8", 1, 8},
      {"Age IN (1 2)",
       "expected ',' or ')' in the IN list, found number 2 at line 1, column "
       "11",
       1, 11},
      {"Age BETWEEN 1 OR 2",
       "expected AND between the BETWEEN bounds, found 'OR' at line 1, column "
       "15",
       1, 15},
      {"Age IS 5",
       "expected NULL or NOT NULL after IS, found number 5 at line 1, column 8",
       1, 8},
      {"Age IS NOT 5",
       "expected NULL after IS NOT, found number 5 at line 1, column 12", 1,
       12},
      {"UPPER(Name",
       "expected ',' or ')' in the arguments of UPPER, found end of expression "
       "at line 1, column 11",
       1, 11},
      {"Age > 1 AND AND", "expected a value, found 'AND' at line 1, column 13",
       1, 13},
      {"Age NOT 5",
       "unexpected 'NOT' at line 1, column 5; is an operator or a "
       "comma missing?",
       1, 5},
      // Names.
      {"Agee > 18",
       "unknown variable 'Agee' at line 1, column 1; did you mean 'Age'?", 1,
       1},
      {"Tier = 'Gold'",
       "unknown variable 'Tier' at line 1, column 1; did you mean "
       "'Profile.Tier'?",
       1, 1},
      {"Zzyzx", "unknown variable 'Zzyzx' at line 1, column 1", 1, 1},
      {"NOW > LastPurchase",
       "unknown variable 'NOW' at line 1, column 1; to call the function write "
       "NOW()",
       1, 1},
      {"UPPR(Name)",
       "unknown function 'UPPR' at line 1, column 1; did you mean 'UPPER'?", 1,
       1},
      {"Age > 18\nAND Profile.Tier = 'Gold'\nAND UPPER(Nme) = 'X'",
       "unknown variable 'Nme' at line 3, column 11; did you mean 'Name'?", 3,
       11},
      // Types.
      {"IsVip\nAND   Age",
       "AND needs BOOLEAN operands, got NUMBER at line 2, column 7", 2, 7},
      {"Age OR TRUE",
       "OR needs BOOLEAN operands, got NUMBER at line 1, column 1", 1, 1},
      {"NOT Age", "NOT needs BOOLEAN operand, got NUMBER at line 1, column 5",
       1, 5},
      {"-Name", "unary - needs NUMBER operand, got STRING at line 1, column 2",
       1, 2},
      {"Name + 1",
       "+ needs NUMBER operands, got STRING at line 1, column 1; join text "
       "with ||",
       1, 1},
      {"LastPurchase - 1",
       "- needs NUMBER operands, got DATETIME at line 1, column 1; use "
       "ADD_DAYS or DAYS_BETWEEN for dates",
       1, 1},
      {"'Age: ' || Age",
       "|| needs STRING operands, got NUMBER at line 1, column 12; convert "
       "with TO_STRING(...)",
       1, 12},
      {"Age = 'x'",
       "cannot compare NUMBER with STRING at line 1, column 5; convert with "
       "TO_NUMBER or TO_STRING",
       1, 5},
      {"LastPurchase > '2024-01-01'",
       "cannot compare DATETIME with STRING at line 1, column 14; write dates "
       "as DATE('2024-01-31')",
       1, 14},
      {"IsVip < TRUE",
       "< cannot order BOOLEAN values; compare them with = or <> at line 1, "
       "column 7",
       1, 7},
      {"Age IN (1, 'a')",
       "this IN list value is STRING but the value tested is NUMBER at line "
       "1, column 12; convert with TO_NUMBER or TO_STRING",
       1, 12},
      {"Age BETWEEN 1 AND 'z'",
       "this BETWEEN bound is STRING but the value tested is NUMBER at line 1, "
       "column 19; convert with TO_NUMBER or TO_STRING",
       1, 19},
      {"IsVip BETWEEN FALSE AND TRUE",
       "BETWEEN needs NUMBER, STRING or DATETIME values, got BOOLEAN at line "
       "1, column 7",
       1, 7},
      {"Age LIKE '1%'",
       "LIKE needs STRING operands, got NUMBER at line 1, column 1", 1, 1},
      {"SUBSTR(Name)",
       "SUBSTR takes 2 or 3 arguments, got 1 at line 1, column 1", 1, 1},
      {"NOW(1)", "NOW takes 0 arguments, got 1 at line 1, column 1", 1, 1},
      {"TRIM('a', 'b')", "TRIM takes 1 argument, got 2 at line 1, column 1", 1,
       1},
      {"MIN(1)", "MIN takes at least 2 arguments, got 1 at line 1, column 1", 1,
       1},
      {"UPPER(Age)",
       "argument 1 of UPPER must be STRING, got NUMBER at line 1, column 7; "
       "convert with TO_NUMBER or TO_STRING",
       1, 7},
      {"ADD_DAYS(LastPurchase, '1')",
       "argument 2 of ADD_DAYS must be NUMBER, got STRING at line 1, column "
       "24; convert with TO_NUMBER or TO_STRING",
       1, 24},
      {"MIN(TRUE, FALSE)",
       "MIN needs NUMBER, STRING or DATETIME arguments, got BOOLEAN at line 1, "
       "column 1",
       1, 1},
      {"MAX(1, 'a')",
       "this argument of MAX is STRING but the ones before are NUMBER at line "
       "1, column 8; convert with TO_NUMBER or TO_STRING",
       1, 8},
      {"COALESCE(Name, 0)",
       "this argument of COALESCE is NUMBER but the ones before are STRING at "
       "line 1, column 16; convert with TO_NUMBER or TO_STRING",
       1, 16},
      {"IF(Age, 1, 2)",
       "argument 1 of IF must be BOOLEAN, got NUMBER at line 1, column 4", 1,
       4},
      {"IF(IsVip, 1, 'a')",
       "the 'else' value of IF is STRING but the 'then' value is NUMBER at "
       "line 1, column 14; convert with TO_NUMBER or TO_STRING",
       1, 14},
      {"DATE('2024-02-30')",
       "DATE needs 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM:SSZ' (UTC), got "
       "'2024-02-30' at line 1, column 6",
       1, 6},
      {"LastPurchase > DATE('31/01/2024')",
       "DATE needs 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM:SSZ' (UTC), got "
       "'31/01/2024' at line 1, column 21",
       1, 21},
      // Columns count characters, not bytes.
      {"'é' = Age",
       "cannot compare STRING with NUMBER at line 1, column 5; convert with "
       "TO_NUMBER or TO_STRING",
       1, 5},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.source);
    const absl::Status status = CompileStatus(c.source);
    EXPECT_THAT(status,
                StatusIs(absl::StatusCode::kInvalidArgument, c.message));
    const absl::optional<SourceLocation> location = GetErrorLocation(status);
    ASSERT_TRUE(location.has_value());
    EXPECT_EQ(location->line, c.line);
    EXPECT_EQ(location->column, c.column);
  }
}

TEST_F(ExpressionTest, ErrorContextKeepsLocation) {
  const absl::Status error = AddErrorContext(
      "rule 'Gold upsell'", CompileStatus("Age > 18 AND\n  Tier = 'Gold'"));
  EXPECT_THAT(error, StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr("rule 'Gold upsell': unknown variable "
                                        "'Tier' at line 2, column 3")));
  ASSERT_TRUE(GetErrorLocation(error).has_value());
  EXPECT_EQ(GetErrorLocation(error)->line, 2);
  EXPECT_EQ(GetErrorLocation(error)->column, 3);
  EXPECT_FALSE(GetErrorLocation(absl::InternalError("x")).has_value());
  EXPECT_TRUE(AddErrorContext("rule", absl::OkStatus()).ok());
}

TEST_F(ExpressionTest, NestingIsLimited) {
  std::string parentheses = std::string(300, '(') + "1" + std::string(300, ')');
  EXPECT_THAT(CompileStatus(parentheses),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("nests more than 200 levels")));
  std::string nots;
  for (int i = 0; i < 300; ++i) nots += "NOT ";
  EXPECT_THAT(CompileStatus(nots + "TRUE"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("nests more than 200 levels")));
  std::string sum = "Age";
  for (int i = 0; i < 300; ++i) sum += " + Age";
  EXPECT_THAT(CompileStatus(sum),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("nests more than 200 levels")));
  // Within the limit, deep expressions work.
  std::string deep = std::string(150, '(') + "Age" + std::string(150, ')');
  std::string long_sum = "1";
  for (int i = 0; i < 150; ++i) long_sum += " + Age";
  Set(kAge, N(2));
  EXPECT_EQ(Eval(deep), N(2));
  EXPECT_EQ(Eval(long_sum), N(301));
  std::string list = "Age IN (0";
  for (int i = 1; i < 500; ++i) absl::StrAppend(&list, ", Age + ", i);
  EXPECT_EQ(Eval(list + ")"), B(false));
  EXPECT_EQ(Eval(list + ", Age)"), B(true));
}

TEST(SchemaTest, DeclaresVariablesInSlotOrder) {
  Schema schema;
  EXPECT_EQ(*schema.AddVariable("Age", Type::kNumber), 0);
  EXPECT_EQ(*schema.AddVariable("profile.first_name", Type::kString), 1);
  EXPECT_EQ(*schema.AddVariable("_x9", Type::kBoolean), 2);
  EXPECT_EQ(schema.size(), 3);
  EXPECT_EQ(schema.Find("AGE"), 0);
  EXPECT_EQ(schema.Find("Profile.First_Name"), 1);
  EXPECT_FALSE(schema.Find("nope").has_value());
  EXPECT_EQ(schema.name(1), "profile.first_name");
  EXPECT_EQ(schema.type(2), Type::kBoolean);
}

TEST(SchemaTest, RejectsBadDeclarations) {
  Schema schema;
  ASSERT_TRUE(schema.AddVariable("Age", Type::kNumber).ok());
  EXPECT_THAT(schema.AddVariable("AGE", Type::kString),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       "variable 'AGE' is already declared as 'Age'"));
  EXPECT_THAT(schema.AddVariable("1st", Type::kNumber),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must start with a letter")));
  EXPECT_THAT(schema.AddVariable("first name", Type::kNumber),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must start with a letter")));
  EXPECT_THAT(schema.AddVariable("", Type::kNumber),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must start with a letter")));
  EXPECT_THAT(
      schema.AddVariable("between", Type::kNumber),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reserved word")));
  EXPECT_THAT(
      schema.AddVariable("Tier", Type::kNull),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a type")));
  EXPECT_EQ(schema.size(), 1);
}

TEST(BindingsTest, ChecksSlotsAndTypes) {
  Schema schema;
  const int age = *schema.AddVariable("Age", Type::kNumber);
  Bindings bindings(schema);
  EXPECT_EQ(bindings.size(), 1);
  EXPECT_EQ(bindings.Get(age), Value::Null(Type::kNumber));
  EXPECT_TRUE(bindings.Set(age, Value::Number(3)).ok());
  EXPECT_EQ(bindings.Get(age), Value::Number(3));
  EXPECT_THAT(bindings.Set(age, Value::String("3")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "slot 0 holds NUMBER, not STRING"));
  EXPECT_THAT(bindings.Set(1, Value::Number(1)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("slot 1")));
  EXPECT_THAT(bindings.SetNull(-1),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("slot -1")));
  EXPECT_TRUE(bindings.Set(age, Value::Null()).ok());
  EXPECT_EQ(bindings.Get(age), Value::Null(Type::kNumber));
  ASSERT_TRUE(bindings.Set(age, Value::Number(3)).ok());
  bindings.Clear();
  EXPECT_TRUE(bindings.Get(age).is_null());
  bindings.SetNow(42);
  EXPECT_EQ(bindings.now_millis(), 42);
}

TEST(BindingsTest, SchemaMayGrowAfterCompiling) {
  Schema schema;
  const int age = *schema.AddVariable("Age", Type::kNumber);
  absl::StatusOr<CompiledExpression> older = Compile("Age + 1", schema);
  ASSERT_TRUE(older.ok());
  const int score = *schema.AddVariable("Score", Type::kNumber);
  absl::StatusOr<CompiledExpression> newer = Compile("Score * 2", schema);
  ASSERT_TRUE(newer.ok());

  Bindings bindings(schema);
  EvaluationScratch scratch;
  ASSERT_TRUE(bindings.Set(age, Value::Number(1)).ok());
  ASSERT_TRUE(bindings.Set(score, Value::Number(5)).ok());
  EXPECT_EQ(Evaluate(*older, bindings, scratch), Value::Number(2));
  EXPECT_EQ(Evaluate(*newer, bindings, scratch), Value::Number(10));

  // Bindings made before Score existed are too small for the newer
  // expression: the result is NULL rather than a bad read.
  Schema old_schema;
  ASSERT_TRUE(old_schema.AddVariable("Age", Type::kNumber).ok());
  Bindings old_bindings(old_schema);
  EXPECT_EQ(Evaluate(*newer, old_bindings, scratch),
            Value::Null(Type::kNumber));
}

TEST(ValueTest, DebugStringAndEquality) {
  EXPECT_EQ(Value::Number(12).DebugString(), "12");
  EXPECT_EQ(Value::Number(-0.25).DebugString(), "-0.25");
  EXPECT_EQ(Value::String("it's").DebugString(), "'it''s'");
  EXPECT_EQ(Value::Boolean(true).DebugString(), "TRUE");
  EXPECT_EQ(Value::DateTime(k20240131).DebugString(),
            "DATETIME '2024-01-31T00:00:00Z'");
  EXPECT_EQ(Value::Null(Type::kString).DebugString(), "NULL");
  EXPECT_EQ(Value(), Value::Null());
  EXPECT_NE(Value::Null(Type::kString), Value::Null(Type::kNumber));
  EXPECT_NE(Value::Number(1), Value::Boolean(true));
  EXPECT_EQ(TypeName(Type::kDateTime), "DATETIME");
}

TEST(CompiledExpressionTest, CopiesShareTheProgram) {
  Schema schema;
  absl::StatusOr<CompiledExpression> compiled =
      Compile("UPPER('a') || 'b'", schema);
  ASSERT_TRUE(compiled.ok());
  const CompiledExpression copy = *compiled;
  compiled = Compile("1", schema);  // The original goes away.
  Bindings bindings(schema);
  EvaluationScratch scratch;
  EXPECT_EQ(Evaluate(copy, bindings, scratch), Value::String("Ab"));
}

}  // namespace
}  // namespace parley::expression
