#include "cache_node/key_codec.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace parley::cache {
namespace {

using ::testing::HasSubstr;

// FNV-1a as its definition reads, written independently of the library.
uint64_t ReferenceFnv1a(const std::string& bytes) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

TEST(PartitionOfTest, MatchesHardCodedValues) {
  // Computed once outside C++ (Python) from the FNV-1a definition; clients
  // in other languages route by these numbers, so they must never change.
  EXPECT_EQ(PartitionOf("ns", "key", 256), 249u);
  EXPECT_EQ(PartitionOf("sessions/web", "member-1", 1024), 411u);
  EXPECT_EQ(PartitionOf("a", "", 7), 6u);
  EXPECT_EQ(PartitionOf("users", std::string("\0\xff", 2), 256), 60u);
  EXPECT_EQ(PartitionOf("users", "alice", 65536), 36307u);
  EXPECT_EQ(PartitionOf("", "", 1u << 31), 100775903u);
}

TEST(PartitionOfTest, MatchesReferenceImplementation) {
  for (int i = 0; i < 1000; ++i) {
    std::string ns = absl::StrCat("ns", i % 7);
    std::string key = absl::StrCat("key-", i, std::string(1, '\0'), i * 31);
    uint32_t count = 1 + i * 13;
    uint64_t expected =
        ReferenceFnv1a(absl::StrCat(ns, std::string(1, '\0'), key)) % count;
    ASSERT_EQ(PartitionOf(ns, key, count), expected) << i;
  }
}

TEST(PartitionOfTest, NamespaceAndKeyAreSeparated) {
  // "ab"+"c" and "a"+"bc" differ because of the zero byte between them.
  EXPECT_NE(PartitionOf("ab", "c", 1u << 31), PartitionOf("a", "bc", 1u << 31));
}

TEST(PartitionOfTest, ZeroCountIsZero) {
  EXPECT_EQ(PartitionOf("ns", "key", 0), 0u);
  EXPECT_EQ(PartitionOf("ns", "key", 1), 0u);
}

TEST(PartitionOfTest, SpreadsKeysEvenly) {
  std::vector<int> counts(256, 0);
  for (int i = 0; i < 10000; ++i) {
    uint32_t p = PartitionOf("sessions/web", absl::StrCat("member-", i), 256);
    ASSERT_LT(p, 256u);
    ++counts[p];
  }
  for (int p = 0; p < 256; ++p) {
    EXPECT_GE(counts[p], 10) << "partition " << p;
    EXPECT_LE(counts[p], 80) << "partition " << p;
  }
}

TEST(DataKeyTest, Layout) {
  std::string encoded = EncodeDataKey(0x0102, "ns", "k");
  EXPECT_EQ(encoded, std::string("d\x01\x02ns\0k", 7));
  EXPECT_EQ(DataKeyPrefix(0x0102), std::string("d\x01\x02", 3));
  EXPECT_EQ(DataKeyPrefix(0x0102, "ns"), std::string("d\x01\x02ns\0", 6));
  EXPECT_EQ(EncodeMetaKey(0xabcd), std::string("m\xab\xcd", 3));
}

TEST(DataKeyTest, RoundTripIncludingZeroBytes) {
  const std::vector<std::string> keys = {
      "k", std::string("\0", 1), std::string("a\0b\0", 4),
      std::string(1024, '\0'), std::string("\xff\xfe\x00z", 4)};
  for (uint32_t partition : {0u, 1u, 255u, 256u, 65535u}) {
    for (const std::string& key : keys) {
      std::string encoded = EncodeDataKey(partition, "sessions/web", key);
      uint32_t decoded_partition = 0;
      absl::string_view ns, decoded_key;
      ASSERT_TRUE(
          DecodeDataKey(encoded, &decoded_partition, &ns, &decoded_key));
      EXPECT_EQ(decoded_partition, partition);
      EXPECT_EQ(ns, "sessions/web");
      EXPECT_EQ(decoded_key, key);
    }
  }
}

TEST(DataKeyTest, DecodeRejectsOtherKeys) {
  uint32_t partition;
  absl::string_view ns, key;
  EXPECT_FALSE(DecodeDataKey(EncodeMetaKey(3), &partition, &ns, &key));
  EXPECT_FALSE(DecodeDataKey("", &partition, &ns, &key));
  EXPECT_FALSE(DecodeDataKey("d\x01", &partition, &ns, &key));
  EXPECT_FALSE(DecodeDataKey("d\x01\x02nozero", &partition, &ns, &key));
  std::string mangled = EncodeDataKey(1, "ns", "k");
  mangled[0] = 'x';
  EXPECT_FALSE(DecodeDataKey(mangled, &partition, &ns, &key));
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

TEST(DataKeyTest, PrefixOrdering) {
  // Keys of each partition sort together, in partition order, whatever
  // their namespace and key bytes.
  std::vector<std::pair<std::string, uint32_t>> encoded;
  for (uint32_t partition : {0u, 1u, 2u, 255u, 256u, 257u, 65535u}) {
    for (const char* ns : {"a", "ab", "abc", "b", "z/z"}) {
      for (const std::string& key :
           {std::string("\0", 1), std::string("\xff\xff\xff", 3),
            std::string("m")}) {
        encoded.emplace_back(EncodeDataKey(partition, ns, key), partition);
      }
    }
  }
  std::sort(encoded.begin(), encoded.end());
  for (size_t i = 1; i < encoded.size(); ++i) {
    EXPECT_LE(encoded[i - 1].second, encoded[i].second) << i;
  }
  for (const auto& [key, partition] : encoded) {
    EXPECT_TRUE(StartsWith(key, DataKeyPrefix(partition)));
    for (uint32_t other : {0u, 1u, 2u, 255u, 256u, 257u, 65535u}) {
      if (other != partition) {
        EXPECT_FALSE(StartsWith(key, DataKeyPrefix(other)));
      }
    }
  }

  // The namespace prefix of "ab" does not match a namespace that merely
  // starts with the same letters.
  const std::string ab = DataKeyPrefix(7, "ab");
  EXPECT_TRUE(StartsWith(EncodeDataKey(7, "ab", "c"), ab));
  EXPECT_TRUE(StartsWith(EncodeDataKey(7, "ab", std::string("\0", 1)), ab));
  EXPECT_FALSE(StartsWith(EncodeDataKey(7, "abc", "x"), ab));
  EXPECT_FALSE(StartsWith(EncodeDataKey(7, "a", "bx"), ab));
  EXPECT_FALSE(StartsWith(EncodeDataKey(8, "ab", "c"), ab));

  // Within a namespace, encoded keys sort as the keys do (bytewise).
  std::vector<std::string> keys = {"b",  "a",    std::string("a\0", 2),
                                   "ab", "\xff", std::string("\0", 1)};
  std::vector<std::string> sorted_keys = keys;
  std::sort(sorted_keys.begin(), sorted_keys.end());
  std::vector<std::string> encoded_keys;
  for (const std::string& key : keys) {
    encoded_keys.push_back(EncodeDataKey(3, "ns", key));
  }
  std::sort(encoded_keys.begin(), encoded_keys.end());
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::string_view key;
    ASSERT_TRUE(DecodeDataKey(encoded_keys[i], nullptr, nullptr, &key));
    EXPECT_EQ(key, sorted_keys[i]);
  }
}

TEST(EntryTest, HeaderRoundTrip) {
  EntryHeader header;
  header.version = 0x0102030405060708ULL;
  header.expire_time_ms = 1700000000123;
  header.deleted = true;
  std::string value("v\0alue", 6);
  std::string stored = EncodeEntry(header, value);
  ASSERT_EQ(stored.size(), kEntryHeaderBytes + value.size());
  // Little-endian version first.
  EXPECT_EQ(stored[0], '\x08');
  EXPECT_EQ(stored[7], '\x01');
  EXPECT_EQ(stored[16], '\x01');

  EntryHeader decoded;
  absl::string_view decoded_value;
  ASSERT_TRUE(DecodeEntry(stored, &decoded, &decoded_value));
  EXPECT_EQ(decoded.version, header.version);
  EXPECT_EQ(decoded.expire_time_ms, header.expire_time_ms);
  EXPECT_TRUE(decoded.deleted);
  EXPECT_EQ(decoded_value, value);

  EntryHeader plain;
  plain.version = 1;
  plain.expire_time_ms = -5;
  ASSERT_TRUE(DecodeEntry(EncodeEntry(plain, ""), &decoded, &decoded_value));
  EXPECT_EQ(decoded.version, 1u);
  EXPECT_EQ(decoded.expire_time_ms, -5);
  EXPECT_FALSE(decoded.deleted);
  EXPECT_TRUE(decoded_value.empty());

  EXPECT_FALSE(DecodeEntry(std::string(kEntryHeaderBytes - 1, '\0'), &decoded,
                           &decoded_value));
}

TEST(EntryTest, IsGone) {
  EntryHeader header;
  EXPECT_FALSE(IsGone(header, 1000));
  header.expire_time_ms = 1000;
  EXPECT_FALSE(IsGone(header, 999));
  EXPECT_TRUE(IsGone(header, 1000));
  header.expire_time_ms = 0;
  header.deleted = true;
  EXPECT_TRUE(IsGone(header, 0));
}

TEST(ValidateTest, Namespace) {
  EXPECT_TRUE(ValidateNamespace("namespace", "sessions/web").ok());
  EXPECT_TRUE(ValidateNamespace("namespace", "a.B_c:d/e-9").ok());
  EXPECT_TRUE(ValidateNamespace("namespace", std::string(128, 'x')).ok());

  absl::Status empty = ValidateNamespace("namespace", "");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.message(), HasSubstr("namespace is empty"));

