#ifndef PARLEY_SERVICES_CLIENT_CHANNEL_POOL_H_
#define PARLEY_SERVICES_CLIENT_CHANNEL_POOL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/security/credentials.h"
#include "proto/parley/v1/runtime.grpc.pb.h"

namespace parley::client {

// One gRPC channel (with its InteractRuntime stub) per runtime server
// address, shared by every call to that server. Thread-safe.
class ChannelPool {
 public:
  // Insecure when `credentials` is null.
  explicit ChannelPool(std::shared_ptr<grpc::ChannelCredentials> credentials);

  // The stub for `address`; its channel is created on first use. A call in
  // flight keeps it alive after Retain drops it.
  std::shared_ptr<v1::InteractRuntime::Stub> Stub(const std::string& address);

  // Drops the channels of every address not in `keep`.
  void Retain(const std::vector<std::string>& keep);

  // Addresses with a channel.
  std::vector<std::string> addresses() const;

 private:
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<v1::InteractRuntime::Stub>> stubs_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace parley::client

#endif  // PARLEY_SERVICES_CLIENT_CHANNEL_POOL_H_
