// Cross-service tests against a real parley-coordinator process on
// 127.0.0.1.
#include <signal.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/coordinator/member_agent.h"
#include "tests/support/child_process.h"

namespace parley {
namespace {

using ::parley::testing::StartedServer;
using ::testing::HasSubstr;
namespace v1 = ::parley::v1;

constexpr char kCoordinator[] = "services/coordinator/parley-coordinator";

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTempDir(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    Start();
  }

  // Starts the coordinator on data_dir_ (port 0 unless `port` is given).
  void Start(int port = 0) {
    std::vector<std::string> args = {absl::StrCat("--data_dir=", dir_, "/data"),
                                     "--partitions=64"};
    absl::StatusOr<StartedServer> server;
    if (port == 0) {
      server = testing::StartServer(testing::RunfilePath(kCoordinator), args,
                                    dir_, "coordinator");
    } else {
      // Same port again, so clients reconnect to the same address.
      args.push_back(absl::StrCat("--listen=127.0.0.1:", port));
      const std::string port_file = dir_ + "/coordinator-again.port";
      args.push_back("--port_file=" + port_file);
      auto process = testing::ChildProcess::Spawn(
          testing::RunfilePath(kCoordinator), args, dir_ + "/coordinator.log");
      ASSERT_TRUE(process.ok());
      absl::StatusOr<int> bound =
          testing::WaitForPortFile(port_file, absl::Seconds(20));
      ASSERT_TRUE(bound.ok()) << (*process)->Log();
      server = StartedServer{std::move(*process), *bound};
    }
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::Coordinator::NewStub(grpc::CreateChannel(
        server_.address(), grpc::InsecureChannelCredentials()));
  }

  // SIGTERM, expecting a clean exit.
  void StopGracefully() {
    server_.process->Signal(SIGTERM);
    absl::StatusOr<int> code = server_.process->Wait(absl::Seconds(15));
    ASSERT_TRUE(code.ok()) << "coordinator did not stop on SIGTERM";
    EXPECT_EQ(*code, 0) << server_.process->Log();
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      absl::Duration timeout = absl::Seconds(5)) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return context;
  }

  grpc::Status CreateGroup(const std::string& name, v1::ServerGroup* group,
                           std::optional<uint32_t> channel = std::nullopt) {
    v1::CreateGroupRequest request;
    request.set_name(name);
    if (channel.has_value()) request.set_broadcast_channel(*channel);
    return stub_->CreateGroup(Context().get(), request, group);
  }

