#include "services/coordinator/coordinator_service.h"

#include <memory>
#include <optional>

#include "services/common/auth/authorizer.h"
#include "services/common/grpc_status.h"
#include "services/common/unary_reply.h"
#include "services/coordinator/broadcast_log.h"

namespace parley::coordinator {
namespace {

// Watch streams end (ABORTED) when this many events wait for a reader.
constexpr size_t kMaxQueuedWatchEvents = 10000;

// Authorization of a membership call acting for `member`: a cache node's
// record is the nodes' (admin or node), a runtime server's its group's
// (admin, node or runtime:<group>).
absl::Status RequireActingFor(const grpc::ServerContextBase& context,
                              const v1::Member& member,
                              absl::string_view method) {
  if (member.role() == v1::CACHE_NODE) {
    return auth::Require(context, auth::Need::kNode, method);
  }
  return auth::RequireForGroup(context, auth::Need::kMember, member.group(),
                               method);
}

// The same for the live member `member_id`, whose record a call would
// renew, remove or (a Join under its id) replace; any member principal when
// there is none (the call then fails or joins on its own merits).
absl::Status RequireActingForLive(const grpc::ServerContextBase& context,
                                  const Membership& membership,
                                  absl::string_view member_id,
                                  absl::string_view method) {
  if (!auth::AuthEnabled()) return absl::OkStatus();
  std::optional<v1::Member> live = membership.Find(member_id);
  if (!live.has_value()) {
    return auth::Require(context, auth::Need::kMember, method);
  }
  return RequireActingFor(context, *live, method);
}

// Streams one group's broadcast to one subscriber. All its state is guarded
// by the group stream's lock, which also orders it against publishers.
class SubscribeReactor : public grpc::ServerWriteReactor<v1::BroadcastEvent>,
                         public BroadcastSubscriber,
                         public ClosableStream {
 public:
  SubscribeReactor(std::shared_ptr<GroupStream> stream,
                   const v1::SubscribeRequest& request,
                   const BroadcastLimits& limits, StreamRegistry* registry)
      : stream_(std::move(stream)), limits_(limits), registry_(registry) {
    {
      absl::MutexLock lock(&stream_->mu());
      cursor_ = StartSubscription(stream_->log(), request.has_resume_after()
                                                      ? &request.resume_after()
                                                      : nullptr);
      stream_->AddSubscriberLocked(this);
      WriteNextLocked();
    }
    registry_->Add(this);
  }

  void OnStreamChangedLocked() override { WriteNextLocked(); }

  std::optional<uint64_t> DeliveredLocked() const override {
    return cursor_.delivered;
  }

  void Close(const grpc::Status& status) override {
    absl::MutexLock lock(&stream_->mu());
    FinishLocked(status);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&stream_->mu());
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    WriteNextLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&stream_->mu());
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    stream_->RemoveSubscriber(this);
    registry_->Remove(this);
    delete this;
  }

 private:
  void WriteNextLocked() {
    if (writing_ || finished_) return;
    if (!finishing_ && stream_->closed()) {
      FinishLocked(grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          "the group's stream closed (group deleted or coordinator "
          "stopping); subscribe again"));
      return;
    }
    if (finishing_) {
      finished_ = true;
      Finish(final_status_);
      return;
    }
    if (NextBroadcastEvent(stream_->log(), limits_.max_subscriber_lag,
                           limits_.max_batch, &cursor_, &event_)) {
      writing_ = true;
      StartWrite(&event_);
    }
  }

  void FinishLocked(const grpc::Status& status) {
    if (finishing_) return;
    finishing_ = true;
    final_status_ = status;
    WriteNextLocked();
  }

  const std::shared_ptr<GroupStream> stream_;
  const BroadcastLimits limits_;
  StreamRegistry* const registry_;
  SubscriptionCursor cursor_;
  v1::BroadcastEvent event_;
  bool writing_ = false;
  bool finishing_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

}  // namespace

grpc::ServerUnaryReactor* CoordinatorService::CreateGroup(
    grpc::CallbackServerContext* context, const v1::CreateGroupRequest* request,
    v1::ServerGroup* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.Coordinator/CreateGroup");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->CreateGroup(*request), response);
}

grpc::ServerUnaryReactor* CoordinatorService::GetGroup(
    grpc::CallbackServerContext* context, const v1::GetGroupRequest* request,
    v1::ServerGroup* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAuthenticated,
                                          "parley.v1.Coordinator/GetGroup");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->GetGroup(*request), response);
}

