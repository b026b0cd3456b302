// Fuzzes the expression language end to end: the input is expression text,
// compiled (lexer, parser, type checker, constant folder, code generator)
// against a schema with a variable of every type, then evaluated over
// several sets of variable values, ordinary and extreme.
//
// Checked beyond "no crash, no sanitizer error":
//  - a compile error carries a line and column;
//  - an expression that compiles to type T also compiles when T is required,
//    and fails when another type is required (unless it is always NULL);
//  - a non-NULL result has the compiled result type;
//  - evaluating twice gives the same result.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "fuzz/fuzz_support.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/compile_error.h"
#include "services/runtime/expression/expression.h"
#include "services/runtime/expression/schema.h"
#include "services/runtime/expression/scratch.h"
#include "services/runtime/expression/value.h"

namespace parley::fuzz {
namespace {

using expression::Bindings;
using expression::Compile;
using expression::CompiledExpression;
using expression::EvaluationScratch;
using expression::Schema;
using expression::Type;
using expression::Value;

// Expressions longer than this are not interesting and only slow the run.
constexpr size_t kMaxSourceBytes = 4096;

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t k2025 = 1735689600000;  // 2025-01-01T00:00:00Z.
// The range of google.protobuf.Timestamp: 0001-01-01 to 9999-12-31.
constexpr int64_t kYear1 = -62135596800000;
constexpr int64_t kYear9999 = 253402300799999;

// The variables: the demo channel's profile attributes and session
// parameters, plus one BOOLEAN and dotted names.
struct Variables {
  Schema schema;
  int customer_id, age, tier, last_purchase, device, cart_value, recent,
      session_channel, profile_score;
};

const Variables& Vars() {
  static const Variables* const vars = [] {
    auto* v = new Variables();
    auto add = [&](absl::string_view name, Type type) {
      absl::StatusOr<int> slot = v->schema.AddVariable(name, type);
      PARLEY_FUZZ_CHECK(slot.ok(), slot.status().ToString());
      return *slot;
    };
    v->customer_id = add("CustomerID", Type::kNumber);
    v->age = add("Age", Type::kNumber);
    v->tier = add("Tier", Type::kString);
    v->last_purchase = add("LastPurchase", Type::kDateTime);
    v->device = add("Device", Type::kString);
    v->cart_value = add("CartValue", Type::kNumber);
    v->recent = add("Recent", Type::kBoolean);
    v->session_channel = add("Session.Channel", Type::kString);
    v->profile_score = add("Profile.Score", Type::kNumber);
    return v;
  }();
  return *vars;
}

void Set(Bindings& bindings, int slot, const Value& value) {
  const absl::Status status = bindings.Set(slot, value);
  PARLEY_FUZZ_CHECK(status.ok(), status.ToString());
}

// Text the STRING values refer to; must outlive the bindings' use.
const std::string& NonAscii() {
  static const std::string* const text = new std::string(
      "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xff\xfe");  // + bad.
  return *text;
}

// The sets of values each expression is evaluated over.
std::vector<Bindings> MakeBindingSets() {
  const Variables& v = Vars();
  std::vector<Bindings> sets;

  // Everything NULL, NOW() at the epoch.
  sets.emplace_back(v.schema);

  // An ordinary visitor.
  Bindings ordinary(v.schema);
  Set(ordinary, v.customer_id, Value::Number(42));
  Set(ordinary, v.age, Value::Number(35));
  Set(ordinary, v.tier, Value::String("Gold"));
  Set(ordinary, v.last_purchase, Value::DateTime(k2025 - 31 * kDay));
  Set(ordinary, v.device, Value::String("web"));
  Set(ordinary, v.cart_value, Value::Number(120.5));
  Set(ordinary, v.recent, Value::Boolean(true));
  Set(ordinary, v.session_channel, Value::String("mobile"));
  Set(ordinary, v.profile_score, Value::Number(-0.25));
  ordinary.SetNow(k2025);
  sets.push_back(ordinary);

  // Values a request or a profile can carry at the edges: infinities and
  // NaN (number_value of a request), empty and non-ASCII text, the ends of
  // the Timestamp range.
  Bindings edges(v.schema);
  Set(edges, v.customer_id, Value::Number(1e308));
  Set(edges, v.age, Value::Number(-std::numeric_limits<double>::infinity()));
  Set(edges, v.tier, Value::String(""));
  Set(edges, v.last_purchase, Value::DateTime(kYear1));
  Set(edges, v.device, Value::String(NonAscii()));
  Set(edges, v.cart_value,
      Value::Number(std::numeric_limits<double>::quiet_NaN()));
  Set(edges, v.recent, Value::Boolean(false));
  Set(edges, v.session_channel, Value::String("%_'"));
  Set(edges, v.profile_score, Value::Number(-0.0));
  edges.SetNow(kYear9999);
  sets.push_back(edges);

  // The ends of double, and DATETIMEs as far out as a request can send
  // them: the engine turns a Timestamp's seconds into milliseconds
  // unchecked, so seconds = +-9223372036854775 give these.
  Bindings extremes(v.schema);
  Set(extremes, v.customer_id, Value::Number(-1.7976931348623157e308));
  Set(extremes, v.age, Value::Number(4.9e-324));
  Set(extremes, v.tier, Value::String(NonAscii()));
  Set(extremes, v.last_purchase, Value::DateTime(-9223372036854775000));
  Set(extremes, v.device, Value::String("2024-02-30"));
  Set(extremes, v.cart_value,
      Value::Number(std::numeric_limits<double>::infinity()));
  Set(extremes, v.recent, Value::Boolean(true));
  Set(extremes, v.session_channel, Value::String("1e999"));
  Set(extremes, v.profile_score, Value::Number(9007199254740993.0));
  extremes.SetNow(9223372036854775000);
  sets.push_back(extremes);
  return sets;
}

const std::vector<Bindings>& BindingSets() {
  static const std::vector<Bindings>* const sets =
      new std::vector<Bindings>(MakeBindingSets());
  return *sets;
}

void CheckEvaluation(const CompiledExpression& compiled,
                     absl::string_view source) {
  static EvaluationScratch* const scratch = new EvaluationScratch();
  for (const Bindings& bindings : BindingSets()) {
    const Value first = Evaluate(compiled, bindings, *scratch);
    if (!first.is_null() && compiled.result_type() != Type::kNull) {
      PARLEY_FUZZ_CHECK(
          first.type() == compiled.result_type(),
          absl::StrCat("'", source, "' compiled as ",
                       expression::TypeName(compiled.result_type()), " gave ",
                       first.DebugString()));
    }
    const std::string first_text = first.DebugString();
    const Value second = Evaluate(compiled, bindings, *scratch);
    PARLEY_FUZZ_CHECK(second.DebugString() == first_text,
                      absl::StrCat("'", source, "' gave ", first_text, " then ",
                                   second.DebugString()));
    EvaluateCondition(compiled, bindings, *scratch);
  }
}

}  // namespace
}  // namespace parley::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::fuzz;
  using parley::expression::Type;
  if (size > kMaxSourceBytes) return -1;
  const absl::string_view source = AsText(data, size);
  const parley::expression::Schema& schema = Vars().schema;

  absl::StatusOr<CompiledExpression> compiled = Compile(source, schema);
  if (!compiled.ok()) {
    PARLEY_FUZZ_CHECK(
        parley::expression::GetErrorLocation(compiled.status()).has_value(),
        compiled.status().ToString());
    parley::expression::AddErrorContext("rule 'fuzz'", compiled.status())
        .IgnoreError();
    return 0;
  }
  compiled->DebugString();
  CheckEvaluation(*compiled, source);

  const Type type = compiled->result_type();
  for (Type wanted :
       {Type::kNumber, Type::kString, Type::kBoolean, Type::kDateTime}) {
    absl::StatusOr<CompiledExpression> typed = Compile(source, schema, wanted);
    const bool should_compile = type == Type::kNull || type == wanted;
    PARLEY_FUZZ_CHECK(
        typed.ok() == should_compile,
        absl::StrCat("'", source, "' is ", parley::expression::TypeName(type),
                     " but compiling it as ",
                     parley::expression::TypeName(wanted), " gave ",
                     typed.status().ToString()));
    if (typed.ok() && type == Type::kNull) CheckEvaluation(*typed, source);
  }
  return 0;
}
