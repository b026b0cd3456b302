#include "services/runtime/engine/engine_fixture.h"

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/json_util.h"
#include "services/runtime/channel/channel.h"

namespace parley::engine::testing {

const char kChannelJson[] = R"json({
  "name": "Web",
  "audienceLevels": [
    {"name": "Customer",
     "audienceIdFields": [{"name": "CustomerID", "type": "NUMBER"}],
     "profileAttributes": [{"name": "Age", "type": "NUMBER"},
                           {"name": "Tier", "type": "STRING"}]},
    {"name": "Household",
     "audienceIdFields": [{"name": "HouseholdID", "type": "NUMBER"}],
     "profileAttributes": [{"name": "HouseholdSize", "type": "NUMBER"}]}
  ],
  "sessionParameters": [{"name": "Device", "type": "STRING"}],
  "zones": [{"name": "Hero"}, {"name": "Footer"}],
  "interactionPoints": [
    {"name": "HomeHero", "zone": "Hero", "defaultString": "welcome"},
    {"name": "FooterBar", "zone": "Footer", "defaultString": "nothing"},
    {"name": "SideBar", "zone": "Hero", "defaultString": "side"}
  ],
  "offers": [
    {"name": "GoldCard", "code": ["GC", "001"], "description": "Gold card",
     "attributes": [{"name": "Fee", "numberValue": 99},
                    {"name": "Kind", "stringValue": "card"}]},
    {"name": "Basic", "code": ["BA"],
     "attributes": [{"name": "Kind", "stringValue": "account"},
                    {"name": "Fee", "stringValue": "99"}]},
    {"name": "Young", "code": ["YO"]},
    {"name": "HomeLoan", "code": ["HL"]}
  ],
  "segments": [{"name": "Gold"}, {"name": "Regular"}, {"name": "Family"}],
  "flowcharts": [
    {"name": "Main", "audienceLevel": "Customer", "startBox": "Split",
     "boxes": [
       {"name": "Split", "decision": {
         "branches": [{"condition": "Tier = 'Gold'", "nextBox": "PopGold"},
                      {"condition": "Device = 'vip'", "nextBox": "PopGold"}],
         "otherwiseBox": "PopRegular"}},
       {"name": "PopGold", "populateSegments": {"segments": ["Gold"]}},
       {"name": "PopRegular", "populateSegments": {"segments": ["Regular"]}}
     ]},
    {"name": "Homes", "audienceLevel": "Household", "startBox": "BySize",
     "boxes": [
       {"name": "BySize", "decision": {
         "branches": [{"condition": "HouseholdSize >= 4",
                       "nextBox": "PopFamily"}],
         "otherwiseBox": "PopHomeRegular"}},
       {"name": "PopFamily", "populateSegments": {"segments": ["Family"]}},
       {"name": "PopHomeRegular",
        "populateSegments": {"segments": ["Regular"]}}
     ]}
  ],
  "treatmentRules": [
    {"name": "Gold card", "segment": "Gold", "zone": "Hero",
     "offer": "GoldCard", "marketingScore": 80},
    {"name": "Gold basic", "segment": "Gold", "zone": "Hero",
     "offer": "Basic", "marketingScore": 40},
    {"name": "Regular", "segment": "Regular", "zone": "Hero",
     "offer": "$REGULAR_OFFER", "marketingScore": 50},
    {"name": "Family loan", "segment": "Family", "zone": "Hero",
     "offer": "HomeLoan", "marketingScore": 70}
  ],
  "events": [
    {"name": "Accept", "actions": [{"logAcceptance": {}}]},
    {"name": "Reject", "actions": [{"logRejection": {}}]},
    {"name": "Contact", "actions": [{"logContact": {}}]},
    {"name": "Resegment", "actions": [{"resegment": {}}]}
  ],
  "suppression": {"maxPresentationsPerSession": 2}
})json";

v1::InteractiveChannel ChannelProto(const std::string& regular_offer) {
  const std::string json =
      absl::StrReplaceAll(kChannelJson, {{"$REGULAR_OFFER", regular_offer}});
  v1::InteractiveChannel proto;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &proto);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  return proto;
}

std::shared_ptr<const channel::CompiledChannel> Channel(
    const std::string& regular_offer) {
  auto compiled = channel::CompileChannel(ChannelProto(regular_offer));
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok() ? *compiled : nullptr;
}

v1::NameValue Text(const std::string& name, const std::string& value,
                   bool transient) {
  v1::NameValue result;
  result.set_name(name);
  result.set_string_value(value);
  result.set_transient(transient);
  return result;
}

v1::NameValue Number(const std::string& name, double value) {
  v1::NameValue result;
  result.set_name(name);
  result.set_number_value(value);
  return result;
}

std::vector<std::string> Names(const v1::OfferList& list) {
  std::vector<std::string> names;
  for (const v1::Offer& offer : list.offers()) names.push_back(offer.name());
  return names;
}

TestStore::TestStore() : store_(session::LocalSessionStoreOptions{}) {}

TestStore::~TestStore() {
  // A completion may start the next thread: join until none is left.
  for (;;) {
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&threads_mu_);
      threads.swap(threads_);
    }
    if (threads.empty()) return;
    for (std::thread& thread : threads) thread.join();
  }
}

