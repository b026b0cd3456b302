#ifndef PARLEY_SERVICES_RUNTIME_DISTRIBUTED_SESSION_CODEC_H_
#define PARLEY_SERVICES_RUNTIME_DISTRIBUTED_SESSION_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/parley/v1/session_state.pb.h"

namespace parley::distributed {

// How a DISTRIBUTED group's session is stored as a cache-tier value.
//
// A session keeps up to a hundred earlier presentations, so its serialized
// form runs to kilobytes of repetitive text (offer and interaction-point
// names, treatment codes sharing a server's prefix), and every GetOffers
// writes it to three cache nodes. A session serialized to at least
// kMinCompressedSessionBytes is stored LZ4-compressed when that saves a
// tenth or more: byte 0x00 (never the first byte of a serialized
// SessionState, whose first byte is a field tag), byte 'L', the serialized
// size as a varint, then one LZ4 block. Anything else is the serialized
// SessionState itself, as sessions stored by earlier releases are (and as
// every session is stored without `compress`: releases before compression
// cannot read compressed values).
inline constexpr size_t kMinCompressedSessionBytes = 512;

// The largest serialized session that is compressed, and that a compressed
// value may claim to hold.
inline constexpr size_t kMaxSessionBytes = size_t{64} << 20;

// The value that stores `state`.
std::string EncodeSession(const v1::SessionState& state, bool compress = true);

// The session a value stores; DATA_LOSS (naming `session_id`) when it is
// not one.
absl::StatusOr<v1::SessionState> DecodeSession(absl::string_view value,
                                               absl::string_view session_id);

}  // namespace parley::distributed

#endif  // PARLEY_SERVICES_RUNTIME_DISTRIBUTED_SESSION_CODEC_H_