  v1::JoinResponse Join(const std::string& id, v1::MemberRole role,
                        const std::string& group, int port, uint32_t ttl = 0) {
    v1::JoinRequest request;
    request.mutable_member()->set_id(id);
    request.mutable_member()->set_role(role);
    request.mutable_member()->set_group(group);
    request.mutable_member()->set_address(absl::StrCat("127.0.0.1:", port));
    request.set_ttl_seconds(ttl);
    v1::JoinResponse response;
    grpc::Status status = stub_->Join(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::string dir_;
  StartedServer server_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
};

TEST_F(CoordinatorTest, GroupsGetDistinctChannelsAndDuplicatesAreRefused) {
  v1::ServerGroup web, callcenter;
  ASSERT_TRUE(CreateGroup("web", &web).ok());
  ASSERT_TRUE(CreateGroup("callcenter", &callcenter).ok());
  EXPECT_NE(web.broadcast_channel(), callcenter.broadcast_channel());
  EXPECT_EQ(web.settings().cache_type(), v1::DISTRIBUTED);
  EXPECT_EQ(web.settings().session_timeout_seconds().value(), 300u);

  v1::ServerGroup mobile;
  grpc::Status taken = CreateGroup("mobile", &mobile, web.broadcast_channel());
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(taken.error_message(), HasSubstr("'web'"));

  ASSERT_TRUE(CreateGroup("mobile", &mobile, 4242).ok());
  EXPECT_EQ(mobile.broadcast_channel(), 4242u);

  v1::ListGroupsResponse list;
  ASSERT_TRUE(
      stub_->ListGroups(Context().get(), v1::ListGroupsRequest(), &list).ok());
  EXPECT_EQ(list.groups_size(), 3);
}

TEST_F(CoordinatorTest, BadInputGetsActionableErrors) {
  v1::ServerGroup group;
  grpc::Status empty = CreateGroup("", &group);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(empty.error_message(), HasSubstr("name is empty"));
  EXPECT_EQ(CreateGroup(std::string(100, 'a'), &group).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreateGroup("web", &group, 70000).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::GetGroupRequest get;
  get.set_name("nowhere");
  grpc::Status missing = stub_->GetGroup(Context().get(), get, &group);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);

  v1::JoinRequest join;
  join.mutable_member()->set_id("rt-1");
  join.mutable_member()->set_role(v1::RUNTIME_SERVER);
  join.mutable_member()->set_group("nowhere");
  join.mutable_member()->set_address("127.0.0.1:1");
  v1::JoinResponse joined;
  EXPECT_EQ(stub_->Join(Context().get(), join, &joined).error_code(),
            grpc::StatusCode::NOT_FOUND);
  join.set_ttl_seconds(100000);
  EXPECT_EQ(stub_->Join(Context().get(), join, &joined).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::SetConfigRequest set;
  set.set_path("/leading/slash");
  v1::ConfigEntry entry;
  EXPECT_EQ(stub_->SetConfig(Context().get(), set, &entry).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::PublishRequest publish;
  publish.set_group("web");
  v1::PublishResponse published;
  EXPECT_EQ(stub_->Publish(Context().get(), publish, &published).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // The server is still there.
  v1::ListGroupsResponse list;
  EXPECT_TRUE(
      stub_->ListGroups(Context().get(), v1::ListGroupsRequest(), &list).ok());
}

TEST_F(CoordinatorTest, WatcherSeesJoinAndLapsedLeaseWithinTtlPlusOneSecond) {
  v1::ServerGroup web;
  ASSERT_TRUE(CreateGroup("web", &web).ok());

  grpc::ClientContext watch_context;
  v1::WatchMembershipRequest watch;
  watch.set_group("web");
  auto reader = stub_->WatchMembership(&watch_context, watch);
  v1::MembershipEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), v1::MembershipEvent::FULL_VIEW);
  EXPECT_EQ(event.view().members_size(), 0);
  const uint64_t first_epoch = event.epoch();

  constexpr uint32_t kTtlSeconds = 2;
  v1::JoinResponse lease =
      Join("rt-1", v1::RUNTIME_SERVER, "web", 7601, kTtlSeconds);
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), v1::MembershipEvent::JOINED);
  EXPECT_EQ(event.member().id(), "rt-1");
  EXPECT_GT(event.epoch(), first_epoch);

  // Keep it alive past its TTL, then stop.
  absl::Time last_heartbeat;
  for (int i = 0; i < 6; ++i) {
    v1::HeartbeatRequest heartbeat;
    heartbeat.set_member_id("rt-1");
    heartbeat.set_lease_id(lease.lease_id());
    v1::HeartbeatResponse renewed;
    ASSERT_TRUE(stub_->Heartbeat(Context().get(), heartbeat, &renewed).ok());
    last_heartbeat = absl::Now();
    absl::SleepFor(absl::Milliseconds(500));
  }
  v1::ListMembersRequest list;
  list.set_group("web");
  v1::MembershipView view;
  ASSERT_TRUE(stub_->ListMembers(Context().get(), list, &view).ok());
  ASSERT_EQ(view.members_size(), 1) << "expired while heartbeating";

  ASSERT_TRUE(reader->Read(&event));
  const absl::Duration gone_after = absl::Now() - last_heartbeat;
  EXPECT_EQ(event.kind(), v1::MembershipEvent::EXPIRED);
  EXPECT_EQ(event.member().id(), "rt-1");
  EXPECT_LE(gone_after, absl::Seconds(kTtlSeconds + 1));
  EXPECT_GE(gone_after, absl::Seconds(kTtlSeconds) - absl::Milliseconds(600));
  ASSERT_TRUE(stub_->ListMembers(Context().get(), list, &view).ok());
  EXPECT_EQ(view.members_size(), 0);

  // The group and its settings outlive its last member.
  v1::GetGroupRequest get;
  get.set_name("web");
  v1::ServerGroup after;
  ASSERT_TRUE(stub_->GetGroup(Context().get(), get, &after).ok());
  EXPECT_EQ(after.broadcast_channel(), web.broadcast_channel());
  watch_context.TryCancel();
}

TEST_F(CoordinatorTest, DeletingGroupWithLiveMembersIsRefused) {
  v1::ServerGroup web;
  ASSERT_TRUE(CreateGroup("web", &web).ok());
  v1::JoinResponse lease = Join("rt-1", v1::RUNTIME_SERVER, "web", 7601);
  v1::DeleteGroupRequest remove;
  remove.set_name("web");
  v1::DeleteGroupResponse removed;
  grpc::Status refused = stub_->DeleteGroup(Context().get(), remove, &removed);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("rt-1"));
  v1::LeaveRequest leave;
  leave.set_member_id("rt-1");
  leave.set_lease_id(lease.lease_id());
  v1::LeaveResponse left;
  ASSERT_TRUE(stub_->Leave(Context().get(), leave, &left).ok());
  EXPECT_TRUE(stub_->DeleteGroup(Context().get(), remove, &removed).ok());
}

