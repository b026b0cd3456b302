#ifndef PARLEY_CACHE_NODE_NODE_CHANNELS_H_
#define PARLEY_CACHE_NODE_NODE_CHANNELS_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/credentials.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"

namespace parley::cache {

// One long-lived channel and stub per cache-node address, shared by every
// caller. Thread-safe.
class NodeChannels {
 public:
  // Insecure channels when `credentials` is null.
  explicit NodeChannels(std::shared_ptr<grpc::ChannelCredentials> credentials);

  // The stub for `address`, created on first use.
  std::shared_ptr<v1::CacheNode::Stub> Stub(absl::string_view address);

 private:
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<v1::CacheNode::Stub>> stubs_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_NODE_CHANNELS_H_
