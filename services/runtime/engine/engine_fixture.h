#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_FIXTURE_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_FIXTURE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/history.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/session/local_session_store.h"
#include "services/runtime/session/session_store.h"

namespace parley::engine::testing {

// The test channel "Web" as JSON. Customers with Tier 'Gold' (or sent
// Device 'vip') are in segment Gold, everyone else in Regular. Gold gets
// GoldCard (80) and Basic (40) in Hero; Regular gets $REGULAR_OFFER (50) in
// Hero; Footer has no rules; Side (zone Hero too) shares Hero's rules.
// Households (level Household) are segmented by flowchart Homes:
// HouseholdSize >= 4 -> Family, else Regular.
extern const char kChannelJson[];

// The test channel as a proto, with `regular_offer` for $REGULAR_OFFER.
v1::InteractiveChannel ChannelProto(const std::string& regular_offer);

// The test channel compiled.
std::shared_ptr<const channel::CompiledChannel> Channel(
    const std::string& regular_offer);

// A STRING name/value.
v1::NameValue Text(const std::string& name, const std::string& value,
                   bool transient = false);

// A NUMBER name/value.
v1::NameValue Number(const std::string& name, double value);

// The offer names of a list.
std::vector<std::string> Names(const v1::OfferList& list);

// The code of the first advisory of a response; unspecified when none.
template <typename Response>
v1::AdvisoryCode FirstAdvisory(const Response& response) {
  return response.advisory_messages().empty()
             ? v1::ADVISORY_CODE_UNSPECIFIED
             : response.advisory_messages(0).code();
}

// A LocalSessionStore that counts successful updates and, when asked, lets
// a concurrent writer change the session just before an update (so the
// update fails with ABORTED).
//
// Its asynchronous calls complete on the calling thread unless
// CompleteOnStoreThreads() was called.
class TestStore : public session::SessionStore {
 public:
  TestStore();
  // Joins the threads that ran completions.
  ~TestStore() override;

  absl::StatusOr<uint64_t> Create(v1::SessionState state, bool replace_existing,
                                  absl::Time now) override;
  absl::StatusOr<v1::SessionState> Get(absl::string_view session_id,
                                       absl::Time now) override;
  absl::StatusOr<uint64_t> Update(v1::SessionState state,
                                  absl::Time now) override;
  absl::StatusOr<v1::SessionState> Remove(absl::string_view session_id,
                                          absl::Time now) override;

  void GetForUpdateAsync(std::string session_id, absl::Time now, bool latest,
                         StateDone done) override;
  void UpdateAsync(v1::SessionState state, absl::Time now,
                   VersionDone done) override;

  // From now on, GetForUpdateAsync and UpdateAsync run and complete on a
  // new thread each, as a store across the network answers on a thread of
  // its own.
  void CompleteOnStoreThreads() { on_store_threads_ = true; }
  // Completions run on such threads so far.
  int store_thread_completions() const { return store_thread_completions_; }

  // Before the next `times` updates, applies `change` to the stored
  // session and stores it.
  void RaceNextUpdates(int times,
                       std::function<void(v1::SessionState&)> change);

  // Updates that succeeded.
  int successful_updates() const { return successful_updates_; }
  // Updates that failed with ABORTED.
  int aborted_updates() const { return aborted_updates_; }

 private:
  // Runs `work` on a new thread when completing on store threads, else
  // here.
  void Complete(std::function<void()> work);

  session::LocalSessionStore store_;
  std::atomic<bool> on_store_threads_{false};
  std::atomic<int> store_thread_completions_{0};
  absl::Mutex threads_mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(threads_mu_);
  int races_left_ = 0;
  std::function<void(v1::SessionState&)> race_;
  int successful_updates_ = 0;
  int aborted_updates_ = 0;
};

// The engine over a TestStore with the test channel deployed as "Web"
// (version 1), a fixed clock and profiles for customers 1 (Age 40, Tier
// Gold) and 2 (Age 20, Tier Silver) and household 7 (HouseholdSize 5).
// History records are collected in history_.
class EngineTest : public ::testing::Test {
 protected:
  EngineTest();

  // Starts session `session_id` for customer `customer`; expects OK.
  v1::StartSessionResponse Start(const std::string& session_id, double customer,
                                 bool rely = false);

  // GetOffers for up to 5 offers; expects OK.
  v1::GetOffersResponse Offers(const std::string& session_id,
                               const std::string& ip = "HomeHero",
                               std::vector<v1::NameValue> parameters = {});

  // PostEvent; expects OK.
  v1::PostEventResponse Post(const std::string& session_id,
                             const std::string& event,
                             std::vector<v1::NameValue> parameters = {});

  // The stored session; expects it to exist.
  v1::SessionState Stored(const std::string& session_id);

  int64_t now_millis_ = 1735689600000;  // 2025-01-01.
  TestStore store_;
  std::vector<v1::HistoryRecord> history_;
  // Profile lookups made, as "level:audience ID", and the threads that
  // made them.
  std::vector<std::string> lookups_;
  std::vector<std::thread::id> lookup_threads_;
  SessionEngine engine_;
};

}  // namespace parley::engine::testing

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_FIXTURE_H_
