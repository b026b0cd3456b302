// The cache tier with real processes on 127.0.0.1: a coordinator and cache
// nodes, driven through the nodes' gRPC API and the client library.
#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cache_node/cache_client.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "tests/support/child_process.h"

namespace parley {
namespace {

using ::parley::testing::StartedServer;
using ::testing::HasSubstr;
namespace v1 = ::parley::v1;

constexpr char kCoordinator[] = "services/coordinator/parley-coordinator";
constexpr char kCacheNode[] = "cache_node/parley-cache-node";

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return condition();
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  return context;
}

class CacheTierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTempDir(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    absl::StatusOr<StartedServer> coordinator = testing::StartServer(
        testing::RunfilePath(kCoordinator),
        {absl::StrCat("--data_dir=", dir_, "/coordinator"), "--partitions=32"},
        dir_, "coordinator");
    ASSERT_TRUE(coordinator.ok()) << coordinator.status();
    coordinator_ = std::move(*coordinator);
    coordinator_stub_ = v1::Coordinator::NewStub(grpc::CreateChannel(
        coordinator_.address(), grpc::InsecureChannelCredentials()));
    for (int i = 1; i <= 3; ++i) StartNode(i);
    ASSERT_TRUE(WaitForStableTable(3));
    cache::CacheClientOptions options;
    options.coordinator_address = coordinator_.address();
    absl::StatusOr<std::unique_ptr<cache::CacheClient>> client =
        cache::CacheClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  void TearDown() override { client_.reset(); }

  // Starts (or restarts, on the same data_dir) node `i`.
  void StartNode(int i) {
    absl::StatusOr<StartedServer> node = testing::StartServer(
        testing::RunfilePath(kCacheNode),
        {absl::StrCat("--node_id=cache-", i),
         absl::StrCat("--data_dir=", dir_, "/cache-", i),
         absl::StrCat("--coordinator=", coordinator_.address()),
         "--lease_ttl_seconds=2", "--shutdown_grace_seconds=3",
         "--max_value_bytes=65536"},
        dir_, absl::StrCat("cache-", i));
    ASSERT_TRUE(node.ok()) << node.status();
    nodes_[i] = std::move(*node);
    stubs_[i] = v1::CacheNode::NewStub(grpc::CreateChannel(
        nodes_[i].address(), grpc::InsecureChannelCredentials()));
  }

  v1::StatsResponse Stats(int i) {
    v1::StatsResponse stats;
    stubs_[i]->Stats(Context().get(), v1::StatsRequest(), &stats).IgnoreError();
    return stats;
  }

  // Waits until `count` live nodes each serve their partitions: no
  // promotion or catch-up left, and the table epochs agree.
  bool WaitForStableTable(int count,
                          absl::Duration timeout = absl::Seconds(30)) {
    const bool stable = WaitUntil(
        [&] {
          // The coordinator's table, which every node must have adopted.
          v1::PartitionTable table;
          if (!coordinator_stub_
                   ->GetPartitionTable(Context().get(),
                                       v1::GetPartitionTableRequest(), &table)
                   .ok() ||
              table.nodes_size() != count) {
            return false;
          }
          uint64_t epoch = table.epoch();
          int serving = 0;
          uint32_t primaries = 0;
          for (auto& [i, node] : nodes_) {
            if (!node.process) continue;
            v1::StatsResponse stats = Stats(i);
            if (stats.table_epoch() == 0) return false;
            if (stats.table_epoch() != epoch) return false;
            for (const v1::PartitionStats& p : stats.partitions()) {
              if (p.role() != "primary" && p.role() != "backup") return false;
            }
            primaries += stats.primaries();
            ++serving;
          }
          return serving == count && primaries == 32;
        },
        timeout);
    if (!stable) {
      // Say what is still moving.
      for (auto& [i, node] : nodes_) {
        if (!node.process) continue;
        v1::StatsResponse stats = Stats(i);
        std::map<std::string, int> roles;
        for (const v1::PartitionStats& p : stats.partitions()) {
          ++roles[p.role()];
        }
        std::string summary;
        for (const auto& [role, n] : roles) {
          absl::StrAppend(&summary, role, "=", n, " ");
        }
        ADD_FAILURE() << "node " << i << " epoch " << stats.table_epoch()
                      << ": " << summary << "\n"
                      << node.process->Log().substr(
                             node.process->Log().size() > 3000
                                 ? node.process->Log().size() - 3000
                                 : 0);
      }
    }
    return stable;
  }

  void Kill(int i) {
    nodes_[i].process->Signal(SIGKILL);
    nodes_[i].process->Wait(absl::Seconds(5)).IgnoreError();
    nodes_[i].process.reset();
  }

  std::string dir_;
  StartedServer coordinator_;
  std::unique_ptr<v1::Coordinator::Stub> coordinator_stub_;
  std::map<int, StartedServer> nodes_;
  std::map<int, std::unique_ptr<v1::CacheNode::Stub>> stubs_;
  std::unique_ptr<cache::CacheClient> client_;
};

TEST_F(CacheTierTest, AnyNodeServesAnyKey) {
  v1::PutRequest put;
  put.set_namespace_("sessions/web");
  v1::PutResponse written;
  for (int k = 0; k < 12; ++k) {
    put.set_key(absl::StrCat("visitor-", k));
    put.set_value(absl::StrCat("state-", k));
    grpc::Status status = stubs_[1]->Put(Context().get(), put, &written);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_GT(written.version(), 0u);
  }
  // Every key read through node 3, whoever its primary is.
  for (int k = 0; k < 12; ++k) {
    v1::GetRequest get;
    get.set_namespace_("sessions/web");
    get.set_key(absl::StrCat("visitor-", k));
    v1::GetResponse read;
    ASSERT_TRUE(stubs_[3]->Get(Context().get(), get, &read).ok());
    ASSERT_TRUE(read.found());
    EXPECT_EQ(read.entry().value(), absl::StrCat("state-", k));
  }
  EXPECT_GT(Stats(3).forwards() + Stats(1).forwards(), 0u);

  v1::MultiGetRequest multi;
  multi.set_namespace_("sessions/web");
  multi.add_keys("visitor-3");
  multi.add_keys("nobody");
  multi.add_keys("visitor-7");
  v1::MultiGetResponse many;
  ASSERT_TRUE(stubs_[2]->MultiGet(Context().get(), multi, &many).ok());
  ASSERT_EQ(many.results_size(), 3);
  EXPECT_EQ(many.results(0).entry().value(), "state-3");
  EXPECT_FALSE(many.results(1).found());
  EXPECT_EQ(many.results(2).entry().value(), "state-7");

  // Scan pages through every partition from any node.
  std::set<std::string> scanned;
  v1::ScanRequest scan;
  scan.set_namespace_("sessions/web");
  scan.set_prefix("visitor-");
  scan.set_limit(5);
  for (int page = 0; page < 10; ++page) {
    v1::ScanResponse response;
    ASSERT_TRUE(stubs_[2]->Scan(Context().get(), scan, &response).ok());
    for (const v1::Entry& entry : response.entries()) {
      EXPECT_TRUE(scanned.insert(entry.key()).second) << entry.key();
    }
    if (response.next_page_token().empty()) break;
    scan.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(scanned.size(), 12u);

  v1::DeleteRequest remove;
  remove.set_namespace_("sessions/web");
  remove.set_key("visitor-3");
  v1::DeleteResponse removed;
  ASSERT_TRUE(stubs_[2]->Delete(Context().get(), remove, &removed).ok());
  EXPECT_TRUE(removed.existed());
  ASSERT_TRUE(stubs_[2]->Delete(Context().get(), remove, &removed).ok());
  EXPECT_FALSE(removed.existed());
  absl::StatusOr<v1::GetResponse> gone =
      client_->Get("sessions/web", "visitor-3");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->found());
}

TEST_F(CacheTierTest, BadInputIsRefusedWithReasons) {
  v1::PutRequest put;
  v1::PutResponse written;
  put.set_key("k");
  grpc::Status no_namespace = stubs_[1]->Put(Context().get(), put, &written);
  EXPECT_EQ(no_namespace.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(no_namespace.error_message(), HasSubstr("namespace"));

  put.set_namespace_("demo");
  put.set_key(std::string(1025, 'k'));
  grpc::Status long_key = stubs_[1]->Put(Context().get(), put, &written);
  EXPECT_EQ(long_key.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(long_key.error_message(), HasSubstr("1024"));

  put.set_key("k");
  put.set_value(std::string(65537, 'v'));
  grpc::Status big_value = stubs_[2]->Put(Context().get(), put, &written);
  EXPECT_EQ(big_value.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(big_value.error_message(), HasSubstr("max_value_bytes"));

  put.set_value("v");
  put.mutable_expected_version()->set_value(12345);
  grpc::Status stale = stubs_[3]->Put(Context().get(), put, &written);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(stale.error_message(), HasSubstr("not the expected 12345"));

  v1::TouchRequest touch;
  touch.set_namespace_("demo");
  touch.set_key("k");
  v1::TouchResponse touched;
  EXPECT_EQ(stubs_[1]->Touch(Context().get(), touch, &touched).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ScanRequest scan;
  scan.set_namespace_("demo");
  scan.set_page_token("garbage");
  v1::ScanResponse page;
  EXPECT_EQ(stubs_[1]->Scan(Context().get(), scan, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Nothing was written by the refused calls, and the node still serves.
  absl::StatusOr<v1::GetResponse> read = client_->Get("demo", "k");
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->found());
}

TEST_F(CacheTierTest, ExpiryIsSeenFromEveryNode) {
  ASSERT_TRUE(client_->Put("sessions/web", "short-lived", "x", 1500).ok());
  ASSERT_TRUE(client_->Put("sessions/web", "long-lived", "y").ok());
  v1::GetRequest get;
  get.set_namespace_("sessions/web");
  get.set_key("short-lived");
  for (int i = 1; i <= 3; ++i) {
    v1::GetResponse read;
    ASSERT_TRUE(stubs_[i]->Get(Context().get(), get, &read).ok());
    EXPECT_TRUE(read.found()) << "node " << i;
    EXPECT_GT(read.entry().expire_time_ms(), 0);
  }
  absl::SleepFor(absl::Milliseconds(1700));
  for (int i = 1; i <= 3; ++i) {
    v1::GetResponse read;
    ASSERT_TRUE(stubs_[i]->Get(Context().get(), get, &read).ok());
    EXPECT_FALSE(read.found()) << "node " << i;
  }
  absl::StatusOr<v1::GetResponse> kept =
      client_->Get("sessions/web", "long-lived");
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->found());
  EXPECT_EQ(kept->entry().expire_time_ms(), 0);
}

TEST_F(CacheTierTest, CompareAndSetHasExactlyOneWinnerPerRound) {
  constexpr int kWriters = 4;
  constexpr int kRounds = 15;
  absl::StatusOr<uint64_t> version = client_->Put("locks", "counter", "0");
  ASSERT_TRUE(version.ok());
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> winners{0}, aborted{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        absl::StatusOr<uint64_t> written = client_->Put(
            "locks", "counter", absl::StrCat(round, "-", w), 0, *version);
        if (written.ok()) {
          ++winners;
        } else if (written.status().code() == absl::StatusCode::kAborted) {
          ++aborted;
        }
      });
    }
    for (std::thread& writer : writers) writer.join();
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    EXPECT_EQ(aborted.load(), kWriters - 1) << "round " << round;
    absl::StatusOr<v1::GetResponse> now = client_->Get("locks", "counter");
    ASSERT_TRUE(now.ok());
    EXPECT_GT(now->entry().version(), *version);
    version = now->entry().version();
  }
}

TEST_F(CacheTierTest, SessionNamespacesExpireAfterTheGroupsSessionTimeout) {
  v1::CreateGroupRequest create;
  create.set_name("web");
  create.mutable_settings()->mutable_session_timeout_seconds()->set_value(3);
  v1::ServerGroup group;
  ASSERT_TRUE(
      coordinator_stub_->CreateGroup(Context().get(), create, &group).ok());
  // The nodes learn the group's timeout from the coordinator.
  int64_t expiry = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        const int64_t before = absl::ToUnixMillis(absl::Now());
        if (!client_->Put("sessions/web", "visitor-1", "state").ok()) {
          return false;
        }
        absl::StatusOr<v1::GetResponse> read =
            client_->Get("sessions/web", "visitor-1");
        if (!read.ok() || !read->found()) return false;
        expiry = read->entry().expire_time_ms() - before;
        return read->entry().expire_time_ms() != 0;
      },
      absl::Seconds(10)));
  EXPECT_GE(expiry, 2500);
  EXPECT_LE(expiry, 3500);
  // Other groups' namespaces and other namespaces keep no default.
  ASSERT_TRUE(client_->Put("sessions/callcenter", "visitor-1", "s").ok());
  ASSERT_TRUE(client_->Put("profiles/Customer", "1", "p").ok());
  EXPECT_EQ(client_->Get("sessions/callcenter", "visitor-1")
                ->entry()
                .expire_time_ms(),
            0);
  EXPECT_EQ(client_->Get("profiles/Customer", "1")->entry().expire_time_ms(),
            0);
}

