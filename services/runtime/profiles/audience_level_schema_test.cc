#include "services/runtime/profiles/audience_level_schema.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/channel/channel.h"
#include "services/runtime/profiles/profile_codec.h"
#include "services/runtime/profiles/profile_row_parser.h"

namespace parley::profiles {
namespace {

using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

std::shared_ptr<const channel::CompiledChannel> DemoChannel() {
  const std::string path = absl::StrCat(
      std::getenv("TEST_SRCDIR"), "/", std::getenv("TEST_WORKSPACE"),
      "/services/runtime/channel/testdata/demo_channel.json");
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << path;
  std::stringstream text;
  text << file.rdbuf();
  v1::InteractiveChannel channel;
  EXPECT_TRUE(
      google::protobuf::util::JsonStringToMessage(text.str(), &channel).ok());
  absl::StatusOr<std::shared_ptr<const channel::CompiledChannel>> compiled =
      channel::CompileChannel(channel);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok() ? *compiled : nullptr;
}

class AudienceLevelSchemaTest : public ::testing::Test {
 protected:
  AudienceLevelSchemaTest()
      : demo_(DemoChannel()),
        finder_([this](absl::string_view name)
                    -> std::shared_ptr<const channel::CompiledChannel> {
          if (demo_ != nullptr && absl::EqualsIgnoreCase(name, "demo")) {
            return demo_;
          }
          return nullptr;
        }) {}

  std::shared_ptr<const channel::CompiledChannel> demo_;
  ChannelFinder finder_;
};

TEST_F(AudienceLevelSchemaTest, ResolvesTheLevelSchema) {
  absl::StatusOr<v1::AudienceLevel> level =
      ResolveAudienceLevel(finder_, "DEMO", "customer");
  ASSERT_TRUE(level.ok()) << level.status();
  EXPECT_EQ(level->name(), "Customer");
  ASSERT_EQ(level->audience_id_fields_size(), 1);
  EXPECT_EQ(level->audience_id_fields(0).name(), "CustomerID");
  EXPECT_EQ(level->audience_id_fields(0).type(), v1::NUMBER);
  ASSERT_EQ(level->profile_attributes_size(), 3);
  EXPECT_EQ(level->profile_attributes(0).name(), "Age");
  EXPECT_EQ(level->profile_attributes(1).type(), v1::STRING);
  EXPECT_EQ(level->profile_attributes(2).type(), v1::DATETIME);
}

TEST_F(AudienceLevelSchemaTest, ResolutionErrorsSayWhatToFix) {
  EXPECT_THAT(ResolveAudienceLevel(finder_, "", "Customer"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("interactive_channel is empty")));
  EXPECT_THAT(ResolveAudienceLevel(finder_, "nope", "Customer"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("'nope' is not deployed")));
  EXPECT_THAT(
      ResolveAudienceLevel(finder_, "demo", ""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has: Customer")));
  EXPECT_THAT(ResolveAudienceLevel(finder_, "demo", "Household"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no audience level 'Household'; it has: "
                                 "Customer")));
  EXPECT_THAT(ResolveAudienceLevel(nullptr, "demo", "Customer"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("demo")));
}

TEST_F(AudienceLevelSchemaTest, NormalizesAudienceIds) {
  absl::StatusOr<v1::AudienceLevel> level =
      ResolveAudienceLevel(finder_, "demo", "Customer");
  ASSERT_TRUE(level.ok());
  google::protobuf::RepeatedPtrField<v1::NameValue> given;
  v1::NameValue* id = given.Add();
  id->set_name("customerid");
  id->set_number_value(42);
  absl::StatusOr<std::vector<v1::NameValue>> normalized =
      NormalizeAudienceId(*level, given);
  ASSERT_TRUE(normalized.ok()) << normalized.status();
  ASSERT_EQ(normalized->size(), 1u);
  EXPECT_EQ((*normalized)[0].name(), "CustomerID");
  EXPECT_EQ(AudienceKey(*normalized), "42");

  // Text for a NUMBER is parsed, so it gives the same key.
  id->set_string_value(" 42.0 ");
  normalized = NormalizeAudienceId(*level, given);
  ASSERT_TRUE(normalized.ok()) << normalized.status();
  EXPECT_EQ(AudienceKey(*normalized), "42");

  id->set_string_value("forty-two");
  EXPECT_THAT(
      NormalizeAudienceId(*level, given),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'CustomerID'")));
  id->mutable_datetime_value()->set_seconds(1);
  EXPECT_THAT(NormalizeAudienceId(*level, given),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be NUMBER")));
  id->clear_value();
  EXPECT_THAT(NormalizeAudienceId(*level, given),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs field 'CustomerID'")));
  given.Clear();
  EXPECT_THAT(NormalizeAudienceId(*level, given),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs field 'CustomerID' (NUMBER)")));
  id = given.Add();
  id->set_name("CustomerID");
  id->set_number_value(1);
  id = given.Add();
  id->set_name("Region");
  id->set_string_value("EU");
  EXPECT_THAT(NormalizeAudienceId(*level, given),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'Region' is not one of audience level")));
  given.RemoveLast();
  *given.Add() = given.Get(0);
  EXPECT_THAT(
      NormalizeAudienceId(*level, given),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("given twice")));
}

TEST(ProfileRowParserKeyTest, AudienceIdTooLongForTheTierIsARowError) {
  v1::AudienceLevel level;
  level.set_name("Visitor");
  v1::FieldDefinition* field = level.add_audience_id_fields();
  field->set_name("Cookie");
  field->set_type(v1::STRING);
  CsvRecord header{1, {"Cookie"}, absl::OkStatus()};
  absl::StatusOr<ProfileRowParser> parser =
      ProfileRowParser::Create(level, header);
  ASSERT_TRUE(parser.ok());
  CsvRecord fits{2, {std::string(kMaxAudienceKeyBytes, 'c')}, absl::OkStatus()};
  EXPECT_TRUE(std::holds_alternative<ProfileRow>(parser->ParseRow(fits)));
  CsvRecord too_long{
      3, {std::string(kMaxAudienceKeyBytes + 1, 'c')}, absl::OkStatus()};
  auto result = parser->ParseRow(too_long);
  ASSERT_TRUE(std::holds_alternative<RowError>(result));
  EXPECT_EQ(std::get<RowError>(result).line, 3);
  EXPECT_THAT(std::get<RowError>(result).message, HasSubstr("too long"));
}

}  // namespace
}  // namespace parley::profiles
