#include "tools/parleyctl/json.h"

#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"

namespace parley::parleyctl {
namespace {

TEST(JsonTest, KeepsMemberOrderAndPrintsStably) {
  Json object = Json::Object();
  object.Set("zeta", Json::Number(1));
  object.Set("alpha", Json::String("a\"b\n"));
  Json& list = object.Set("list", Json::Array());
  list.Append(Json::Bool(true));
  list.Append(Json::Null());
  object.Set("empty", Json::Object());
  EXPECT_EQ(object.Serialize(true),
            "{\n"
            "  \"zeta\": 1,\n"
            "  \"alpha\": \"a\\\"b\\n\",\n"
            "  \"list\": [\n"
            "    true,\n"
            "    null\n"
            "  ],\n"
            "  \"empty\": {}\n"
            "}\n");
  EXPECT_EQ(object.Serialize(false),
            "{\"zeta\":1,\"alpha\":\"a\\\"b\\n\",\"list\":[true,null],"
            "\"empty\":{}}");
}

TEST(JsonTest, SetReplacesAnExistingMember) {
  Json object = Json::Object();
  object.Set("a", Json::Number(1));
  object.Set("a", Json::Number(2));
  ASSERT_EQ(object.members().size(), 1u);
  EXPECT_EQ(object.Find("a")->text(), "2");
  EXPECT_EQ(object.Find("b"), nullptr);
}

TEST(JsonTest, NumbersTakeTheirShortestForm) {
  EXPECT_EQ(Json::Number(50.0).text(), "50");
  EXPECT_EQ(Json::Number(0.1).text(), "0.1");
  EXPECT_EQ(Json::Number(-2.5e20).text(), "-2.5e+20");
  EXPECT_EQ(Json::Number(uint64_t{18446744073709551615u}).text(),
            "18446744073709551615");
}

TEST(JsonTest, ParsesWithPositions) {
  absl::StatusOr<Json> parsed = ParseJson(
      "{\n  \"name\": \"d\\u00e9mo\",\n  \"list\": [1, -2.5e3, {\"x\": null}]"
      "\n}");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->line(), 1);
  const Json* name = parsed->Find("name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->text(), "d\xc3\xa9mo");
  EXPECT_EQ(name->line(), 2);
  EXPECT_EQ(name->column(), 11);
  const Json* list = parsed->Find("list");
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(list->items().size(), 3u);
  EXPECT_EQ(list->items()[1].text(), "-2.5e3");
  EXPECT_EQ(list->items()[2].line(), 3);
  EXPECT_EQ(list->items()[2].column(), 23);
}

TEST(JsonTest, ColumnsCountCharactersNotBytes) {
  absl::StatusOr<Json> parsed = ParseJson("[\"\xc3\xa9\xc3\xa9\", 7]");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->items()[1].column(), 8);
}

TEST(JsonTest, DecodesSurrogatePairs) {
  absl::StatusOr<Json> parsed = ParseJson("\"\\ud83d\\ude00\"");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->text(), "\xf0\x9f\x98\x80");
}

TEST(JsonTest, ErrorsNameLineAndColumn) {
  absl::StatusOr<Json> parsed = ParseJson("{\n  \"a\": 1,\n  \"b\" 2\n}");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "line 3, column 7: expected ':' after a member name");
  EXPECT_FALSE(ParseJson("[1, 2").ok());
  EXPECT_FALSE(ParseJson("{} x").ok());
  EXPECT_FALSE(ParseJson("01x").ok());
  EXPECT_FALSE(ParseJson("\"\\ud800\"").ok());
}

TEST(JsonTest, RoundTripsItsOwnOutput) {
  const std::string text =
      "{\"a\":[1,2.5,\"x\\\\y\",true,false,null],\"b\":{\"c\":\"\\u0001\"}}";
  absl::StatusOr<Json> parsed = ParseJson(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Serialize(false), text);
}

TEST(JsonTest, ProtoToJsonPrintsEveryField) {
  google::protobuf::UInt64Value value;
  EXPECT_EQ(ProtoToJson(value).Serialize(false), "\"0\"");
  value.set_value(7);
  EXPECT_EQ(ProtoToJson(value).Serialize(false), "\"7\"");
}

}  // namespace
}  // namespace parley::parleyctl
