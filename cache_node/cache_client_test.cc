#include "cache_node/cache_client.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_node/cache_node_core.h"
#include "cache_node/cache_node_service.h"
#include "cache_node/node_channels.h"
#include "cache_node/partition_store.h"
#include "cache_node/test_tables.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/common/testing/status_matchers.h"

namespace parley::cache {
namespace {

using ::parley::testing::MakeTempDir;
using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kNamespace[] = "objects";

// A coordinator that only serves the partition table the test sets.
class FakeCoordinator final : public v1::Coordinator::Service {
 public:
  FakeCoordinator() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeCoordinator() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    server_->Shutdown();
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  void SetTable(v1::PartitionTable table) {
    absl::MutexLock lock(&mu_);
    table_ = std::move(table);
  }

  grpc::Status WatchPartitionTable(
      grpc::ServerContext* context, const v1::WatchPartitionTableRequest*,
      grpc::ServerWriter<v1::PartitionTable>* writer) override {
    uint64_t sent = 0;
    while (!context->IsCancelled()) {
      v1::PartitionTable table;
      {
        absl::MutexLock lock(&mu_);
        auto changed = [this, sent]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
          return stopping_ || table_.epoch() != sent;
        };
        mu_.AwaitWithTimeout(absl::Condition(&changed), absl::Milliseconds(50));
        if (stopping_) break;
        if (table_.epoch() == sent) continue;
        table = table_;
      }
      if (!writer->Write(table)) break;
      sent = table.epoch();
    }
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  v1::PartitionTable table_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// A cache node whose answers the test scripts: `answer(request, attempt)`
// gives the response to the attempt-th operation seen (1-based), or
// nullopt to break the stream instead of answering.
class ScriptedNode final : public v1::CacheNode::Service {
 public:
  using Script = std::function<std::optional<v1::PipelineResponse>(
      const v1::PipelineRequest&, int attempt)>;

  explicit ScriptedNode(Script script) : script_(std::move(script)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~ScriptedNode() override { server_->Shutdown(); }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int attempts() const { return attempts_.load(); }

  grpc::Status Pipeline(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::PipelineResponses, v1::PipelineRequests>*
          stream) override {
    v1::PipelineRequests batch;
    while (stream->Read(&batch)) {
      v1::PipelineResponses answers;
      for (const v1::PipelineRequest& request : batch.requests()) {
        std::optional<v1::PipelineResponse> answer =
            script_(request, ++attempts_);
        if (!answer.has_value()) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "the node went away");
        }
        answer->set_id(request.id());
        *answers.add_responses() = std::move(*answer);
      }
      if (!stream->Write(answers)) break;
    }
    return grpc::Status::OK;
  }

