#include "cache_node/replication_link.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_node/node_channels.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"

namespace parley::cache {
namespace {

using ::testing::HasSubstr;

// What a scripted backup holds; it outlives the server (a restarted
// backup keeps its copy).
struct BackupState {
  absl::Mutex mu;
  // Batches to take and leave unanswered, breaking their stream.
  int batches_to_drop ABSL_GUARDED_BY(mu) = 0;
  uint64_t contiguous ABSL_GUARDED_BY(mu) = 0;
  // How often each version arrived.
  absl::flat_hash_map<uint64_t, int> received ABSL_GUARDED_BY(mu);

  int Received(uint64_t version) {
    absl::MutexLock lock(&mu);
    auto it = received.find(version);
    return it == received.end() ? 0 : it->second;
  }
};

// One ReplicateStream call of the scripted backup: applies each batch in
// version order, as cache nodes do, and answers it.
class ScriptedStream final
    : public grpc::ServerBidiReactor<v1::ReplicateRequest,
                                     v1::ReplicateResponse> {
 public:
  explicit ScriptedStream(BackupState* state) : state_(state) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);
    response_.Clear();
    response_.set_batch_id(request_.batch_id());
    {
      absl::MutexLock lock(&state_->mu);
      for (const v1::ReplicateItem& item : request_.items()) {
        ++state_->received[item.write().version()];
      }
      if (state_->batches_to_drop > 0) {
        --state_->batches_to_drop;
        return Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "dropped"));
      }
      for (const v1::ReplicateItem& item : request_.items()) {
        if (item.previous_version() == state_->contiguous) {
          state_->contiguous = item.write().version();
        }
        response_.add_results()->set_contiguous_version(state_->contiguous);
      }
    }
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::CANCELLED);
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  BackupState* const state_;
  v1::ReplicateRequest request_;
  v1::ReplicateResponse response_;
};

class ScriptedBackup final : public v1::CacheNode::CallbackService {
 public:
  explicit ScriptedBackup(BackupState* state) : state_(state) {}

  grpc::ServerBidiReactor<v1::ReplicateRequest, v1::ReplicateResponse>*
  ReplicateStream(grpc::CallbackServerContext*) override {
    return new ScriptedStream(state_);
  }

 private:
  BackupState* const state_;
};

// gRPC (1.51) shares one completion queue among callback servers and
// releases it when the last one is destroyed; a server stopped and started
// again while the queue's thread winds down can crash. One server that
// lives as long as the test keeps the queue.
void KeepCallbackQueue() {
  static grpc::Server* const keeper = [] {
    static BackupState state;
    static ScriptedBackup service(&state);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service);
    return builder.BuildAndStart().release();
  }();
  ASSERT_NE(keeper, nullptr);
}

// The scripted backup served on 127.0.0.1, restartable on the same port.
class BackupServer {
 public:
  explicit BackupServer(BackupState* state) : state_(state) {
    KeepCallbackQueue();
    Start();
  }
  ~BackupServer() { Stop(); }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  void Start() {
    service_ = std::make_unique<ScriptedBackup>(state_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port_),
                             grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    port_ = port;
  }

  // Ends every call at once, as a killed backup would.
  void Stop() {
    if (server_ == nullptr) return;
    server_->Shutdown(absl::ToChronoTime(absl::Now()));
    server_->Wait();
    server_.reset();
    service_.reset();
  }

 private:
  BackupState* const state_;
  int port_ = 0;
  std::unique_ptr<ScriptedBackup> service_;
  std::unique_ptr<grpc::Server> server_;
};

// One write's outcome, for a single backup needed.
class Outcome {
 public:
  std::shared_ptr<AckTracker> Tracker() {
    return std::make_shared<AckTracker>(1, 1, [this](absl::Status status) {
      status_ = std::move(status);
      done_.Notify();
    });
  }
  bool Wait(absl::Duration timeout) {
    return done_.WaitForNotificationWithTimeout(timeout);
  }
  bool HasBeenNotified() const { return done_.HasBeenNotified(); }
  const absl::Status& status() const { return status_; }

 private:
  absl::Notification done_;
  absl::Status status_;
};

