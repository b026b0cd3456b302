#include "services/client/channel_pool.h"

#include <algorithm>
#include <utility>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace parley::client {

ChannelPool::ChannelPool(std::shared_ptr<grpc::ChannelCredentials> credentials)
    : credentials_(credentials != nullptr
                       ? std::move(credentials)
                       : grpc::InsecureChannelCredentials()) {}

std::shared_ptr<v1::InteractRuntime::Stub> ChannelPool::Stub(
    const std::string& address) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = stubs_.find(address);
    if (it != stubs_.end()) return it->second;
  }
  grpc::ChannelArguments arguments;
  // A server that restarts at the same address is reachable again within a
  // second, not after gRPC's default reconnect backoff of up to 2 minutes.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<v1::InteractRuntime::Stub> stub =
      v1::InteractRuntime::NewStub(
          grpc::CreateCustomChannel(address, credentials_, arguments));
  absl::MutexLock lock(&mu_);
  // Another thread may have made one meanwhile; keep the first.
  auto [it, inserted] = stubs_.emplace(address, std::move(stub));
  return it->second;
}

void ChannelPool::Retain(const std::vector<std::string>& keep) {
  absl::MutexLock lock(&mu_);
  for (auto it = stubs_.begin(); it != stubs_.end();) {
    if (std::find(keep.begin(), keep.end(), it->first) == keep.end()) {
      it = stubs_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::string> ChannelPool::addresses() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> addresses;
  for (const auto& [address, stub] : stubs_) addresses.push_back(address);
  return addresses;
}

}  // namespace parley::client
