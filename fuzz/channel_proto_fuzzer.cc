// Fuzzes the channel validator and compiler from the wire form, as the
// coordinator's Deploy and the runtime's TestRun (supplied_channel) receive
// channels: the input is a serialized parley.v1.InteractiveChannel (skipped
// when it does not parse), compiled and, when it compiles, checked (see
// channel_checks.h).

#include <cstddef>
#include <cstdint>

#include "fuzz/channel_checks.h"
#include "fuzz/fuzz_support.h"
#include "proto/parley/v1/channel.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::fuzz;
  if (size > 64 * 1024) return -1;
  parley::v1::InteractiveChannel channel;
  if (!ParseInput(data, size, &channel)) return 0;
  CompileAndCheckChannel(channel);
  return 0;
}