v1::ReplicateItem Write(uint64_t version, uint64_t previous) {
  v1::ReplicateItem item;
  item.set_term(1);
  item.set_previous_version(previous);
  v1::ReplicatedWrite* write = item.mutable_write();
  write->set_partition(0);
  write->set_namespace_("objects");
  write->set_key(absl::StrCat("k", version));
  write->set_value("v");
  write->set_version(version);
  return item;
}

std::shared_ptr<ReplicationLink> MakeLink(const std::string& address,
                                          absl::Duration write_deadline) {
  auto channels = std::make_shared<NodeChannels>(nullptr);
  ReplicationLinkOptions options;
  options.write_deadline = write_deadline;
  return std::make_shared<ReplicationLink>("primary", "backup",
                                           channels->Stub(address), options);
}

// Closes `link` and waits until its stream let it go (gRPC must not call
// into it after the test).
void Release(std::shared_ptr<ReplicationLink> link) {
  link->Close();
  std::weak_ptr<ReplicationLink> gone = link;
  link.reset();
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!gone.expired() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(gone.expired());
}

TEST(ReplicationLinkTest, AWriteWaitsForARestartedBackup) {
  BackupState state;
  BackupServer backup(&state);
  std::shared_ptr<ReplicationLink> link =
      MakeLink(backup.address(), absl::Seconds(10));
  Outcome first;
  link->Send(Write(1, 0), first.Tracker());
  ASSERT_TRUE(first.Wait(absl::Seconds(10)));
  ASSERT_TRUE(first.status().ok()) << first.status();

  // The backup goes away and comes back on the same port: the write sent
  // meanwhile reaches it then, over a new stream.
  backup.Stop();
  Outcome second;
  link->Send(Write(2, 1), second.Tracker());
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_FALSE(second.HasBeenNotified()) << second.status();
  backup.Start();
  ASSERT_TRUE(second.Wait(absl::Seconds(10)));
  EXPECT_TRUE(second.status().ok()) << second.status();
  EXPECT_GE(state.Received(2), 1);
  EXPECT_EQ(link->ContiguousVersion(0), 2u);
  Release(std::move(link));
}

TEST(ReplicationLinkTest, ABatchLeftUnansweredIsSentAgain) {
  BackupState state;
  {
    absl::MutexLock lock(&state.mu);
    state.batches_to_drop = 1;
  }
  BackupServer backup(&state);
  std::shared_ptr<ReplicationLink> link =
      MakeLink(backup.address(), absl::Seconds(10));
  Outcome outcome;
  link->Send(Write(1, 0), outcome.Tracker());
  ASSERT_TRUE(outcome.Wait(absl::Seconds(10)));
  EXPECT_TRUE(outcome.status().ok()) << outcome.status();
  EXPECT_EQ(state.Received(1), 2);

  // Later writes follow on the new stream, in order.
  Outcome next;
  link->Send(Write(2, 1), next.Tracker());
  ASSERT_TRUE(next.Wait(absl::Seconds(10)));
  EXPECT_TRUE(next.status().ok()) << next.status();
  EXPECT_EQ(link->ContiguousVersion(0), 2u);
  Release(std::move(link));
}

TEST(ReplicationLinkTest, AWriteFailsOnceItsDeadlinePassed) {
  BackupState state;
  BackupServer backup(&state);
  const std::string address = backup.address();
  backup.Stop();
  std::shared_ptr<ReplicationLink> link =
      MakeLink(address, absl::Milliseconds(300));
  const absl::Time sent = absl::Now();
  Outcome outcome;
  link->Send(Write(1, 0), outcome.Tracker());
  ASSERT_TRUE(outcome.Wait(absl::Seconds(10)));
  const absl::Duration took = absl::Now() - sent;
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(outcome.status().message(), HasSubstr("may or may not persist"));
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(2));
  Release(std::move(link));
}

TEST(ReplicationLinkTest, CloseFailsTheWritesNotYetAnswered) {
  BackupState state;
  BackupServer backup(&state);
  const std::string address = backup.address();
  backup.Stop();
  std::shared_ptr<ReplicationLink> link = MakeLink(address, absl::Seconds(10));
  Outcome outcome;
  link->Send(Write(1, 0), outcome.Tracker());
  link->Close();
  ASSERT_TRUE(outcome.Wait(absl::Seconds(2)));
  EXPECT_THAT(outcome.status().message(), HasSubstr("left the table"));
  Release(std::move(link));
}

}  // namespace
}  // namespace parley::cache
