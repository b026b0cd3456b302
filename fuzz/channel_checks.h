#ifndef PARLEY_FUZZ_CHANNEL_CHECKS_H_
#define PARLEY_FUZZ_CHANNEL_CHECKS_H_

#include "proto/parley/v1/channel.pb.h"

namespace parley::fuzz {

// Compiles `channel` and, when it compiles, checks what the runtime relies
// on in the result: every index in range and consistent with the name
// lookups, the per-segment-and-zone rule index, acyclic flowcharts, every
// expression runnable over its schema; and that the channel compiles again
// after a serialization round trip. Fails the fuzz run otherwise. Returns
// whether the channel compiled.
bool CompileAndCheckChannel(const v1::InteractiveChannel& channel);

}  // namespace parley::fuzz

#endif  // PARLEY_FUZZ_CHANNEL_CHECKS_H_
