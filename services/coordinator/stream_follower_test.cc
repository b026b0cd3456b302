#include "services/coordinator/stream_follower.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/coordinator/watch_requests.h"

namespace parley::coordinator {
namespace {

using Follower = StreamFollower<v1::ConfigEvent>;

// A coordinator stand-in whose WatchConfig sends the revisions of its next
// script entry (one per call), then ends the stream or, when the entry
// says so, keeps it open until the client cancels.
class ScriptedWatch final : public v1::Coordinator::Service {
 public:
  struct Script {
    std::vector<uint64_t> revisions;
    bool hold_open = false;
  };

  explicit ScriptedWatch(std::vector<Script> scripts)
      : scripts_(std::move(scripts)) {}

  grpc::Status WatchConfig(
      grpc::ServerContext* context, const v1::WatchConfigRequest* request,
      grpc::ServerWriter<v1::ConfigEvent>* writer) override {
    Script script;
    {
      absl::MutexLock lock(&mu_);
      prefixes_.push_back(request->prefix());
      const size_t call = calls_++;
      script = call < scripts_.size() ? scripts_[call] : Script{{}, true};
    }
    for (uint64_t revision : script.revisions) {
      v1::ConfigEvent event;
      event.set_revision(revision);
      if (!writer->Write(event)) return grpc::Status::CANCELLED;
    }
    while (script.hold_open && !context->IsCancelled()) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    return grpc::Status::OK;
  }

  int calls() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(calls_);
  }
  std::vector<std::string> prefixes() {
    absl::MutexLock lock(&mu_);
    return prefixes_;
  }

 private:
  const std::vector<Script> scripts_;
  absl::Mutex mu_;
  size_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> prefixes_ ABSL_GUARDED_BY(mu_);
};

class StreamFollowerTest : public ::testing::Test {
 protected:
  void Serve(std::vector<ScriptedWatch::Script> scripts) {
    service_ = std::make_unique<ScriptedWatch>(std::move(scripts));
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Coordinator::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                            grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }

  Follower::Opener OpenWatch(const std::string& prefix) {
    return [this, request = WatchConfigUnder(prefix)](
               grpc::ClientContext* context, Follower::Reactor* reactor) {
      stub_->async()->WatchConfig(context, &request, reactor);
    };
  }

  // What the follower handed over, and on which threads.
  struct Seen {
    absl::Mutex mu;
    std::vector<uint64_t> revisions ABSL_GUARDED_BY(mu);
    std::vector<std::thread::id> threads ABSL_GUARDED_BY(mu);
    int disconnects ABSL_GUARDED_BY(mu) = 0;

    bool WaitForRevisions(size_t n, absl::Duration timeout) {
      auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
        return revisions.size() >= n;
      };
      absl::MutexLock lock(&mu);
      return mu.AwaitWithTimeout(absl::Condition(&enough), timeout);
    }
  };

  std::unique_ptr<Follower> MakeFollower(
      Seen& seen, absl::Duration pause,
      absl::Duration per_message = absl::ZeroDuration()) {
    return std::make_unique<Follower>(
        "test watch", OpenWatch("groups"),
        [&seen, per_message](const v1::ConfigEvent& event) {
          absl::SleepFor(per_message);
          absl::MutexLock lock(&seen.mu);
          seen.revisions.push_back(event.revision());
          seen.threads.push_back(std::this_thread::get_id());
        },
        [&seen] {
          absl::MutexLock lock(&seen.mu);
          ++seen.disconnects;
        },
        RetryPolicy{pause, pause, 1.0, 0});
  }

  std::unique_ptr<ScriptedWatch> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
};

TEST_F(StreamFollowerTest, HandsOverEveryMessageInOrderOnItsOwnThread) {
  std::vector<uint64_t> revisions;
  for (uint64_t r = 1; r <= 200; ++r) revisions.push_back(r);
  Serve({{revisions, /*hold_open=*/true}});
  Seen seen;
  // A slow receiver: messages wait for it, none is lost or reordered.
  auto follower =
      MakeFollower(seen, absl::Milliseconds(10), absl::Microseconds(200));
  follower->Start();
  ASSERT_TRUE(seen.WaitForRevisions(200, absl::Seconds(20)));
  follower->Stop();
  absl::MutexLock lock(&seen.mu);
  EXPECT_EQ(seen.revisions, revisions);
  for (const std::thread::id& id : seen.threads) {
    EXPECT_EQ(id, seen.threads.front());
  }
  EXPECT_NE(seen.threads.front(), std::this_thread::get_id());
  EXPECT_EQ(service_->prefixes(), std::vector<std::string>{"groups"});
}

TEST_F(StreamFollowerTest, ReconnectsAfterTheStreamEnds) {
  Serve({{{1, 2}, false}, {{}, false}, {{3}, true}});
  Seen seen;
  auto follower = MakeFollower(seen, absl::Milliseconds(10));
  follower->Start();
  ASSERT_TRUE(seen.WaitForRevisions(3, absl::Seconds(20)));
  follower->Stop();
  EXPECT_EQ(service_->calls(), 3);
  absl::MutexLock lock(&seen.mu);
  EXPECT_EQ(seen.revisions, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(seen.disconnects, 2);
}

TEST_F(StreamFollowerTest, StopEndsAnOpenIdleStreamPromptly) {
  Serve({{{7}, true}});
  Seen seen;
  auto follower = MakeFollower(seen, absl::Milliseconds(10));
  follower->Start();
  ASSERT_TRUE(seen.WaitForRevisions(1, absl::Seconds(20)));
  const absl::Time start = absl::Now();
  follower->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  follower->Stop();  // idempotent
  EXPECT_EQ(service_->calls(), 1);
}

TEST_F(StreamFollowerTest, StopCutsTheReconnectPauseShort) {
  // Nothing listens: every attempt fails, then the follower pauses 60 s.
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  std::unique_ptr<grpc::Server> closed = builder.BuildAndStart();
  ASSERT_NE(closed, nullptr);
  closed->Shutdown();
  closed->Wait();
  stub_ = v1::Coordinator::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  Seen seen;
  auto follower = MakeFollower(seen, absl::Seconds(60));
  follower->Start();
  for (int i = 0; i < 400; ++i) {
    {
      absl::MutexLock lock(&seen.mu);
      if (seen.disconnects > 0) break;
    }
    absl::SleepFor(absl::Milliseconds(25));
  }
  const absl::Time start = absl::Now();
  follower->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  absl::MutexLock lock(&seen.mu);
  EXPECT_EQ(seen.disconnects, 1);
  EXPECT_TRUE(seen.revisions.empty());
}

TEST_F(StreamFollowerTest, StopBeforeStartAndWithoutStartIsSafe) {
  Serve({});
  Seen seen;
  auto never_started = MakeFollower(seen, absl::Milliseconds(10));
  never_started->Stop();
  auto started = MakeFollower(seen, absl::Milliseconds(10));
  started->Start();
  started.reset();  // the destructor stops it
  absl::MutexLock lock(&seen.mu);
  EXPECT_TRUE(seen.revisions.empty());
}

}  // namespace
}  // namespace parley::coordinator
