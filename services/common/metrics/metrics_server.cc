#include "services/common/metrics/metrics_server.h"

#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "services/common/metrics/text_format.h"

namespace parley::metrics {
namespace {

// Scrapes are rare and short; two threads let a second scraper in while a
// first one holds a keep-alive connection.
constexpr int kThreads = 2;

}  // namespace

std::string HostOfListenAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  std::string host =
      colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& host, int port, const Registry* registry) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics port ", port, " is out of range"));
  }
  auto server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // SO_REUSEADDR only: the library's default adds SO_REUSEPORT, which
  // would let two processes share a port and answer scrapes in turn.
  server->set_socket_options([](int socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server->Get("/metrics", [registry](const httplib::Request&,
                                     httplib::Response& response) {
    response.set_content(registry->Scrape(), kTextFormatContentType);
  });
  int bound = port;
  if (port == 0) {
    bound = server->bind_to_any_port(host);
  } else if (!server->bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve metrics on ", host, ":", port,
        ": is the host valid and the port free? (--metrics_port)"));
  }
  auto metrics = std::unique_ptr<MetricsServer>(
      new MetricsServer(std::move(server), bound));
  // stop() is a no-op until the listening loop runs, so wait for it.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!metrics->server_->is_running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (!metrics->server_->is_running()) {
    return absl::InternalError("the metrics server did not start");
  }
  return metrics;
}

MetricsServer::MetricsServer(std::unique_ptr<httplib::Server> server, int port)
    : server_(std::move(server)), port_(port) {
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    done_.store(true);
  });
}

MetricsServer::~MetricsServer() {
  // stop() does nothing until the listening loop runs (and must be called
  // only once), so wait for the loop to run or be over.
  while (!done_.load()) {
    if (server_->is_running()) {
      server_->stop();
      break;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  thread_.join();
}

}  // namespace parley::metrics