void TestStore::Complete(std::function<void()> work) {
  if (!on_store_threads_) return work();
  absl::MutexLock lock(&threads_mu_);
  threads_.emplace_back([this, work = std::move(work)] {
    ++store_thread_completions_;  // Before `work` may wake the test.
    work();
  });
}

void TestStore::GetForUpdateAsync(std::string session_id, absl::Time now,
                                  bool latest, StateDone done) {
  Complete([this, session_id = std::move(session_id), now, latest,
            done = std::move(done)] {
    done(GetForUpdate(session_id, now, latest));
  });
}

void TestStore::UpdateAsync(v1::SessionState state, absl::Time now,
                            VersionDone done) {
  Complete([this, state = std::move(state), now, done = std::move(done)] {
    done(Update(state, now));
  });
}

absl::StatusOr<uint64_t> TestStore::Create(v1::SessionState state,
                                           bool replace_existing,
                                           absl::Time now) {
  return store_.Create(std::move(state), replace_existing, now);
}

absl::StatusOr<v1::SessionState> TestStore::Get(absl::string_view session_id,
                                                absl::Time now) {
  return store_.Get(session_id, now);
}

absl::StatusOr<uint64_t> TestStore::Update(v1::SessionState state,
                                           absl::Time now) {
  if (races_left_ > 0) {
    --races_left_;
    absl::StatusOr<v1::SessionState> current =
        store_.Get(state.session_id(), now);
    if (current.ok()) {
      race_(*current);
      EXPECT_TRUE(store_.Update(*std::move(current), now).ok());
    }
  }
  absl::StatusOr<uint64_t> updated = store_.Update(std::move(state), now);
  if (updated.ok()) ++successful_updates_;
  if (absl::IsAborted(updated.status())) ++aborted_updates_;
  return updated;
}

absl::StatusOr<v1::SessionState> TestStore::Remove(absl::string_view session_id,
                                                   absl::Time now) {
  return store_.Remove(session_id, now);
}

void TestStore::RaceNextUpdates(int times,
                                std::function<void(v1::SessionState&)> change) {
  races_left_ = times;
  race_ = std::move(change);
}

EngineTest::EngineTest()
    : engine_(
          &store_, [this] { return now_millis_; },
          [this](absl::string_view level,
                 const google::protobuf::RepeatedPtrField<v1::NameValue>& id)
              -> absl::StatusOr<absl::optional<std::vector<v1::NameValue>>> {
            const double key = id.Get(0).number_value();
            lookups_.push_back(absl::StrCat(level, ":", key));
            lookup_threads_.push_back(std::this_thread::get_id());
            if (level == "Customer" && key == 1) {
              return std::vector<v1::NameValue>{Number("Age", 40),
                                                Text("Tier", "Gold")};
            }
            if (level == "Customer" && key == 2) {
              return std::vector<v1::NameValue>{Number("Age", 20),
                                                Text("Tier", "Silver")};
            }
            if (level == "Household" && key == 7) {
              return std::vector<v1::NameValue>{Number("HouseholdSize", 5)};
            }
            if (key == 666) return absl::UnavailableError("profile DB down");
            return absl::nullopt;
          },
          [this](const v1::HistoryRecord& record) {
            history_.push_back(record);
          }) {
  engine_.SetChannel("Web", Channel("Basic"), 1);
}

v1::StartSessionResponse EngineTest::Start(const std::string& session_id,
                                           double customer, bool rely) {
  v1::StartSessionRequest request;
  request.set_session_id(session_id);
  request.set_interactive_channel("web");
  request.set_audience_level("customer");
  *request.add_audience_id() = Number("customerid", customer);
  request.set_rely_on_existing_session(rely);
  absl::StatusOr<v1::StartSessionResponse> response =
      engine_.StartSession(request);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.value_or(v1::StartSessionResponse());
}

v1::GetOffersResponse EngineTest::Offers(
    const std::string& session_id, const std::string& ip,
    std::vector<v1::NameValue> parameters) {
  v1::GetOffersRequest request;
  request.set_session_id(session_id);
  request.set_interaction_point(ip);
  request.set_number_requested(5);
  for (v1::NameValue& parameter : parameters) {
    *request.add_parameters() = std::move(parameter);
  }
  absl::StatusOr<v1::GetOffersResponse> response = engine_.GetOffers(request);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.value_or(v1::GetOffersResponse());
}

v1::PostEventResponse EngineTest::Post(const std::string& session_id,
                                       const std::string& event,
                                       std::vector<v1::NameValue> parameters) {
  v1::PostEventRequest request;
  request.set_session_id(session_id);
  request.set_event_name(event);
  for (v1::NameValue& parameter : parameters) {
    *request.add_parameters() = std::move(parameter);
  }
  absl::StatusOr<v1::PostEventResponse> response = engine_.PostEvent(request);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.value_or(v1::PostEventResponse());
}

v1::SessionState EngineTest::Stored(const std::string& session_id) {
  absl::StatusOr<v1::SessionState> state =
      store_.Get(session_id, absl::FromUnixMillis(now_millis_));
  EXPECT_TRUE(state.ok()) << state.status();
  return state.value_or(v1::SessionState());
}

}  // namespace parley::engine::testing
