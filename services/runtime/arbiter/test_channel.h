#ifndef PARLEY_SERVICES_RUNTIME_ARBITER_TEST_CHANNEL_H_
#define PARLEY_SERVICES_RUNTIME_ARBITER_TEST_CHANNEL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/types/optional.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/runtime/channel/compiled_channel.h"

namespace parley::arbiter::testing {

// A channel named "test" with audience level Customer (CustomerID; profile
// Tier STRING, Spend NUMBER), zones Hero, Checkout and Footer, segments
// Gold, Young and Everyone, and `offers` offers named O0, O1, ...
v1::InteractiveChannel BaseChannel(int offers);

// Appends a treatment rule; an empty `zone` means every zone.
v1::TreatmentRule* AddRule(v1::InteractiveChannel& channel,
                           const std::string& name, const std::string& segment,
                           const std::string& zone, const std::string& offer,
                           absl::optional<double> marketing_score);

// Sets `timestamp` to `unix_millis`.
void SetMillis(int64_t unix_millis, google::protobuf::Timestamp* timestamp);

// Compiles `channel`, aborting with the error on failure.
std::shared_ptr<const channel::CompiledChannel> CompileOrDie(
    const v1::InteractiveChannel& channel);

}  // namespace parley::arbiter::testing

#endif  // PARLEY_SERVICES_RUNTIME_ARBITER_TEST_CHANNEL_H_