  absl::Status long_ns = ValidateNamespace("ns_field", std::string(129, 'x'));
  EXPECT_EQ(long_ns.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(long_ns.message(), HasSubstr("ns_field is 129 characters"));
  EXPECT_THAT(long_ns.message(), HasSubstr("at most 128"));

  absl::Status space = ValidateNamespace("namespace", "a b");
  EXPECT_EQ(space.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(space.message(), HasSubstr("namespace has ' ' at position 1"));

  absl::Status zero = ValidateNamespace("namespace", std::string("a\0b", 3));
  EXPECT_EQ(zero.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(zero.message(), HasSubstr("byte 0x00"));
  EXPECT_FALSE(ValidateNamespace("namespace", "a\xff").ok());
  EXPECT_FALSE(ValidateNamespace("namespace", "a*").ok());
}

TEST(ValidateTest, Key) {
  EXPECT_TRUE(ValidateKey("key", std::string("\0", 1)).ok());
  EXPECT_TRUE(ValidateKey("key", std::string(1024, '\xff')).ok());

  absl::Status empty = ValidateKey("key", "");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.message(), HasSubstr("key is empty"));

  absl::Status big = ValidateKey("keys[3]", std::string(2000, 'k'));
  EXPECT_EQ(big.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(big.message(),
              HasSubstr("keys[3] is 2000 bytes; at most 1024 are allowed"));
  EXPECT_FALSE(ValidateKey("key", std::string(1025, 'k')).ok());
}

}  // namespace
}  // namespace parley::cache
