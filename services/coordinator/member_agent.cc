#include "services/coordinator/member_agent.h"

#include "absl/random/random.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "services/common/channels.h"
#include "services/common/grpc_status.h"
#include "spdlog/spdlog.h"

namespace parley::coordinator {
namespace {

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(absl::Duration d) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + d));
  return context;
}

}  // namespace

MemberAgent::MemberAgent(MemberAgentOptions options)
    : options_(std::move(options)) {
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      options_.credentials != nullptr ? options_.credentials
                                      : grpc::InsecureChannelCredentials();
  stub_ = v1::Coordinator::NewStub(
      CreatePeerChannel(options_.coordinator_address, credentials));
}

MemberAgent::~MemberAgent() { Stop(); }

void MemberAgent::Start() {
  thread_ = std::thread([this] { Run(); });
}

bool MemberAgent::joined() const {
  absl::MutexLock lock(&mu_);
  return lease_id_ != 0 && absl::Now() - renewed_ < absl::Seconds(ttl_seconds_);
}

absl::Status MemberAgent::WaitUntilJoined(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (joined()) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  absl::MutexLock lock(&mu_);
  return absl::DeadlineExceededError(
      "not joined to the coordinator at " + options_.coordinator_address +
      (last_error_.ok() ? "" : ": " + last_error_.ToString()));
}

int MemberAgent::joins() const {
  absl::MutexLock lock(&mu_);
  return joins_;
}

uint64_t MemberAgent::coordinator_epoch() const {
  absl::MutexLock lock(&mu_);
  return coordinator_epoch_;
}

bool MemberAgent::Pause(absl::Duration pause) {
  absl::MutexLock lock(&mu_);
  auto stopping = [this]()
                      ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
  mu_.AwaitWithTimeout(absl::Condition(&stopping), pause);
  return !stopping_;
}

void MemberAgent::Run() {
  absl::BitGen random;
  int failures = 0;
  while (true) {
    uint64_t lease_id = 0;
    uint32_t ttl = options_.ttl_seconds;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      lease_id = lease_id_;
    }
    if (lease_id == 0) {
      v1::JoinRequest request;
      *request.mutable_member() = options_.member;
      request.set_ttl_seconds(options_.ttl_seconds);
      v1::JoinResponse response;
      auto context = ContextWithDeadline(absl::Seconds(2));
      grpc::Status status = stub_->Join(context.get(), request, &response);
      if (status.ok()) {
        absl::MutexLock lock(&mu_);
        lease_id_ = response.lease_id();
        ttl_seconds_ = response.ttl_seconds();
        renewed_ = absl::Now();
        coordinator_epoch_ = response.coordinator_epoch();
        ++joins_;
        failures = 0;
        spdlog::info("joined the coordinator at {} as '{}'",
                     options_.coordinator_address, options_.member.id());
        continue;
      }
      {
        absl::MutexLock lock(&mu_);
        last_error_ = FromGrpcStatus(status);
      }
      if (failures++ == 0 || failures % 20 == 0) {
        spdlog::warn("cannot join the coordinator at {}: {} (retrying)",
                     options_.coordinator_address, status.error_message());
      }
      if (!Pause(options_.retry.Backoff(failures, random))) return;
      continue;
    }

    {
      absl::MutexLock lock(&mu_);
      ttl = ttl_seconds_;
    }
    const absl::Duration interval = absl::Seconds(ttl) / 3;
    if (!Pause(interval)) return;
    v1::HeartbeatRequest request;
    request.set_member_id(options_.member.id());
    request.set_lease_id(lease_id);
    v1::HeartbeatResponse response;
    auto context = ContextWithDeadline(interval);
    grpc::Status status = stub_->Heartbeat(context.get(), request, &response);
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      renewed_ = absl::Now();
      coordinator_epoch_ = response.coordinator_epoch();
    } else if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      spdlog::warn("lease lost ({}); joining again", status.error_message());
      lease_id_ = 0;
    } else {
      last_error_ = FromGrpcStatus(status);
    }
  }
}

void MemberAgent::Stop() {
  uint64_t lease_id = 0;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    lease_id = lease_id_;
  }
  if (thread_.joinable()) thread_.join();
  if (lease_id != 0) {
    v1::LeaveRequest request;
    request.set_member_id(options_.member.id());
    request.set_lease_id(lease_id);
    v1::LeaveResponse response;
    auto context = ContextWithDeadline(absl::Seconds(1));
    stub_->Leave(context.get(), request, &response);
  }
}

}  // namespace parley::coordinator
