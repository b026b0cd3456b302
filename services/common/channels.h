#ifndef PARLEY_SERVICES_COMMON_CHANNELS_H_
#define PARLEY_SERVICES_COMMON_CHANNELS_H_

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"

namespace parley {

// A channel from one Parley process to another (members to the
// coordinator, clients to the cache tier). Unlike gRPC's defaults, it
// tries to reconnect at least every second, so a restarted peer is reached
// again within about a second: heartbeats must arrive before the leases a
// restarted coordinator restored run out.
std::shared_ptr<grpc::Channel> CreatePeerChannel(
    const std::string& address,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials);

}  // namespace parley

#endif  // PARLEY_SERVICES_COMMON_CHANNELS_H_
