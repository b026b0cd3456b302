#include "services/common/server_bootstrap.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/common/tls.h"

namespace parley {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

grpc::Status CheckHealth(std::shared_ptr<grpc::Channel> channel,
                         HealthCheckResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(3)));
  return Health::NewStub(channel)->Check(&context, HealthCheckRequest(),
                                         response);
}

TEST(GrpcServerTest, PlaintextServerReportsHealthAndStops) {
  ServerOptions options;
  options.role = "test";
  options.listen_address = "127.0.0.1:0";
  options.shutdown_grace = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<GrpcServer>> server =
      GrpcServer::Start(options, {});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials());
  HealthCheckResponse response;
  ASSERT_TRUE(CheckHealth(channel, &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  (*server)->SetServing(true);
  ASSERT_TRUE(CheckHealth(channel, &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  (*server)->Shutdown();
  EXPECT_FALSE(CheckHealth(channel, &response).ok());
}

TEST(GrpcServerTest, BadListenAddressIsAnError) {
  ServerOptions options;
  options.role = "test";
  options.listen_address = "not-an-address";
  absl::StatusOr<std::unique_ptr<GrpcServer>> server =
      GrpcServer::Start(options, {});
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("--listen"));
}

TEST(TlsTest, MissingOrHalfGivenFilesAreActionableErrors) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> missing =
      MakeServerCredentials({"/nonexistent/cert.pem", "/nonexistent/key.pem",
                             ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/cert.pem"));
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> half =
      MakeServerCredentials({"cert.pem", "", ""});
  ASSERT_FALSE(half.ok());
  EXPECT_THAT(half.status().message(), HasSubstr("go together"));
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> client_half =
      MakeChannelCredentials({"", "key.pem", ""});
  EXPECT_FALSE(client_half.ok());
}

// A throwaway CA, a server certificate for 127.0.0.1 and a client
// certificate, made with Debian's openssl.
class MutualTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR")
                                                   : "/tmp",
                        "/mtls");
    std::filesystem::create_directories(dir_);
    const std::string script = absl::StrCat(
        "set -e; cd ", dir_,
        "; openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ca "
        "-keyout ca.key -out ca.pem 2>/dev/null;"
        " for who in server client; do"
        " openssl req -newkey rsa:2048 -nodes -subj /CN=$who"
        " -addext subjectAltName=IP:127.0.0.1,DNS:localhost"
        " -keyout $who.key -out $who.csr 2>/dev/null;"
        " openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key"
        " -CAcreateserial -days 1 -copy_extensions copy -out $who.pem"
        " 2>/dev/null; done");
    ASSERT_EQ(std::system(script.c_str()), 0) << "openssl failed";
  }

  std::string File(const std::string& name) const {
    return absl::StrCat(dir_, "/", name);
  }

  std::string dir_;
};

TEST_F(MutualTlsTest, OnlyClientsWithCertificatesGetIn) {
  ServerOptions options;
  options.role = "test";
  options.listen_address = "127.0.0.1:0";
  options.shutdown_grace = absl::Seconds(1);
  options.tls = {File("server.pem"), File("server.key"), File("ca.pem")};
  absl::StatusOr<std::unique_ptr<GrpcServer>> server =
      GrpcServer::Start(options, {});
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->SetServing(true);
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());

  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> mutual =
      MakeChannelCredentials(
          {File("client.pem"), File("client.key"), File("ca.pem")});
  ASSERT_TRUE(mutual.ok()) << mutual.status();
  HealthCheckResponse response;
  grpc::Status with_cert =
      CheckHealth(grpc::CreateChannel(address, *mutual), &response);
  ASSERT_TRUE(with_cert.ok()) << with_cert.error_message();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> server_only =
      MakeChannelCredentials({"", "", File("ca.pem")});
  ASSERT_TRUE(server_only.ok());
  EXPECT_FALSE(
      CheckHealth(grpc::CreateChannel(address, *server_only), &response).ok());
  EXPECT_FALSE(CheckHealth(grpc::CreateChannel(
                               address, grpc::InsecureChannelCredentials()),
                           &response)
                   .ok());
}

}  // namespace
}  // namespace parley