grpc::ServerUnaryReactor* CoordinatorService::ListGroups(
    grpc::CallbackServerContext* context, const v1::ListGroupsRequest*,
    v1::ListGroupsResponse* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAuthenticated,
                                          "parley.v1.Coordinator/ListGroups");
      !denied.ok()) {
    return Reply(context, denied);
  }
  *response = core_->ListGroups();
  return Reply(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* CoordinatorService::UpdateGroup(
    grpc::CallbackServerContext* context, const v1::UpdateGroupRequest* request,
    v1::ServerGroup* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.Coordinator/UpdateGroup");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->UpdateGroup(*request), response);
}

grpc::ServerUnaryReactor* CoordinatorService::DeleteGroup(
    grpc::CallbackServerContext* context, const v1::DeleteGroupRequest* request,
    v1::DeleteGroupResponse*) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.Coordinator/DeleteGroup");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->DeleteGroup(*request));
}

grpc::ServerUnaryReactor* CoordinatorService::Join(
    grpc::CallbackServerContext* context, const v1::JoinRequest* request,
    v1::JoinResponse* response) {
  constexpr absl::string_view kMethod = "parley.v1.Coordinator/Join";
  if (absl::Status denied =
          RequireActingFor(*context, request->member(), kMethod);
      !denied.ok()) {
    return Reply(context, denied);
  }
  if (absl::Status denied = RequireActingForLive(
          *context, core_->membership(), request->member().id(), kMethod);
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->Join(*request), response);
}

grpc::ServerUnaryReactor* CoordinatorService::Heartbeat(
    grpc::CallbackServerContext* context, const v1::HeartbeatRequest* request,
    v1::HeartbeatResponse* response) {
  if (absl::Status denied = RequireActingForLive(
          *context, core_->membership(), request->member_id(),
          "parley.v1.Coordinator/Heartbeat");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->Heartbeat(*request), response);
}

grpc::ServerUnaryReactor* CoordinatorService::Leave(
    grpc::CallbackServerContext* context, const v1::LeaveRequest* request,
    v1::LeaveResponse*) {
  if (absl::Status denied = RequireActingForLive(*context, core_->membership(),
                                                 request->member_id(),
                                                 "parley.v1.Coordinator/Leave");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->Leave(*request));
}

grpc::ServerUnaryReactor* CoordinatorService::ListMembers(
    grpc::CallbackServerContext* context, const v1::ListMembersRequest* request,
    v1::MembershipView* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAuthenticated,
                                          "parley.v1.Coordinator/ListMembers");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->ListMembers(*request), response);
}

grpc::ServerWriteReactor<v1::MembershipEvent>*
CoordinatorService::WatchMembership(grpc::CallbackServerContext* context,
                                    const v1::WatchMembershipRequest* request) {
  if (absl::Status denied =
          auth::Require(*context, auth::Need::kAuthenticated,
                        "parley.v1.Coordinator/WatchMembership");
      !denied.ok()) {
    return new FailedStreamWriter<v1::MembershipEvent>(ToGrpcStatus(denied));
  }
  if (absl::Status s =
          core_->ValidateMemberFilter(request->group(), request->role());
      !s.ok()) {
    return new FailedStreamWriter<v1::MembershipEvent>(ToGrpcStatus(s));
  }
  auto* writer = new QueuedStreamWriter<v1::MembershipEvent>(
      &streams_, kMaxQueuedWatchEvents);
  Membership& membership = core_->membership();
  v1::MembershipEvent full_view;
  uint64_t id = membership.Watch(
      request->group(), request->role(),
      [writer](const v1::MembershipEvent& event) { writer->Push(event); },
      &full_view);
  writer->Begin(std::move(full_view),
                [&membership, id] { membership.Unwatch(id); });
  return writer;
}

grpc::ServerUnaryReactor* CoordinatorService::Publish(
    grpc::CallbackServerContext* context, const v1::PublishRequest* request,
    v1::PublishResponse* response) {
  if (absl::Status denied =
          auth::RequireForGroup(*context, auth::Need::kMember, request->group(),
                                "parley.v1.Coordinator/Publish");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->Publish(*request), response);
}

