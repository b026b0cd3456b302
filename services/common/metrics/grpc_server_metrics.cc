#include "services/common/metrics/grpc_server_metrics.h"

#include <chrono>

#include "grpcpp/server_context.h"

namespace parley::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

constexpr absl::string_view kCodeNames[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

// One per call (gRPC allocates it): notes the start, records the status
// the server sends. A call cancelled (by its client or its deadline) before
// its status went out counts as CANCELLED whatever the handler answered,
// since its client never sees that answer; so does a call that ends without
// sending a status at all.
class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(ServerRpcInfo* info, MethodMetrics* metrics)
      : info_(info),
        metrics_(metrics),
        start_(std::chrono::steady_clock::now()) {
    if (metrics_->streaming()) metrics_->AddActiveStream(1);
  }

  ~MetricsInterceptor() override {
    if (!finished_) Finish(grpc::StatusCode::CANCELLED);
    if (metrics_->streaming()) metrics_->AddActiveStream(-1);
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (!finished_ && methods->QueryInterceptionHookPoint(
                          InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::StatusCode code = methods->GetSendStatus().error_code();
      // Asked only on errors: on a synchronous server it polls the queue.
      if (code != grpc::StatusCode::OK &&
          info_->server_context()->IsCancelled()) {
        code = grpc::StatusCode::CANCELLED;
      }
      Finish(code);
    }
    methods->Proceed();
  }

 private:
  void Finish(grpc::StatusCode code) {
    finished_ = true;
    const std::chrono::duration<double> elapsed =
        std::chrono::steady_clock::now() - start_;
    metrics_->Finish(code, elapsed.count());
  }

  ServerRpcInfo* const info_;
  MethodMetrics* const metrics_;
  const std::chrono::steady_clock::time_point start_;
  bool finished_ = false;
};

Family<Counter>* RequestsFamily(Registry* registry) {
  return registry->AddCounterFamily(
      "parley_grpc_requests_total",
      "gRPC calls served, by service, method and status code",
      {"service", "method", "code"});
}

Family<Gauge>* ActiveStreamsFamily(Registry* registry) {
  return registry->AddGaugeFamily(
      "parley_grpc_active_streams",
      "gRPC streaming calls open now, by service and method",
      {"service", "method"});
}

Family<Histogram>* DurationFamily(Registry* registry) {
  return registry->AddHistogramFamily(
      "parley_grpc_request_duration_seconds",
      "time from a unary gRPC call's start to its status being sent, by "
      "service and method",
      {"service", "method"});
}

}  // namespace

MethodMetrics::MethodMetrics(Registry* registry, absl::string_view full_method,
                             bool streaming)
    : requests_(RequestsFamily(registry)) {
  // "/package.Service/Method"
  absl::string_view name = full_method;
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  const size_t slash = name.find('/');
  service_ = std::string(name.substr(0, slash));
  method_ = slash == absl::string_view::npos
                ? std::string()
                : std::string(name.substr(slash + 1));
  if (streaming) {
    active_streams_ =
        ActiveStreamsFamily(registry)->WithLabels({service_, method_});
  } else {
    duration_ = DurationFamily(registry)->WithLabels({service_, method_});
  }
}

Counter* MethodMetrics::CounterFor(grpc::StatusCode code) {
  int index = static_cast<int>(code);
  if (index < 0 || index >= kCodes) index = grpc::StatusCode::UNKNOWN;
  Counter* counter = by_code_[index].load(std::memory_order_acquire);
  if (counter != nullptr) return counter;
  // The family hands out one child per label set, so racing callers get
  // the same pointer.
  counter = requests_->WithLabels(
      {service_, method_, std::string(kCodeNames[index])});
  by_code_[index].store(counter, std::memory_order_release);
  return counter;
}

void MethodMetrics::Finish(grpc::StatusCode code, double seconds) {
  CounterFor(code)->Increment();
  if (duration_ != nullptr) duration_->Observe(seconds);
}

ServerMetricsInterceptorFactory::ServerMetricsInterceptorFactory(
    Registry* registry)
    : registry_(registry) {
  // Registered now so that a scrape shows them before the first call.
  RequestsFamily(registry);
  ActiveStreamsFamily(registry);
  DurationFamily(registry);
}

MethodMetrics* ServerMetricsInterceptorFactory::ForMethod(
    absl::string_view full_method, bool streaming) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = methods_.find(full_method);
    if (it != methods_.end()) return it->second.get();
  }
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = methods_.try_emplace(std::string(full_method));
  if (inserted) {
    it->second =
        std::make_unique<MethodMetrics>(registry_, full_method, streaming);
  }
  return it->second.get();
}

grpc::experimental::Interceptor*
ServerMetricsInterceptorFactory::CreateServerInterceptor(ServerRpcInfo* info) {
  const bool streaming = info->type() != ServerRpcInfo::Type::UNARY;
  const char* method = info->method();
  return new MetricsInterceptor(
      info, ForMethod(method == nullptr ? "" : method, streaming));
}

}  // namespace parley::metrics
