#include "services/common/names.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace parley {
namespace {

using ::testing::HasSubstr;

TEST(GroupNameTest, AcceptsDnsLabels) {
  EXPECT_TRUE(ValidateGroupName("name", "web").ok());
  EXPECT_TRUE(ValidateGroupName("name", "call-center-2").ok());
  EXPECT_TRUE(ValidateGroupName("name", std::string(63, 'a')).ok());
}

TEST(GroupNameTest, RejectsWithActionableMessage) {
  absl::Status empty = ValidateGroupName("name", "");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.message(), HasSubstr("name is empty"));
  EXPECT_FALSE(ValidateGroupName("name", std::string(64, 'a')).ok());
  EXPECT_FALSE(ValidateGroupName("name", "Web").ok());
  EXPECT_FALSE(ValidateGroupName("name", "1web").ok());
  EXPECT_FALSE(ValidateGroupName("name", "web-").ok());
  EXPECT_FALSE(ValidateGroupName("name", "we b").ok());
  EXPECT_THAT(ValidateGroupName("group", "a/b").message(),
              HasSubstr("lower-case letters"));
}

TEST(MemberIdTest, AcceptsAndRejects) {
  EXPECT_TRUE(ValidateMemberId("id", "cache-1.zone_a").ok());
  EXPECT_FALSE(ValidateMemberId("id", "").ok());
  EXPECT_FALSE(ValidateMemberId("id", "a b").ok());
  EXPECT_FALSE(ValidateMemberId("id", std::string(64, 'x')).ok());
}

TEST(AddressTest, NeedsHostAndPort) {
  EXPECT_TRUE(ValidateAddress("address", "127.0.0.1:7400").ok());
  EXPECT_TRUE(ValidateAddress("address", "[::1]:7400").ok());
  EXPECT_FALSE(ValidateAddress("address", "").ok());
  EXPECT_FALSE(ValidateAddress("address", "localhost").ok());
  EXPECT_FALSE(ValidateAddress("address", ":7400").ok());
  EXPECT_FALSE(ValidateAddress("address", "host:0").ok());
  EXPECT_FALSE(ValidateAddress("address", "host:70000").ok());
  EXPECT_FALSE(ValidateAddress("address", "host:http").ok());
}

TEST(ConfigPathTest, Segments) {
  EXPECT_TRUE(ValidateConfigPath("path", "groups/web/cache/type", false).ok());
  EXPECT_TRUE(ValidateConfigPath("prefix", "", true).ok());
  EXPECT_FALSE(ValidateConfigPath("path", "", false).ok());
  EXPECT_THAT(ValidateConfigPath("path", "/a", false).message(),
              HasSubstr("empty segment"));
  EXPECT_FALSE(ValidateConfigPath("path", "a/", false).ok());
  EXPECT_FALSE(ValidateConfigPath("path", "a//b", false).ok());
  EXPECT_FALSE(ValidateConfigPath("path", "a/b c", false).ok());
  EXPECT_FALSE(ValidateConfigPath("path", std::string(513, 'a'), false).ok());
  std::string deep = "a";
  for (int i = 0; i < 16; ++i) deep += "/a";
  EXPECT_THAT(ValidateConfigPath("path", deep, false).message(),
              HasSubstr("more than 16 segments"));
}

}  // namespace
}  // namespace parley
