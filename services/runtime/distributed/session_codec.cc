// The header is written by hand because LZ4's block format carries none;
// its frame format would add checksums and 7 to 19 bytes the cache tier
// does not need (its values are checked end to end by gRPC and RocksDB).
#include "services/runtime/distributed/session_codec.h"

#include <lz4.h>

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"

namespace parley::distributed {
namespace {

constexpr char kCompressedMarker = '\0';
constexpr char kLz4Codec = 'L';
constexpr size_t kHeaderBytes = 2;
constexpr size_t kMaxLz4Expansion = 255;

absl::Status NotASession(absl::string_view session_id, absl::string_view why) {
  return absl::DataLossError(
      absl::StrCat("session ", session_id,
                   " in the cache tier is not a SessionState (", why, ")"));
}

}  // namespace

std::string EncodeSession(const v1::SessionState& state, bool compress) {
  std::string raw = state.SerializeAsString();
  if (!compress || raw.size() < kMinCompressedSessionBytes ||
      raw.size() > kMaxSessionBytes) {
    return raw;
  }
  const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
  std::string value(kHeaderBytes + 5 + static_cast<size_t>(bound), '\0');
  value[0] = kCompressedMarker;
  value[1] = kLz4Codec;
  uint8_t* size_end =
      google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
          static_cast<uint32_t>(raw.size()),
          reinterpret_cast<uint8_t*>(&value[kHeaderBytes]));
  const size_t block_start =
      static_cast<size_t>(size_end - reinterpret_cast<uint8_t*>(&value[0]));
  const int compressed = LZ4_compress_default(
      raw.data(), &value[block_start], static_cast<int>(raw.size()), bound);
  const size_t total = block_start + static_cast<size_t>(compressed);
  if (compressed <= 0 || total > raw.size() - raw.size() / 10) return raw;
  value.resize(total);
  return value;
}

absl::StatusOr<v1::SessionState> DecodeSession(absl::string_view value,
                                               absl::string_view session_id) {
  v1::SessionState state;
  if (value.empty() || value[0] != kCompressedMarker) {
    if (!state.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return NotASession(session_id, "unparsable");
    }
    return state;
  }
  if (value.size() < kHeaderBytes || value[1] != kLz4Codec) {
    return NotASession(session_id, "unknown compression");
  }
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(value.data() + kHeaderBytes),
      static_cast<int>(value.size() - kHeaderBytes));
  uint32_t raw_size = 0;
  if (!in.ReadVarint32(&raw_size)) return NotASession(session_id, "bad size");
  const size_t block_start =
      kHeaderBytes + static_cast<size_t>(in.CurrentPosition());
  // An LZ4 block expands at most 255-fold: a larger claim is damage (and
  // must not make a short value allocate much).
  if (raw_size > kMaxSessionBytes ||
      raw_size > kMaxLz4Expansion * (value.size() - block_start)) {
    return NotASession(session_id, "bad size");
  }
  std::string raw(raw_size, '\0');
  const int decompressed = LZ4_decompress_safe(
      value.data() + block_start, raw.data(),
      static_cast<int>(value.size() - block_start), static_cast<int>(raw_size));
  if (decompressed != static_cast<int>(raw_size)) {
    return NotASession(session_id, "damaged compression");
  }
  if (!state.ParseFromString(raw)) {
    return NotASession(session_id, "unparsable");
  }
  return state;
}

}  // namespace parley::distributed
