#ifndef PARLEY_CACHE_NODE_KEY_CODEC_H_
#define PARLEY_CACHE_NODE_KEY_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace parley::cache {

// Largest key, in bytes.
inline constexpr size_t kMaxKeyBytes = 1024;
// Longest namespace, in characters.
inline constexpr size_t kMaxNamespaceLength = 128;

// Checks a namespace: 1-128 characters of letters, digits and '_', '.',
// ':', '/', '-'. `field` names the request field in the error.
absl::Status ValidateNamespace(absl::string_view field, absl::string_view ns);

// Checks a key: 1 byte to 1 KiB, any bytes.
absl::Status ValidateKey(absl::string_view field, absl::string_view key);

// The partition of (namespace, key) among `partition_count`: 64-bit FNV-1a
// over namespace, a zero byte and key, modulo the count. Stable across
// processes, versions and languages (so clients in any language can route).
uint32_t PartitionOf(absl::string_view ns, absl::string_view key,
                     uint32_t partition_count);

// RocksDB key of an entry: 'd', the partition (2 bytes, big-endian), the
// namespace, a zero byte, the key. Entries of a partition are contiguous,
// and within it those of a namespace, in key order.
std::string EncodeDataKey(uint32_t partition, absl::string_view ns,
                          absl::string_view key);

// The prefix shared by every data key of `partition` (and, when `ns` is
// given, of that namespace in it).
std::string DataKeyPrefix(uint32_t partition);
std::string DataKeyPrefix(uint32_t partition, absl::string_view ns);

// Splits a data key; false if it is not one.
bool DecodeDataKey(absl::string_view encoded, uint32_t* partition,
                   absl::string_view* ns, absl::string_view* key);

// RocksDB key of a partition's metadata: 'm' and the partition.
std::string EncodeMetaKey(uint32_t partition);

// What is stored under a data key besides the value bytes.
struct EntryHeader {
  uint64_t version = 0;
  // Unix milliseconds after which the entry is gone; 0: never.
  int64_t expire_time_ms = 0;
  // A delete, kept as a versioned tombstone until it expires.
  bool deleted = false;
};

// Size of an encoded header.
inline constexpr size_t kEntryHeaderBytes = 17;

// Stored value: the header (version, expiry, flags; fixed width,
// little-endian) followed by the value bytes.
std::string EncodeEntry(const EntryHeader& header, absl::string_view value);

// Splits a stored value; false if it is too short to hold a header.
bool DecodeEntry(absl::string_view stored, EntryHeader* header,
                 absl::string_view* value);

// True if an entry with this header is invisible to reads at `now_ms`
// (deleted, or past its expiry).
inline bool IsGone(const EntryHeader& header, int64_t now_ms) {
  return header.deleted ||
         (header.expire_time_ms != 0 && header.expire_time_ms <= now_ms);
}

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_KEY_CODEC_H_
