// Fuzzes the channel validator and compiler from JSON text, as parleyctl
// deploy and the demo setup send channels: the input is parsed with the
// protobuf JSON mapping (unknown fields refused) and compiled; a channel
// that compiles is checked (see channel_checks.h).

#include <cstddef>
#include <cstdint>

#include "fuzz/channel_checks.h"
#include "fuzz/fuzz_support.h"
#include "google/protobuf/util/json_util.h"
#include "proto/parley/v1/channel.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::fuzz;
  if (size > 64 * 1024) return -1;
  parley::v1::InteractiveChannel channel;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (!google::protobuf::util::JsonStringToMessage(
           std::string(AsText(data, size)), &channel, options)
           .ok()) {
    return 0;
  }
  CompileAndCheckChannel(channel);
  return 0;
}
