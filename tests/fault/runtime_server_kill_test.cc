// kill -9 of a runtime server mid-session, behind the client library: three
// runtime servers of a DISTRIBUTED group serve sessions through
// parley::RuntimeClient (each session's calls go to its server in the
// client's rendezvous order). Under load, the server holding the most
// sessions is killed. Every session must go on, on another member, with its
// state: the parameter set at StartSession is still there, an accepted offer
// stays suppressed, and no offer is presented more often than the demo
// channel allows (a lost session write would show as one of those). Calls
// in flight on the killed server are retried by the client on the next
// member, so no call may fail.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/client/runtime_client.h"
#include "tests/fault/fault_cluster.h"
#include "tests/fault/workload.h"
#include "tests/support/child_process.h"

namespace parley::fault {
namespace {

constexpr char kGroup[] = "web";
constexpr int kCustomers = 100;
constexpr int kSessions = 48;
constexpr int kThreads = 4;
constexpr int kMaxPresentations = 3;  // deploy/demo/demo_channel.json

// What the client library acknowledged of one session.
struct SessionRecord {
  int cart_value = 0;
  std::map<std::string, int> presented;
  std::set<std::string> accepted;
  int calls_after_kill = 0;
};

class RuntimeServerKillTest : public ::testing::Test {
 protected:
  // One thread's share of the sessions, walked round-robin: StartSession
  // (with CartValue), then GetOffers, with one OfferAccepted of the top
  // offer on a session's second round.
  void Drive(int t) {
    std::vector<int> mine;
    for (int s = t; s < kSessions; s += kThreads) mine.push_back(s);
    std::map<int, int> rounds;
    for (size_t i = 0; !stop_; ++i) {
      const int s = mine[i % mine.size()];
      const std::string session = absl::StrCat("visit-", s);
      if (rounds[s]++ == 0) {
        v1::StartSessionRequest start =
            StartRequest(session, 1 + (s * 7) % kCustomers);
        v1::NameValue* cart = start.add_parameters();
        cart->set_name("CartValue");
        cart->set_number_value(100 + s);
        Check(client_->StartSession(start), "StartSession", session);
        absl::MutexLock lock(&mu_);
        records_[session].cart_value = 100 + s;
        continue;
      }
      absl::StatusOr<v1::GetOffersResponse> offers =
          client_->GetOffers(OffersRequest(session));
      if (!Check(offers, "GetOffers", session)) continue;
      Offered(session, *offers);
      if (rounds[s] != 3 || offers->offer_list().offers_size() == 0) continue;
      const v1::Offer& top = offers->offer_list().offers(0);
      if (Check(client_->PostEvent(EventRequest(session, "OfferAccepted",
                                                top.treatment_code())),
                "PostEvent", session)) {
        absl::MutexLock lock(&mu_);
        records_[session].accepted.insert(top.name());
      }
    }
  }

  // Counts the call; true when it succeeded with a non-ERROR answer.
  template <typename Response>
  bool Check(const absl::StatusOr<Response>& answer, const char* call,
             const std::string& session) {
    ++calls_;
    const bool ok = answer.ok() && answer->status() != v1::ERROR;
    absl::MutexLock lock(&mu_);
    if (killed_) ++records_[session].calls_after_kill;
    if (!ok) {
      ++failures_;
      if (failure_samples_.size() < 10) {
        failure_samples_.push_back(
            absl::StrCat(call, " ", session, ": ",
                         answer.ok() ? answer->ShortDebugString()
                                     : answer.status().ToString()));
      }
    }
    return ok;
  }

  void Offered(const std::string& session,
               const v1::GetOffersResponse& offers) {
    absl::MutexLock lock(&mu_);
    SessionRecord& record = records_[session];
    for (const v1::Offer& offer : offers.offer_list().offers()) {
      if (record.accepted.count(offer.name())) {
        violations_.push_back(absl::StrCat(session, ": accepted offer ",
                                           offer.name(), " offered again"));
      }
      if (++record.presented[offer.name()] > kMaxPresentations) {
        violations_.push_back(
            absl::StrCat(session, ": ", offer.name(), " presented ",
                         record.presented[offer.name()], " times"));
      }
    }
  }