 private:
  const Script script_;
  std::atomic<int> attempts_{0};
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

v1::PipelineResponse Refusal(absl::StatusCode code, const std::string& message,
                             bool not_applied) {
  v1::PipelineResponse response;
  response.set_code(static_cast<int>(code));
  response.set_message(message);
  response.set_not_applied(not_applied);
  return response;
}

v1::PipelineResponse Written(uint64_t version) {
  v1::PipelineResponse response;
  response.mutable_put()->set_version(version);
  return response;
}

class CacheClientRetryTest : public ::testing::Test {
 protected:
  // A client following `coordinator_`, whose table makes `node` the
  // primary of everything.
  std::unique_ptr<CacheClient> ConnectTo(const std::string& node_address) {
    coordinator_.SetTable(
        UniformTable(1, 1, 4, {"node"}, {{"node", node_address}}));
    CacheClientOptions options;
    options.coordinator_address = coordinator_.address();
    options.operation_timeout = absl::Seconds(3);
    absl::StatusOr<std::unique_ptr<CacheClient>> client =
        CacheClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  FakeCoordinator coordinator_;
};

TEST_F(CacheClientRetryTest, RetriesACompareAndSetTheTierDidNotApply) {
  ScriptedNode node([](const v1::PipelineRequest&, int attempt) {
    if (attempt <= 3) {
      return Refusal(absl::StatusCode::kUnavailable,
                     "partition 1 is being taken over; retry",
                     /*not_applied=*/true);
    }
    return Written(7);
  });
  std::unique_ptr<CacheClient> client = ConnectTo(node.address());
  ASSERT_NE(client, nullptr);
  absl::StatusOr<uint64_t> version =
      client->Put(kNamespace, "k", "v", 0, /*expected_version=*/0);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 7u);
  EXPECT_EQ(node.attempts(), 4);
}

TEST_F(CacheClientRetryTest, GivesUpOnANotAppliedWriteAtTheOperationDeadline) {
  ScriptedNode node([](const v1::PipelineRequest&, int) {
    return Refusal(absl::StatusCode::kUnavailable,
                   "partition 1 is being taken over; retry",
                   /*not_applied=*/true);
  });
  std::unique_ptr<CacheClient> client = ConnectTo(node.address());
  ASSERT_NE(client, nullptr);
  const absl::Time start = absl::Now();
  EXPECT_THAT(
      client->Put(kNamespace, "k", "v", 0, /*expected_version=*/0),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("being taken over")));
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Seconds(2));
  EXPECT_LT(took, absl::Seconds(5));
  // With a backoff between attempts (jittered, up to 500 ms).
  EXPECT_GT(node.attempts(), 3);
  EXPECT_LT(node.attempts(), 50);
}

TEST_F(CacheClientRetryTest, DoesNotRetryACompareAndSetOfUnknownOutcome) {
  // The primary stored the write but could not have it replicated: it may
  // or may not persist.
  ScriptedNode node([](const v1::PipelineRequest&, int attempt) {
    if (attempt <= 2) {
      return Refusal(absl::StatusCode::kUnavailable,
                     "the write reached 0 of 1 backup(s) needed; it may or "
                     "may not persist",
                     /*not_applied=*/false);
    }
    return Written(9);
  });
  std::unique_ptr<CacheClient> client = ConnectTo(node.address());
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(client->Put(kNamespace, "k", "v", 0, /*expected_version=*/0),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("may or may not persist")));
  EXPECT_EQ(node.attempts(), 1);
  // An unconditional write may be repeated.
  absl::StatusOr<uint64_t> version = client->Put(kNamespace, "k", "v");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(node.attempts(), 3);
}

TEST_F(CacheClientRetryTest, DoesNotRetryACompareAndSetWhenTheStreamBreaks) {
  ScriptedNode node([](const v1::PipelineRequest&,
                       int attempt) -> std::optional<v1::PipelineResponse> {
    if (attempt == 1) return std::nullopt;
    return Written(11);
  });
  std::unique_ptr<CacheClient> client = ConnectTo(node.address());
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(client->Put(kNamespace, "k", "v", 0, /*expected_version=*/3),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("stream to the cache node ended")));
  EXPECT_EQ(node.attempts(), 1);
  // The next operation opens a new stream.
  absl::StatusOr<uint64_t> version =
      client->Put(kNamespace, "k", "v", 0, /*expected_version=*/3);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(node.attempts(), 2);
}

// Real cache nodes: a compare-and-set sent while its partition is being
// taken over waits for the takeover instead of failing, also through a node
// that forwards it to the primary.
class CacheClientTakeoverTest : public ::testing::Test {
 protected:
  struct Node {
    std::string id;
    std::unique_ptr<PartitionStore> store;
    std::unique_ptr<CacheNodeCore> core;
    std::unique_ptr<CacheNodeService> service;
    std::unique_ptr<grpc::Server> server;
    std::string address;

    ~Node() {
      if (server != nullptr) {
        service->CloseStreams();
        server->Shutdown();
      }
      if (core != nullptr) core->Stop();
    }
  };