// What writers were told: key -> (version, value) of the last acknowledged
// write.
class Ledger {
 public:
  void Record(const std::string& key, uint64_t version,
              const std::string& value) {
    absl::MutexLock lock(&mu_);
    auto& entry = acked_[key];
    if (version > entry.first) entry = {version, value};
  }
  std::map<std::string, std::pair<uint64_t, std::string>> Snapshot() {
    absl::MutexLock lock(&mu_);
    return acked_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::pair<uint64_t, std::string>> acked_;
};

// Writes from several threads until stopped; counts attempts and failures.
class Writers {
 public:
  Writers(cache::CacheClient* client, Ledger* ledger, int threads)
      : client_(client), ledger_(ledger) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t] { Run(t); });
    }
  }
  ~Writers() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  int attempts() const { return attempts_; }
  int failures() const { return failures_; }
  int acked() const { return acked_; }

 private:
  void Run(int t) {
    std::mt19937 random(1000 + t);
    for (int i = 0; !stop_; ++i) {
      const std::string key =
          absl::StrCat("visitor-", t, "-",
                       std::uniform_int_distribution<int>(0, 299)(random));
      const std::string value = absl::StrCat("t", t, "-write-", i);
      ++attempts_;
      absl::StatusOr<uint64_t> version =
          client_->Put("sessions/ledger", key, value);
      if (version.ok()) {
        ++acked_;
        ledger_->Record(key, *version, value);
      } else {
        ++failures_;
      }
    }
  }

  cache::CacheClient* const client_;
  Ledger* const ledger_;
  std::atomic<bool> stop_{false};
  std::atomic<int> attempts_{0}, failures_{0}, acked_{0};
  std::vector<std::thread> threads_;
};