  std::unique_ptr<RuntimeClient> client_;
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  absl::Mutex mu_;
  bool killed_ = false;
  int failures_ = 0;
  std::map<std::string, SessionRecord> records_;
  std::vector<std::string> violations_;
  std::vector<std::string> failure_samples_;
};

TEST_F(RuntimeServerKillTest, EverySessionGoesOnWithItsState) {
  const std::string dir = testing::FreshTempDir("runtime_server_kill");
  absl::StatusOr<std::unique_ptr<FaultCluster>> started =
      FaultCluster::Start(dir, {});
  ASSERT_TRUE(started.ok()) << started.status();
  FaultCluster& cluster = **started;
  ASSERT_TRUE(cluster.CreateDemoGroup(kGroup).ok());
  std::map<std::string, std::string> member_at;
  for (const char* member : {"web-a", "web-b", "web-c"}) {
    absl::StatusOr<std::string> address = cluster.StartRuntime(kGroup, member);
    ASSERT_TRUE(address.ok()) << address.status();
    ASSERT_TRUE(WaitServing(*address, absl::Seconds(30)));
    member_at[*address] = member;
  }
  absl::Status loaded =
      cluster.LoadProfiles(member_at.begin()->first, kCustomers);
  ASSERT_TRUE(loaded.ok()) << loaded;

  RuntimeClientOptions options;
  options.coordinator_address = cluster.coordinator_address();
  options.group = kGroup;
  options.default_deadline = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<RuntimeClient>> client =
      RuntimeClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  client_ = *std::move(client);
  const absl::Time connected = absl::Now();
  while (client_->Servers().size() < 3 &&
         absl::Now() - connected < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(client_->Servers().size(), 3u);

  // The victim: the server that most sessions call first.
  std::map<std::string, int> sessions_on;
  for (int s = 0; s < kSessions; ++s) {
    ++sessions_on[client_->ServerFor(absl::StrCat("visit-", s)).value()];
  }
  std::string victim;
  for (const auto& [address, count] : sessions_on) {
    if (victim.empty() || count > sessions_on[victim]) victim = address;
  }

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([this, t] { Drive(t); });
  absl::SleepFor(absl::Seconds(3));
  const int calls_before = calls_;
  cluster.KillRuntime(member_at.at(victim));
  {
    absl::MutexLock lock(&mu_);
    killed_ = true;
  }
  absl::SleepFor(absl::Seconds(4));
  stop_ = true;
  for (std::thread& thread : threads) thread.join();

  absl::MutexLock lock(&mu_);
  std::printf(
      "kill -9 of %s (%d of %d sessions): %d calls before, %d after, %d "
      "failed\n",
      member_at.at(victim).c_str(), sessions_on[victim], kSessions,
      calls_before, calls_ - calls_before, failures_);
  EXPECT_EQ(failures_, 0) << absl::StrJoin(failure_samples_, "\n");
  EXPECT_TRUE(violations_.empty()) << absl::StrJoin(violations_, "\n");

  // Every session, afterwards: known, with its parameter, its accepted
  // offer suppressed; none is served by the dead server.
  int accepted = 0;
  for (auto& [session, record] : records_) {
    EXPECT_GT(record.calls_after_kill, 0) << session << " stalled";
    CallInfo info;
    v1::GetProfileRequest request;
    request.set_session_id(session);
    absl::StatusOr<v1::GetProfileResponse> profile =
        client_->GetProfile(request, {}, &info);
    ASSERT_TRUE(profile.ok()) << session << ": " << profile.status();
    EXPECT_EQ(profile->status(), v1::SUCCESS) << profile->ShortDebugString();
    EXPECT_NE(info.server, victim);
    double cart = -1;
    for (const v1::NameValue& field : profile->profile()) {
      if (field.name() == "CartValue") cart = field.number_value();
    }
    EXPECT_EQ(cart, record.cart_value) << session;
    absl::StatusOr<v1::GetOffersResponse> offers =
        client_->GetOffers(OffersRequest(session));
    ASSERT_TRUE(offers.ok()) << session << ": " << offers.status();
    for (const v1::Offer& offer : offers->offer_list().offers()) {
      EXPECT_EQ(record.accepted.count(offer.name()), 0u)
          << session << ": accepted " << offer.name() << " offered again";
    }
    accepted += record.accepted.size();
  }
  std::printf("%zu sessions checked afterwards, %d accepted offers\n",
              records_.size(), accepted);
  EXPECT_EQ(records_.size(), static_cast<size_t>(kSessions));
  EXPECT_GT(accepted, kSessions / 2);
  if (HasFailure()) ADD_FAILURE() << cluster.Logs();
}

}  // namespace
}  // namespace parley::fault