// Reads a subscription until `count` entries arrived in all or `stop_after`
// entries arrived in this stream; appends sequences to `seen`.
struct SubscriptionReader {
  std::vector<uint64_t> seen;
  std::vector<std::string> keys;
  uint64_t epoch = 0;
  int resets = 0;
};

TEST_F(CoordinatorTest, SubscriberResumesWithEveryEntryExactlyOnceInOrder) {
  v1::ServerGroup web;
  ASSERT_TRUE(CreateGroup("web", &web).ok());
  constexpr int kEntries = 10000;

  std::mt19937 random(20261126);
  const int drop_after =
      std::uniform_int_distribution<int>(500, kEntries - 500)(random);

  SubscriptionReader reader;
  auto subscribe = [&](const v1::StreamPosition* resume,
                       grpc::ClientContext* context) {
    v1::SubscribeRequest request;
    request.set_group("web");
    if (resume != nullptr) *request.mutable_resume_after() = *resume;
    return stub_->Subscribe(context, request);
  };

  auto first_context = std::make_unique<grpc::ClientContext>();
  auto stream = subscribe(nullptr, first_context.get());
  v1::BroadcastEvent event;
  ASSERT_TRUE(stream->Read(&event));
  ASSERT_EQ(event.kind(), v1::BroadcastEvent::STARTED);
  reader.epoch = event.epoch();

  // Publish from another thread in random-sized batches.
  std::thread publisher([&] {
    std::mt19937 sizes(7);
    int published = 0;
    while (published < kEntries) {
      int batch = std::min(kEntries - published,
                           std::uniform_int_distribution<int>(1, 97)(sizes));
      v1::PublishRequest request;
      request.set_group("web");
      request.set_origin("publisher");
      for (int i = 0; i < batch; ++i) {
        v1::BroadcastEntry* entry = request.add_entries();
        entry->set_namespace_("sessions/web");
        entry->set_key(absl::StrCat("k", published + i));
        entry->set_version(published + i + 1);
      }
      v1::PublishResponse response;
      grpc::Status status = stub_->Publish(Context().get(), request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      published += batch;
    }
  });

  auto consume = [&](decltype(stream)& s, int limit) {
    while (static_cast<int>(reader.seen.size()) < limit && s->Read(&event)) {
      if (event.kind() == v1::BroadcastEvent::RESET) ++reader.resets;
      for (const v1::BroadcastEntry& entry : event.entries()) {
        reader.seen.push_back(entry.sequence());
        reader.keys.push_back(entry.key());
        EXPECT_EQ(entry.epoch(), reader.epoch);
      }
    }
  };
  consume(stream, drop_after);
  // Drop the stream mid-flight.
  first_context->TryCancel();
  stream->Finish().IgnoreError();

  v1::StreamPosition resume;
  resume.set_epoch(reader.epoch);
  resume.set_sequence(reader.seen.back());
  auto second_context = std::make_unique<grpc::ClientContext>();
  second_context->set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto resumed = subscribe(&resume, second_context.get());
  consume(resumed, kEntries);
  publisher.join();
  second_context->TryCancel();

  EXPECT_EQ(reader.resets, 0);
  ASSERT_EQ(reader.seen.size(), static_cast<size_t>(kEntries));
  for (int i = 0; i < kEntries; ++i) {
    ASSERT_EQ(reader.seen[i], static_cast<uint64_t>(i + 1)) << "at " << i;
    ASSERT_EQ(reader.keys[i], absl::StrCat("k", i)) << "at " << i;
  }
}

TEST_F(CoordinatorTest, RestartKeepsStateAndSubscribersGetReset) {
  v1::ServerGroup web;
  ASSERT_TRUE(CreateGroup("web", &web).ok());
  v1::SetConfigRequest set;
  set.set_path("groups/web/cache/type");
  set.set_value("LOCAL");
  v1::ConfigEntry entry;
  ASSERT_TRUE(stub_->SetConfig(Context().get(), set, &entry).ok());
  set.set_path("offers/banner/max_per_session");
  set.set_value("3");
  ASSERT_TRUE(stub_->SetConfig(Context().get(), set, &entry).ok());
  // Leases that outlast the graceful stop (which waits up to its grace for
  // the open Subscribe stream): the table must not move before the restart.
  for (int i = 1; i <= 3; ++i) {
    Join(absl::StrCat("cache-", i), v1::CACHE_NODE, "", 7500 + i,
         /*ttl=*/60);
  }
  v1::PartitionTable table_before;
  ASSERT_TRUE(stub_
                  ->GetPartitionTable(Context().get(),
                                      v1::GetPartitionTableRequest(),
                                      &table_before)
                  .ok());
  ASSERT_GT(table_before.epoch(), 0u);
  ASSERT_EQ(table_before.partitions(0).replicas_size(), 3);

  v1::PublishRequest publish;
  publish.set_group("web");
  publish.add_entries()->set_namespace_("sessions/web");
  v1::PublishResponse published;
  ASSERT_TRUE(stub_->Publish(Context().get(), publish, &published).ok());

  // A subscriber attached across the restart.
  grpc::ClientContext subscribe_context;
  v1::SubscribeRequest subscribe;
  subscribe.set_group("web");
  auto stream = stub_->Subscribe(&subscribe_context, subscribe);
  v1::BroadcastEvent event;
  ASSERT_TRUE(stream->Read(&event));

  const int port = server_.port;
  StopGracefully();
  EXPECT_FALSE(stream->Read(&event));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(server_.process->Log(), HasSubstr("stopped cleanly"));

  Start(port);
  v1::GetGroupRequest get;
  get.set_name("web");
  v1::ServerGroup after;
  ASSERT_TRUE(stub_->GetGroup(Context().get(), get, &after).ok());
  EXPECT_EQ(after.broadcast_channel(), web.broadcast_channel());
  EXPECT_EQ(after.settings().cache_type(), v1::LOCAL);
  v1::GetConfigRequest get_config;
  get_config.set_path("offers/banner/max_per_session");
  ASSERT_TRUE(stub_->GetConfig(Context().get(), get_config, &entry).ok());
  EXPECT_EQ(entry.value(), "3");
  v1::PartitionTable table_after;
  ASSERT_TRUE(stub_
                  ->GetPartitionTable(Context().get(),
                                      v1::GetPartitionTableRequest(),
                                      &table_after)
                  .ok());
  EXPECT_EQ(table_after.SerializeAsString(), table_before.SerializeAsString());

  // Resuming from before the restart: explicit RESET.
  v1::StreamPosition resume;
  resume.set_epoch(published.epoch());
  resume.set_sequence(published.last_sequence());
  grpc::ClientContext again_context;
  *subscribe.mutable_resume_after() = resume;
  auto again = stub_->Subscribe(&again_context, subscribe);
  ASSERT_TRUE(again->Read(&event));
  EXPECT_EQ(event.kind(), v1::BroadcastEvent::RESET);
  EXPECT_GT(event.epoch(), published.epoch());
  EXPECT_THAT(event.reason(), HasSubstr("restarted"));
  again_context.TryCancel();
}

TEST_F(CoordinatorTest, MembersRejoinByThemselvesAfterCoordinatorLosesThem) {
  coordinator::MemberAgentOptions options;
  options.coordinator_address = server_.address();
  options.member.set_id("cache-1");
  options.member.set_role(v1::CACHE_NODE);
  options.member.set_address("127.0.0.1:7501");
  options.ttl_seconds = 1;
  coordinator::MemberAgent agent(options);
  agent.Start();
  ASSERT_TRUE(agent.WaitUntilJoined(absl::Seconds(10)).ok());
  const uint64_t first_epoch = agent.coordinator_epoch();

  // kill -9, then start again on the same data_dir and port: the member is
  // still known (its lease survives one TTL), heartbeats resume.
  const int port = server_.port;
  server_.process->Signal(SIGKILL);
  ASSERT_TRUE(server_.process->Wait(absl::Seconds(5)).ok());
  Start(port);
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (agent.coordinator_epoch() == first_epoch && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_GT(agent.coordinator_epoch(), first_epoch);

  // Wipe the coordinator's state: the agent notices and joins again.
  StopGracefully();
  std::filesystem::remove_all(dir_ + "/data");
  Start(port);
  deadline = absl::Now() + absl::Seconds(10);
  while (agent.joins() < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(agent.joins(), 2);
  v1::ListMembersRequest list;
  v1::MembershipView view;
  ASSERT_TRUE(stub_->ListMembers(Context().get(), list, &view).ok());
  ASSERT_EQ(view.members_size(), 1);
  EXPECT_EQ(view.members(0).id(), "cache-1");
  agent.Stop();
  ASSERT_TRUE(stub_->ListMembers(Context().get(), list, &view).ok());
  EXPECT_EQ(view.members_size(), 0) << "Stop leaves the coordinator";
}

}  // namespace
}  // namespace parley
