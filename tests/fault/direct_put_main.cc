// direct_put: sends one Put per key straight to one cache node, all at
// once, and prints "<key> <grpc code> <version> <message>" per key. For fault
// tests that must write from where a cut-off node still is (inside its network
// namespace).
//
// Usage: direct_put <host:port> <namespace> <deadline_ms> <key>...
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"

int main(int argc, char** argv) {
  int deadline_ms = 0;
  if (argc < 5 || !absl::SimpleAtoi(argv[3], &deadline_ms)) {
    std::fprintf(stderr,
                 "usage: direct_put <host:port> <namespace> <deadline_ms> "
                 "<key>...\n");
    return 2;
  }
  const std::string ns = argv[2];
  auto node = parley::v1::CacheNode::NewStub(
      grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  const absl::Time deadline = absl::Now() + absl::Milliseconds(deadline_ms);
  absl::Mutex mu;
  std::vector<std::thread> senders;
  for (int i = 4; i < argc; ++i) {
    senders.emplace_back([&, key = std::string(argv[i])] {
      parley::v1::PutRequest put;
      put.set_namespace_(ns);
      put.set_key(key);
      put.set_value(absl::StrCat("direct value of ", key));
      parley::v1::PutResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(deadline));
      const grpc::Status status = node->Put(&context, put, &response);
      absl::MutexLock lock(&mu);
      std::printf(
          "%s %d %llu %s\n", key.c_str(), static_cast<int>(status.error_code()),
          static_cast<unsigned long long>(status.ok() ? response.version() : 0),
          status.error_message().c_str());
      std::fflush(stdout);
    });
  }
  for (std::thread& sender : senders) sender.join();
  return 0;
}