grpc::ServerWriteReactor<v1::BroadcastEvent>* CoordinatorService::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  if (absl::Status denied =
          auth::RequireForGroup(*context, auth::Need::kMember, request->group(),
                                "parley.v1.Coordinator/Subscribe");
      !denied.ok()) {
    return new FailedStreamWriter<v1::BroadcastEvent>(ToGrpcStatus(denied));
  }
  absl::StatusOr<std::shared_ptr<GroupStream>> stream =
      core_->StreamForSubscribe(*request);
  if (!stream.ok()) {
    return new FailedStreamWriter<v1::BroadcastEvent>(
        ToGrpcStatus(stream.status()));
  }
  return new SubscribeReactor(std::move(*stream), *request,
                              core_->broadcast().limits(), &streams_);
}

grpc::ServerUnaryReactor* CoordinatorService::GetConfig(
    grpc::CallbackServerContext* context, const v1::GetConfigRequest* request,
    v1::ConfigEntry* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAuthenticated,
                                          "parley.v1.Coordinator/GetConfig");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->GetConfig(*request), response);
}

grpc::ServerUnaryReactor* CoordinatorService::ListConfig(
    grpc::CallbackServerContext* context, const v1::ListConfigRequest* request,
    v1::ListConfigResponse* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAuthenticated,
                                          "parley.v1.Coordinator/ListConfig");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->ListConfig(*request), response);
}

grpc::ServerUnaryReactor* CoordinatorService::SetConfig(
    grpc::CallbackServerContext* context, const v1::SetConfigRequest* request,
    v1::ConfigEntry* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.Coordinator/SetConfig");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->SetConfig(*request), response);
}

grpc::ServerUnaryReactor* CoordinatorService::DeleteConfig(
    grpc::CallbackServerContext* context,
    const v1::DeleteConfigRequest* request,
    v1::DeleteConfigResponse* response) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAdmin,
                                          "parley.v1.Coordinator/DeleteConfig");
      !denied.ok()) {
    return Reply(context, denied);
  }
  return Reply(context, core_->DeleteConfig(*request), response);
}

grpc::ServerWriteReactor<v1::ConfigEvent>* CoordinatorService::WatchConfig(
    grpc::CallbackServerContext* context,
    const v1::WatchConfigRequest* request) {
  if (absl::Status denied = auth::Require(*context, auth::Need::kAuthenticated,
                                          "parley.v1.Coordinator/WatchConfig");
      !denied.ok()) {
    return new FailedStreamWriter<v1::ConfigEvent>(ToGrpcStatus(denied));
  }
  if (absl::Status s = core_->ValidateWatchPrefix(request->prefix()); !s.ok()) {
    return new FailedStreamWriter<v1::ConfigEvent>(ToGrpcStatus(s));
  }
  auto* writer =
      new QueuedStreamWriter<v1::ConfigEvent>(&streams_, kMaxQueuedWatchEvents);
  ConfigStore& config = core_->config();
  v1::ConfigEvent snapshot;
  uint64_t id = config.Watch(
      request->prefix(),
      [writer](const v1::ConfigEvent& event) { writer->Push(event); },
      &snapshot);
  writer->Begin(std::move(snapshot), [&config, id] { config.Unwatch(id); });
  return writer;
}

grpc::ServerUnaryReactor* CoordinatorService::GetPartitionTable(
    grpc::CallbackServerContext* context, const v1::GetPartitionTableRequest*,
    v1::PartitionTable* response) {
  if (absl::Status denied =
          auth::Require(*context, auth::Need::kAuthenticated,
                        "parley.v1.Coordinator/GetPartitionTable");
      !denied.ok()) {
    return Reply(context, denied);
  }
  *response = core_->GetPartitionTable();
  return Reply(context, absl::OkStatus());
}

grpc::ServerWriteReactor<v1::PartitionTable>*
CoordinatorService::WatchPartitionTable(grpc::CallbackServerContext* context,
                                        const v1::WatchPartitionTableRequest*) {
  if (absl::Status denied =
          auth::Require(*context, auth::Need::kAuthenticated,
                        "parley.v1.Coordinator/WatchPartitionTable");
      !denied.ok()) {
    return new FailedStreamWriter<v1::PartitionTable>(ToGrpcStatus(denied));
  }
  auto* writer = new QueuedStreamWriter<v1::PartitionTable>(
      &streams_, kMaxQueuedWatchEvents);
  PartitionTableManager& table = core_->table();
  v1::PartitionTable current;
  uint64_t id = table.Watch(
      [writer](const v1::PartitionTable& next) { writer->Push(next); },
      &current);
  writer->Begin(std::move(current), [&table, id] { table.Unwatch(id); });
  return writer;
}

}  // namespace parley::coordinator