  std::unique_ptr<Node> StartNode(const std::string& id) {
    auto node = std::make_unique<Node>();
    node->id = id;
    PartitionStoreOptions store_options;
    store_options.data_dir = MakeTempDir(absl::StrCat("cache_client_", id));
    store_options.block_cache_bytes = 8 << 20;
    absl::StatusOr<std::unique_ptr<PartitionStore>> store =
        PartitionStore::Open(store_options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    node->store = std::move(*store);
    CacheNodeOptions options;
    options.node_id = id;
    auto channels = std::make_shared<NodeChannels>(nullptr);
    node->core =
        std::make_unique<CacheNodeCore>(options, node->store.get(), channels);
    node->service = std::make_unique<CacheNodeService>(
        node->core.get(), channels,
        [](bool) -> absl::StatusOr<uint32_t> { return 0u; });
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(node->service.get());
    node->server = builder.BuildAndStart();
    node->address = absl::StrCat("127.0.0.1:", port);
    return node;
  }

  std::unique_ptr<CacheClient> Connect() {
    CacheClientOptions options;
    options.coordinator_address = coordinator_.address();
    options.operation_timeout = absl::Seconds(10);
    absl::StatusOr<std::unique_ptr<CacheClient>> client =
        CacheClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  // "ghost" is a copy to catch up from that nothing answers for: while the
  // table names it, a promotion waits for it.
  static constexpr char kGhostAddress[] = "127.0.0.1:1";

  FakeCoordinator coordinator_;
};

TEST_F(CacheClientTakeoverTest, ACompareAndSetWaitsForTheTakeover) {
  std::unique_ptr<Node> node = StartNode("a");
  ASSERT_NE(node, nullptr);
  const auto with_ghost =
      UniformTable(1, 1, 4, {"a", "ghost"},
                   {{"a", node->address}, {"ghost", kGhostAddress}});
  node->core->OnTable(with_ghost);
  coordinator_.SetTable(with_ghost);
  std::unique_ptr<CacheClient> client = Connect();
  ASSERT_NE(client, nullptr);

  std::atomic<bool> done{false};
  absl::StatusOr<uint64_t> version;
  const absl::Time start = absl::Now();
  std::thread writer([&] {
    version = client->Put(kNamespace, "k", "v", 0, /*expected_version=*/0);
    done = true;
  });
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_FALSE(done) << version.status();
  // The ghost leaves the table: the takeover ends, the write goes through.
  node->core->OnTable(UniformTable(2, 1, 4, {"a"}, {{"a", node->address}}));
  writer.join();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(500));
  // Applied once: the same compare-and-set now finds the entry.
  EXPECT_THAT(client->Put(kNamespace, "k", "w", 0, /*expected_version=*/0),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("")));
}

TEST_F(CacheClientTakeoverTest, TheVerdictCrossesAForwardingNode) {
  // The client sends to "a", which forwards to the primary "b" (the
  // client's table is stale); "b" is being taken over.
  std::unique_ptr<Node> a = StartNode("a");
  std::unique_ptr<Node> b = StartNode("b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const auto with_ghost = UniformTable(
      2, 2, 4, {"b", "ghost"}, {{"b", b->address}, {"ghost", kGhostAddress}});
  a->core->OnTable(with_ghost);
  b->core->OnTable(with_ghost);
  coordinator_.SetTable(UniformTable(1, 1, 4, {"a"}, {{"a", a->address}}));
  std::unique_ptr<CacheClient> client = Connect();
  ASSERT_NE(client, nullptr);

  std::atomic<bool> done{false};
  absl::StatusOr<uint64_t> version;
  std::thread writer([&] {
    version = client->Put(kNamespace, "k", "v", 0, /*expected_version=*/0);
    done = true;
  });
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_FALSE(done) << version.status();
  b->core->OnTable(UniformTable(3, 2, 4, {"b"}, {{"b", b->address}}));
  writer.join();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_GT(a->core->Stats().forwards(), 1u);
}

}  // namespace
}  // namespace parley::cache
