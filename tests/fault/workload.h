#ifndef PARLEY_TESTS_FAULT_WORKLOAD_H_
#define PARLEY_TESTS_FAULT_WORKLOAD_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/parley/v1/runtime.grpc.pb.h"

namespace parley::fault {

v1::StartSessionRequest StartRequest(const std::string& session, int customer);
v1::GetOffersRequest OffersRequest(const std::string& session);
v1::PostEventRequest EventRequest(const std::string& session,
                                  const std::string& name,
                                  const std::string& tracking_code = "");

std::unique_ptr<v1::InteractRuntime::Stub> RuntimeStub(
    const std::string& address);

// Session calls from a few threads against runtime servers until stopped:
// each thread walks the sessions, sending GetOffers (and every `post_every`
// calls a PostEvent OfferShown) to the servers in turn. A call fails when
// gRPC fails or the answer's status is ERROR.
class SessionLoad {
 public:
  SessionLoad(std::vector<std::string> servers,
              std::vector<std::string> sessions, int threads,
              int post_every = 4);
  ~SessionLoad() { Stop(); }
  void Stop();

  int calls() const { return calls_; }
  int failures() const { return failures_; }
  // The first few failures, for messages.
  std::string FailureSamples();

 private:
  void Run(int t);

  std::vector<std::unique_ptr<v1::InteractRuntime::Stub>> stubs_;
  std::vector<std::string> servers_;
  std::vector<std::string> sessions_;
  const int post_every_;
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0}, failures_{0};
  absl::Mutex mu_;
  std::vector<std::string> samples_;
  std::vector<std::thread> threads_;
};

}  // namespace parley::fault

#endif  // PARLEY_TESTS_FAULT_WORKLOAD_H_
