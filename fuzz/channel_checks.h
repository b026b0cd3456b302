#ifndef PARLEY_FUZZ_CHANNEL_CHECKS_H_
#define PARLEY_FUZZ_CHANNEL_CHECKS_H_

#include "proto/parley/v1/channel.pb.h"

namespace parley::fuzz {

// The open bug of channel validation messages: an invalid non-ASCII
// character in a name is reported as one byte of its UTF-8 form, so the
// message is not UTF-8 (fuzz/regressions/README.md).
inline constexpr char kNameCharacterIssue[] = "name-character-utf8";

// Compiles `channel` and, when it compiles, checks what the runtime relies
// on in the result: every index in range and consistent with the name
// lookups, the per-segment-and-zone rule index, acyclic flowcharts, every
// expression runnable over its schema; and that the channel compiles again
// after a serialization round trip; when it does not compile, that the
// error is INVALID_ARGUMENT with a UTF-8 message. Fails the fuzz run
// otherwise. Returns whether the channel compiled.
bool CompileAndCheckChannel(const v1::InteractiveChannel& channel);

}  // namespace parley::fuzz

#endif  // PARLEY_FUZZ_CHANNEL_CHECKS_H_
