#ifndef PARLEY_SERVICES_COORDINATOR_MEMBER_AGENT_H_
#define PARLEY_SERVICES_COORDINATOR_MEMBER_AGENT_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/common/retry_policy.h"

namespace parley::coordinator {

// How a member keeps its place in the coordinator's view.
struct MemberAgentOptions {
  std::string coordinator_address;
  // Insecure when null.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  v1::Member member;
  uint32_t ttl_seconds = 5;
  // Backoff between failed joins; attempts are unlimited.
  RetryPolicy retry{absl::Milliseconds(100), absl::Seconds(2), 2.0, 0};
};

// Joins the coordinator and keeps the lease alive from a background thread:
// heartbeats every third of the TTL, joins again by itself when the lease
// is gone (expired, or the coordinator lost it) and retries with backoff
// while the coordinator is unreachable. Every server role uses one.
class MemberAgent {
 public:
  explicit MemberAgent(MemberAgentOptions options);
  // Leaves the coordinator (best effort) and stops.
  ~MemberAgent();

  // Starts joining in the background.
  void Start();

  // True while the member holds a lease it renewed within its TTL.
  bool joined() const;

  // Waits until joined(); DEADLINE_EXCEEDED with the last error otherwise.
  absl::Status WaitUntilJoined(absl::Duration timeout) const;

  // Times the member joined (more than one means it re-joined).
  int joins() const;

  // The coordinator's stream epoch seen at the last join or heartbeat.
  uint64_t coordinator_epoch() const;

  // Leaves the coordinator and stops the background thread. Idempotent.
  void Stop();

 private:
  void Run();
  // Sleeps up to `pause`; returns false if Stop was called.
  bool Pause(absl::Duration pause);

  const MemberAgentOptions options_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t lease_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time renewed_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint32_t ttl_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  int joins_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t coordinator_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_MEMBER_AGENT_H_
