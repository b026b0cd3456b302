#ifndef PARLEY_SERVICES_COMMON_METRICS_GRPC_SERVER_METRICS_H_
#define PARLEY_SERVICES_COMMON_METRICS_GRPC_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"
#include "services/common/metrics/registry.h"

namespace parley::metrics {

// The metrics of one gRPC method, looked up once per method and shared by
// its calls.
class MethodMetrics {
 public:
  MethodMetrics(Registry* registry, absl::string_view full_method,
                bool streaming);

  bool streaming() const { return duration_ == nullptr; }

  // Records a finished call: its status code and, for unary calls, how long
  // it took.
  void Finish(grpc::StatusCode code, double seconds);

  // Counts a stream opening (+1) or closing (-1).
  void AddActiveStream(int delta) { active_streams_->Add(delta); }

 private:
  // The status codes gRPC defines (OK .. UNAUTHENTICATED).
  static constexpr int kCodes = 17;

  Counter* CounterFor(grpc::StatusCode code);

  Family<Counter>* const requests_;
  std::string service_;
  std::string method_;
  Histogram* duration_ = nullptr;
  Gauge* active_streams_ = nullptr;
  // One counter per code, created on the code's first call.
  std::array<std::atomic<Counter*>, kCodes> by_code_{};
};

// Counts every call of a server in parley_grpc_requests_total and times
// unary calls in parley_grpc_request_duration_seconds (registered with
// grpc::ServerBuilder::experimental().SetInterceptorCreators).
class ServerMetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ServerMetricsInterceptorFactory(
      Registry* registry = &DefaultRegistry());

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // The metrics of `full_method` ("/package.Service/Method"), created on
  // first use.
  MethodMetrics* ForMethod(absl::string_view full_method, bool streaming)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Registry* const registry_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<MethodMetrics>> methods_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace parley::metrics

#endif  // PARLEY_SERVICES_COMMON_METRICS_GRPC_SERVER_METRICS_H_
