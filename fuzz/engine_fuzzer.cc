// Fuzzes the runtime server's request handling in process: the input is a
// serialized parley.fuzz.EngineScript (skipped when it does not parse), a
// sequence of InteractRuntime requests run against a fresh SessionEngine
// over a small LocalSessionStore with the demo channel deployed as "demo"
// (deploy/demo/demo_channel.json), as the gRPC service would pass them on.
// Profiles exist for customers 1, 2 and 3; looking up customer 13 fails.
// A parameter whose text is "$CODE" or "$CODE<n>" is replaced by the last
// (or n-th) treatment code the engine returned, so scripts can post
// acceptances and rejections of real presentations.
//
// Checked beyond "no crash, no sanitizer error":
//  - a call fails only with INVALID_ARGUMENT (anything else is reported in
//    the response, as engine.h promises);
//  - every response survives serialization (a client can parse it);
//  - every history record logged is valid, storable, and exports as CSV and
//    JSON (see history_checks.h).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"
#include "fuzz/channel_checks.h"
#include "fuzz/fuzz_inputs.pb.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/history_checks.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/util/time_util.h"
#include "proto/parley/v1/history.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/profiles/profile_codec.h"
#include "services/runtime/session/local_session_store.h"

namespace parley::fuzz {
namespace {

using google::protobuf::RepeatedPtrField;

// Longer scripts add little and slow the run down.
constexpr int kMaxCalls = 48;
constexpr int64_t kStartMillis = 1748736000000;  // 2025-06-01T00:00:00Z.

v1::NameValue Number(const std::string& name, double value) {
  v1::NameValue result;
  result.set_name(name);
  result.set_number_value(value);
  return result;
}

v1::NameValue Text(const std::string& name, const std::string& value) {
  v1::NameValue result;
  result.set_name(name);
  result.set_string_value(value);
  return result;
}

v1::NameValue Null(const std::string& name) {
  v1::NameValue result;
  result.set_name(name);
  return result;
}

v1::NameValue Date(const std::string& name, const std::string& rfc3339) {
  v1::NameValue result;
  result.set_name(name);
  PARLEY_FUZZ_CHECK(google::protobuf::util::TimeUtil::FromString(
                        rfc3339, result.mutable_datetime_value()),
                    rfc3339);
  return result;
}

// The profile store: customers of the demo channel's Customer level by
// their cache key, as the cache tier would hold them.
absl::StatusOr<absl::optional<std::vector<v1::NameValue>>> LookupProfile(
    absl::string_view level, const RepeatedPtrField<v1::NameValue>& id) {
  if (!absl::EqualsIgnoreCase(level, "Customer")) return absl::nullopt;
  const std::vector<v1::NameValue> fields(id.begin(), id.end());
  const std::string key = profiles::AudienceKey(fields);
  if (key == "1") {
    return std::vector<v1::NameValue>{
        Number("Age", 40), Text("Tier", "Gold"),
        Date("LastPurchase", "2025-05-20T10:00:00Z")};
  }
  if (key == "2") {
    return std::vector<v1::NameValue>{
        Number("Age", 22), Text("Tier", "Silver"),
        Date("LastPurchase", "2024-01-15T00:00:00Z")};
  }
  if (key == "3") {
    return std::vector<v1::NameValue>{Null("Age"), Text("Tier", ""),
                                      Null("LastPurchase")};
  }
  if (key == "13") return absl::UnavailableError("profile store unreachable");
  return absl::nullopt;
}

// Treatment codes the engine returned so far, for "$CODE" parameters.
class Codes {
 public:
  template <typename Response>
  void Collect(const Response& response) {
    CollectList(response.offer_list());
  }
  void CollectList(const v1::OfferList& list) {
    for (const v1::Offer& offer : list.offers()) {
      codes_.push_back(offer.treatment_code());
    }
  }

  void Substitute(RepeatedPtrField<v1::NameValue>& parameters) const {
    for (v1::NameValue& parameter : parameters) {
      if (parameter.value_case() != v1::NameValue::kStringValue) continue;
      absl::string_view text = parameter.string_value();
      if (!absl::ConsumePrefix(&text, "$CODE")) continue;
      if (codes_.empty()) {
        parameter.set_string_value("");
        continue;
      }
      size_t n = codes_.size() - 1;
      if (!text.empty() && absl::SimpleAtoi(text, &n)) n %= codes_.size();
      parameter.set_string_value(codes_[n]);
    }
  }

