#include "cache_node/node_channels.h"

#include "grpcpp/create_channel.h"

namespace parley::cache {

NodeChannels::NodeChannels(
    std::shared_ptr<grpc::ChannelCredentials> credentials)
    : credentials_(credentials != nullptr
                       ? std::move(credentials)
                       : grpc::InsecureChannelCredentials()) {}

std::shared_ptr<v1::CacheNode::Stub> NodeChannels::Stub(
    absl::string_view address) {
  absl::MutexLock lock(&mu_);
  auto& stub = stubs_[address];
  if (stub == nullptr) {
    grpc::ChannelArguments arguments;
    // Reconnect quickly after a peer restarts.
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    stub = v1::CacheNode::NewStub(grpc::CreateCustomChannel(
        std::string(address), credentials_, arguments));
  }
  return stub;
}

}  // namespace parley::cache
