// What metrics cost on hot paths: updating a child, finding a method's
// metrics, and a whole unary gRPC call (in-process channel) with and
// without the metrics interceptor.
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "services/common/metrics/grpc_server_metrics.h"
#include "services/common/metrics/registry.h"

namespace parley::metrics {
namespace {

void BM_CounterIncrement(benchmark::State& state) {
  static Registry registry;
  static Counter* counter = registry.AddCounter("c_total", "c");
  for (auto _ : state) counter->Increment();
}
BENCHMARK(BM_CounterIncrement)->ThreadRange(1, 2);

void BM_HistogramObserve(benchmark::State& state) {
  static Registry registry;
  static Histogram* histogram =
      registry.AddHistogramFamily("h_seconds", "h", {})->WithLabels({});
  double value = 0.0003;
  for (auto _ : state) {
    histogram->Observe(value);
    benchmark::DoNotOptimize(value);
  }
}
BENCHMARK(BM_HistogramObserve)->ThreadRange(1, 2);

void BM_ForMethodAndFinish(benchmark::State& state) {
  static Registry registry;
  static ServerMetricsInterceptorFactory factory(&registry);
  for (auto _ : state) {
    factory.ForMethod("/parley.v1.CacheNode/Get", false)
        ->Finish(grpc::StatusCode::OK, 0.0002);
  }
}
BENCHMARK(BM_ForMethodAndFinish)->ThreadRange(1, 2);

void BM_UnaryCall(benchmark::State& state) {
  const bool counted = state.range(0) != 0;
  Registry registry;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  if (counted) {
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(
        std::make_unique<ServerMetricsInterceptorFactory>(&registry));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  server->GetHealthCheckService()->SetServingStatus("", true);
  auto stub = grpc::health::v1::Health::NewStub(
      server->InProcessChannel(grpc::ChannelArguments()));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  for (auto _ : state) {
    grpc::ClientContext context;
    if (!stub->Check(&context, request, &response).ok()) {
      state.SkipWithError("call failed");
      break;
    }
  }
  state.SetLabel(counted ? "with metrics" : "without");
  server->Shutdown();
}
BENCHMARK(BM_UnaryCall)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
}  // namespace parley::metrics

BENCHMARK_MAIN();