// Reads every acknowledged key back: same or newer version, same value.
void ExpectLedgerHolds(cache::CacheClient& client, Ledger& ledger,
                       const std::string& when) {
  int checked = 0, lost = 0;
  for (const auto& [key, acked] : ledger.Snapshot()) {
    absl::StatusOr<v1::GetResponse> read = client.Get("sessions/ledger", key);
    ASSERT_TRUE(read.ok()) << when << ": " << key << ": " << read.status();
    ++checked;
    if (!read->found() || read->entry().version() < acked.first ||
        (read->entry().version() == acked.first &&
         read->entry().value() != acked.second)) {
      ++lost;
      ADD_FAILURE() << when << ": acknowledged write of " << key << " (version "
                    << acked.first << ") lost";
    }
  }
  EXPECT_EQ(lost, 0) << when;
  EXPECT_GT(checked, 100) << when;
}

TEST_F(CacheTierTest, FailoverRestartAndRebalanceLoseNoAcknowledgedWrite) {
  Ledger ledger;
  {
    Writers writers(client_.get(), &ledger, 4);
    absl::SleepFor(absl::Seconds(2));
    const int before_kill = writers.acked();
    Kill(2);  // kill -9 a node that is primary of about a third.
    ASSERT_TRUE(WaitForStableTable(2));
    absl::SleepFor(absl::Seconds(1));
    writers.Stop();
    ASSERT_GT(before_kill, 100);
    const double error_rate =
        writers.attempts() == 0
            ? 0
            : static_cast<double>(writers.failures()) / writers.attempts();
    std::printf(
        "failover: %d writes attempted, %d acknowledged, %d failed "
        "(%.3f%%) across a kill -9 of a node\n",
        writers.attempts(), writers.acked(), writers.failures(),
        100 * error_rate);
    ::testing::Test::RecordProperty("failover_error_rate_percent",
                                    absl::StrCat(100 * error_rate));
    EXPECT_LT(error_rate, 0.01);
  }
  ExpectLedgerHolds(*client_, ledger, "after kill -9");

  // The killed node restarts on its data and catches up.
  StartNode(2);
  ASSERT_TRUE(WaitForStableTable(3));
  EXPECT_GT(Stats(2).backups() + Stats(2).primaries(), 0u);
  {
    Writers writers(client_.get(), &ledger, 2);
    absl::SleepFor(absl::Seconds(1));
    writers.Stop();
  }
  // The restarted node must now hold real copies: lose another node.
  Kill(3);
  ASSERT_TRUE(WaitForStableTable(2));
  ExpectLedgerHolds(*client_, ledger, "after restart and a second kill");

  // Two more nodes join; partitions move to them with nothing lost.
  StartNode(3);
  StartNode(4);
  {
    Writers writers(client_.get(), &ledger, 2);
    ASSERT_TRUE(WaitForStableTable(4));
    writers.Stop();
  }
  EXPECT_GT(Stats(4).primaries() + Stats(4).backups(), 0u);
  ExpectLedgerHolds(*client_, ledger, "after adding nodes");
}

TEST_F(CacheTierTest, DrainHandsPartitionsOverAndLeaves) {
  Ledger ledger;
  Writers writers(client_.get(), &ledger, 2);
  absl::SleepFor(absl::Seconds(1));
  v1::DrainRequest drain;
  v1::DrainResponse drained;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  grpc::Status status = stubs_[1]->Drain(&context, drain, &drained);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(drained.partitions_handed_over(), 0u);
  absl::StatusOr<int> exit_code = nodes_[1].process->Wait(absl::Seconds(20));
  ASSERT_TRUE(exit_code.ok()) << "a drained node stops by itself";
  EXPECT_EQ(*exit_code, 0) << nodes_[1].process->Log();
  nodes_[1].process.reset();
  ASSERT_TRUE(WaitForStableTable(2));
  writers.Stop();
  EXPECT_EQ(writers.failures(), 0);
  ExpectLedgerHolds(*client_, ledger, "after a drain");
}

}  // namespace
}  // namespace parley
