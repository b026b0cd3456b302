#include "services/common/metrics/grpc_server_metrics.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "services/common/metrics/registry.h"
#include "services/common/metrics/text_parser.h"

namespace parley::metrics {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr char kService[] = "grpc.health.v1.Health";

// A server with only the built-in health service, counted into `registry`.
class GrpcServerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(
        std::make_unique<ServerMetricsInterceptorFactory>(&registry_));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    server_->GetHealthCheckService()->SetServingStatus("", true);
    stub_ = Health::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override { server_->Shutdown(); }

  ParsedScrape Scrape() {
    absl::StatusOr<ParsedScrape> scrape = ParseTextFormat(registry_.Scrape());
    EXPECT_TRUE(scrape.ok()) << scrape.status();
    return scrape.ok() ? *scrape : ParsedScrape();
  }

  grpc::Status Check(const std::string& service) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    return stub_->Check(&context, request, &response);
  }

  Registry registry_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Health::Stub> stub_;
};

TEST_F(GrpcServerMetricsTest, CountsUnaryCallsByCodeAndTimesThem) {
  ASSERT_TRUE(Check("").ok());
  ASSERT_TRUE(Check("").ok());
  ASSERT_EQ(Check("no.such.Service").error_code(), grpc::StatusCode::NOT_FOUND);

  ParsedScrape scrape = Scrape();
  EXPECT_EQ(
      FindSample(scrape, "parley_grpc_requests_total",
                 {{"service", kService}, {"method", "Check"}, {"code", "OK"}}),
      2);
  EXPECT_EQ(
      FindSample(
          scrape, "parley_grpc_requests_total",
          {{"service", kService}, {"method", "Check"}, {"code", "NOT_FOUND"}}),
      1);
  const std::map<std::string, std::string> check = {{"service", kService},
                                                    {"method", "Check"}};
  EXPECT_EQ(
      FindSample(scrape, "parley_grpc_request_duration_seconds_count", check),
      3);
  EXPECT_EQ(
      FindSample(scrape, "parley_grpc_request_duration_seconds_bucket",
                 {{"service", kService}, {"method", "Check"}, {"le", "+Inf"}}),
      3);
  EXPECT_GT(
      FindSample(scrape, "parley_grpc_request_duration_seconds_sum", check)
          .value_or(0),
      0);
}

TEST_F(GrpcServerMetricsTest, CountsOpenStreamsAndHowTheyEnded) {
  auto context = std::make_unique<grpc::ClientContext>();
  HealthCheckRequest request;
  auto reader = stub_->Watch(context.get(), request);
  HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  const std::map<std::string, std::string> watch = {{"service", kService},
                                                    {"method", "Watch"}};
  EXPECT_EQ(FindSample(Scrape(), "parley_grpc_active_streams", watch), 1);

  context->TryCancel();
  while (reader->Read(&response)) {
  }
  reader->Finish().IgnoreError();
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (FindSample(Scrape(), "parley_grpc_active_streams", watch) != 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ParsedScrape scrape = Scrape();
  EXPECT_EQ(FindSample(scrape, "parley_grpc_active_streams", watch), 0);
  EXPECT_EQ(
      FindSample(
          scrape, "parley_grpc_requests_total",
          {{"service", kService}, {"method", "Watch"}, {"code", "CANCELLED"}}),
      1);
  // Streams are counted, not timed.
  EXPECT_FALSE(
      FindSample(scrape, "parley_grpc_request_duration_seconds_count", watch));
}

}  // namespace
}  // namespace parley::metrics