 private:
  std::vector<std::string> codes_;
};

template <typename Response>
void CheckResult(const char* call, const absl::StatusOr<Response>& result) {
  if (!result.ok()) {
    PARLEY_FUZZ_CHECK(
        result.status().code() == absl::StatusCode::kInvalidArgument,
        absl::StrCat(call, ": ", result.status().ToString()));
    return;
  }
  if (RoundTrips(*result)) return;
  // Known issue: a TestRun advisory quoting a channel validation message
  // about a non-ASCII name is not UTF-8 (see channel_checks.h).
  const std::string text = result->ShortDebugString();
  PARLEY_FUZZ_CHECK(KnownIssueTolerated(kNameCharacterIssue) &&
                        absl::StrContains(text, "has invalid character"),
                    absl::StrCat(call,
                                 " response does not survive "
                                 "serialization: ",
                                 text));
}

void RunCall(engine::SessionEngine& engine, EngineCall& call, Codes& codes) {
  switch (call.call_case()) {
    case EngineCall::kStartSession:
      CheckResult("StartSession", engine.StartSession(call.start_session()));
      break;
    case EngineCall::kGetOffers: {
      auto result = engine.GetOffers(call.get_offers());
      CheckResult("GetOffers", result);
      if (result.ok()) codes.Collect(*result);
      break;
    }
    case EngineCall::kGetOffersForMultipleInteractionPoints: {
      auto result = engine.GetOffersForMultipleInteractionPoints(
          call.get_offers_for_multiple_interaction_points());
      CheckResult("GetOffersForMultipleInteractionPoints", result);
      if (result.ok()) {
        for (const v1::OfferList& list : result->offer_lists()) {
          codes.CollectList(list);
        }
      }
      break;
    }
    case EngineCall::kPostEvent:
      codes.Substitute(*call.mutable_post_event()->mutable_parameters());
      CheckResult("PostEvent", engine.PostEvent(call.post_event()));
      break;
    case EngineCall::kSetAudience:
      CheckResult("SetAudience", engine.SetAudience(call.set_audience()));
      break;
    case EngineCall::kGetProfile:
      CheckResult("GetProfile", engine.GetProfile(call.get_profile()));
      break;
    case EngineCall::kEndSession:
      CheckResult("EndSession", engine.EndSession(call.end_session()));
      break;
    case EngineCall::kSetDebug:
      CheckResult("SetDebug", engine.SetDebug(call.set_debug()));
      break;
    case EngineCall::kGetVersion:
      CheckResult("GetVersion", engine.GetVersion(call.get_version()));
      break;
    case EngineCall::kExecuteBatch: {
      for (v1::BatchCommand& command :
           *call.mutable_execute_batch()->mutable_commands()) {
        if (command.has_post_event()) {
          codes.Substitute(*command.mutable_post_event()->mutable_parameters());
        }
      }
      auto result = engine.ExecuteBatch(call.execute_batch());
      CheckResult("ExecuteBatch", result);
      if (result.ok()) {
        for (const v1::BatchResult& r : result->results()) {
          if (r.has_get_offers()) codes.Collect(r.get_offers());
          if (r.has_get_offers_for_multiple_interaction_points()) {
            for (const v1::OfferList& list :
                 r.get_offers_for_multiple_interaction_points().offer_lists()) {
              codes.CollectList(list);
            }
          }
        }
      }
      break;
    }
    case EngineCall::kTestRun:
      CheckResult("TestRun", engine.TestRun(call.test_run()));
      break;
    case EngineCall::CALL_NOT_SET:
      break;
  }
}

}  // namespace
}  // namespace parley::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::fuzz;
  if (size > 64 * 1024) return -1;
  EngineScript script;
  if (!ParseInput(data, size, &script)) return 0;
  if (script.calls_size() > kMaxCalls) return -1;

  parley::session::LocalSessionStoreOptions options;
  options.max_entries = 4;  // So sessions get evicted.
  options.timeout = absl::Seconds(300);
  options.num_shards = 2;
  parley::session::LocalSessionStore store(options);
  int64_t now = kStartMillis;
  std::vector<parley::v1::HistoryRecord> history;
  parley::engine::SessionEngine engine(
      &store, [&now] { return now; }, LookupProfile,
      [&history](const parley::v1::HistoryRecord& record) {
        history.push_back(record);
      });
  engine.SetChannel("demo", CompiledDemoChannel(), 1);

  Codes codes;
  for (EngineCall& call : *script.mutable_calls()) {
    now += call.advance_ms();
    RunCall(engine, call, codes);
  }
  for (const parley::v1::HistoryRecord& record : history) {
    CheckHistoryRecord(record, /*from_engine=*/true);
  }
  return 0;
}
