#include "cache_node/key_codec.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace parley::cache {
namespace {

constexpr char kDataTag = 'd';
constexpr char kMetaTag = 'm';
constexpr size_t kPartitionBytes = 2;

// 64-bit FNV-1a parameters (http://www.isthe.com/chongo/tech/comp/fnv/).
constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

bool IsNamespaceChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '-';
}

// Shows a character of a rejected namespace: printable as is, else as hex.
std::string ShowChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (absl::ascii_isprint(u) && c != '\'')
    return absl::StrCat("'", std::string(1, c), "'");
  static constexpr char kHex[] = "0123456789abcdef";
  return absl::StrCat("byte 0x", std::string(1, kHex[u >> 4]),
                      std::string(1, kHex[u & 0xf]));
}

void AppendPartition(std::string* out, uint32_t partition) {
  // Only the low 16 bits: the store refuses partitions above 0xffff.
  out->push_back(static_cast<char>((partition >> 8) & 0xff));
  out->push_back(static_cast<char>(partition & 0xff));
}

uint32_t ReadPartition(const char* p) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(p[0])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(p[1]));
}

void PutFixed64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t GetFixed64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return v;
}

}  // namespace

absl::Status ValidateNamespace(absl::string_view field, absl::string_view ns) {
  if (ns.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field,
        " is empty; give a namespace of 1-128 letters, digits, '_', '.', "
        "':', '/' or '-' (e.g. 'sessions/web')"));
  }
  if (ns.size() > kMaxNamespaceLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", ns.size(), " characters long; at most ",
                     kMaxNamespaceLength, " are allowed"));
  }
  for (size_t i = 0; i < ns.size(); ++i) {
    if (!IsNamespaceChar(ns[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " has ", ShowChar(ns[i]), " at position ", i,
          "; a namespace may hold only letters, digits, '_', '.', ':', '/' "
          "and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateKey(absl::string_view field, absl::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is empty; a key needs at least 1 byte (any bytes, at most ",
        kMaxKeyBytes, ")"));
  }
  if (key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", key.size(), " bytes; at most ",
                     kMaxKeyBytes, " are allowed"));
  }
  return absl::OkStatus();
}

// Hand-written on purpose: the partition of a key must be the same in every
// process, every build and every client language, forever (it decides which
// node holds the key). absl::Hash and std::hash are salted per process or
// may change between releases, so they cannot be used here. FNV-1a is
// trivial to reimplement byte for byte in any language.
uint32_t PartitionOf(absl::string_view ns, absl::string_view key,
                     uint32_t partition_count) {
  if (partition_count == 0) return 0;
  uint64_t hash = kFnvOffsetBasis;
  for (char c : ns) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  hash ^= 0;  // The separating zero byte.
  hash *= kFnvPrime;
  for (char c : key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return static_cast<uint32_t>(hash % partition_count);
}

std::string EncodeDataKey(uint32_t partition, absl::string_view ns,
                          absl::string_view key) {
  std::string out;
  out.reserve(1 + kPartitionBytes + ns.size() + 1 + key.size());
  out.push_back(kDataTag);
  AppendPartition(&out, partition);
  out.append(ns.data(), ns.size());
  out.push_back('\0');
  out.append(key.data(), key.size());
  return out;
}

std::string DataKeyPrefix(uint32_t partition) {
  std::string out;
  out.reserve(1 + kPartitionBytes);
  out.push_back(kDataTag);
  AppendPartition(&out, partition);
  return out;
}

std::string DataKeyPrefix(uint32_t partition, absl::string_view ns) {
  return EncodeDataKey(partition, ns, absl::string_view());
}

bool DecodeDataKey(absl::string_view encoded, uint32_t* partition,
                   absl::string_view* ns, absl::string_view* key) {
  if (encoded.size() < 1 + kPartitionBytes + 1 || encoded[0] != kDataTag) {
    return false;
  }
  absl::string_view rest = encoded.substr(1 + kPartitionBytes);
  // Namespaces hold no zero byte, so the first one ends it; the key may
  // hold any bytes.
  size_t zero = rest.find('\0');
  if (zero == absl::string_view::npos) return false;
  if (partition != nullptr) *partition = ReadPartition(encoded.data() + 1);
  if (ns != nullptr) *ns = rest.substr(0, zero);
  if (key != nullptr) *key = rest.substr(zero + 1);
  return true;
}

std::string EncodeMetaKey(uint32_t partition) {
  std::string out;
  out.reserve(1 + kPartitionBytes);
  out.push_back(kMetaTag);
  AppendPartition(&out, partition);
  return out;
}

std::string EncodeEntry(const EntryHeader& header, absl::string_view value) {
  std::string out(kEntryHeaderBytes + value.size(), '\0');
  PutFixed64(&out[0], header.version);
  PutFixed64(&out[8], static_cast<uint64_t>(header.expire_time_ms));
  out[16] = header.deleted ? 1 : 0;
  if (!value.empty()) {
    std::memcpy(&out[kEntryHeaderBytes], value.data(), value.size());
  }
  return out;
}

bool DecodeEntry(absl::string_view stored, EntryHeader* header,
                 absl::string_view* value) {
  if (stored.size() < kEntryHeaderBytes) return false;
  if (header != nullptr) {
    header->version = GetFixed64(stored.data());
    header->expire_time_ms =
        static_cast<int64_t>(GetFixed64(stored.data() + 8));
    header->deleted = (static_cast<unsigned char>(stored[16]) & 1) != 0;
  }
  if (value != nullptr) *value = stored.substr(kEntryHeaderBytes);
  return true;
}

}  // namespace parley::cache
