#include "tools/parleyctl/channel_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tools/parleyctl/problem_locator.h"

namespace parley::parleyctl {
namespace {

constexpr char kYaml[] = R"(# A small channel in YAML.
name: shop
description: 2026
audienceLevels:
  - name: Customer
    audienceIdFields:
      - {name: CustomerID, type: NUMBER}
    profileAttributes:
      - name: Tier
        type: STRING
segments:
  - name: Gold
  - name: "yes"
treatmentRules:
  - name: GoldRule
    segment: Gold
    offer: Card
    marketingScore: 75
    disabled: no
    eligibility: Tier = 'Gold'
  - name: Other
    segment: Gold
    offer: Card
flowcharts:
  - name: Web
    audienceLevel: Customer
    startBox: Pop
    boxes:
      - name: Split
        sample:
          seed: 7
          cells: [{percent: 50, nextBox: Pop}]
      - name: Pop
        populateSegments: {segments: [Gold]}
)";

std::string ReadDemo() {
  std::ifstream in("deploy/demo/demo_channel.json");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(ChannelFileTest, ReadsTheDemoChannelJson) {
  const std::string text = ReadDemo();
  ASSERT_FALSE(text.empty());
  EXPECT_FALSE(LooksLikeYaml("demo_channel.json", text));
  absl::StatusOr<ChannelFile> file =
      ParseChannelFile("demo_channel.json", text, false);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->channel.name(), "demo");
  EXPECT_GT(file->channel.treatment_rules_size(), 0);
  EXPECT_EQ(file->channel.flowcharts(0).boxes(2).sample().seed(), 2026u);
}

TEST(ChannelFileTest, ReadsYamlShapedByTheChannelMessage) {
  EXPECT_TRUE(LooksLikeYaml("shop.yaml", "{"));
  EXPECT_TRUE(LooksLikeYaml("shop", "name: shop"));
  absl::StatusOr<ChannelFile> file = ParseChannelFile("shop.yaml", kYaml, true);
  ASSERT_TRUE(file.ok()) << file.status();
  const v1::InteractiveChannel& channel = file->channel;
  EXPECT_EQ(channel.name(), "shop");
  // Plain scalars that YAML would type stay strings in string fields.
  EXPECT_EQ(channel.description(), "2026");
  EXPECT_EQ(channel.segments(1).name(), "yes");
  EXPECT_EQ(channel.audience_levels(0).audience_id_fields(0).type(),
            v1::NUMBER);
  EXPECT_EQ(channel.treatment_rules(0).marketing_score().value(), 75);
  EXPECT_FALSE(channel.treatment_rules(0).disabled());
  EXPECT_EQ(channel.flowcharts(0).boxes(0).sample().seed(), 7u);
  EXPECT_EQ(channel.flowcharts(0).boxes(0).sample().cells(0).percent(), 50);
}

TEST(ChannelFileTest, SyntaxErrorsNameFileLineAndColumn) {
  absl::StatusOr<ChannelFile> json =
      ParseChannelFile("bad.json", "{\n  \"name\": \"x\",\n  oops\n}", false);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().message(),
            "bad.json:3:3: expected a quoted member name (the file is not "
            "valid JSON)");
  absl::StatusOr<ChannelFile> yaml =
      ParseChannelFile("bad.yaml", "name: x\nzones: [a\n", true);
  ASSERT_FALSE(yaml.ok());
  EXPECT_TRUE(absl::StartsWith(yaml.status().message(), "bad.yaml:"))
      << yaml.status();
}

TEST(ChannelFileTest, FieldErrorsPointAtTheField) {
  absl::StatusOr<ChannelFile> file = ParseChannelFile(
      "bad.yaml",
      "name: x\naudienceLevels:\n  - name: C\n    profileAttributes:\n"
      "      - name: Age\n        type: NUMBR\n",
      true);
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(absl::StartsWith(file.status().message(), "bad.yaml:6:15: "))
      << file.status();
  EXPECT_TRUE(absl::StrContains(file.status().message(), "NUMBR"))
      << file.status();
  file =
      ParseChannelFile("bad.json", "{\"name\": \"x\", \"colour\": 1}", false);
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(absl::StrContains(file.status().message(), "colour"))
      << file.status();
}

TEST(ProblemLocatorTest, FindsTheElementAProblemNames) {
  absl::StatusOr<ChannelFile> file = ParseChannelFile("shop.yaml", kYaml, true);
  ASSERT_TRUE(file.ok()) << file.status();
  const Json& doc = file->document;
  SourcePosition at = LocateProblem(
      doc,
      "treatment rule 'GoldRule': eligibility: unknown field 'Tierx' at line "
      "1, column 1");
  EXPECT_EQ(at.line, 20);
  EXPECT_EQ(at.column, 18);
  at =
      LocateProblem(doc, "treatment rule 'Other': offer 'Card' is not defined");
  EXPECT_EQ(at.line, 23);
  EXPECT_EQ(at.column, 12);
  at = LocateProblem(doc, "treatment rule 'Other': marketing score 500 is bad");
  EXPECT_EQ(at.line, 21);
  EXPECT_EQ(at.column, 5);
  at = LocateProblem(doc, "flowchart 'Web': box 'Split': cells add up to 50");
  EXPECT_EQ(at.line, 29);
  EXPECT_EQ(at.column, 9);
  at = LocateProblem(doc, "flowchart 'Web': start box 'Pop' is unreachable");
  EXPECT_EQ(at.line, 27);
  at = LocateProblem(doc,
                     "audience level 'Customer': profile attribute 'Tier': "
                     "type is not specified");
  EXPECT_EQ(at.line, 9);
  at = LocateProblem(doc, "channel: name is empty");
  EXPECT_EQ(at.line, 2);
  EXPECT_FALSE(LocateProblem(doc, "offer 'Nope' defined twice").known());
  EXPECT_FALSE(LocateProblem(doc, "something else entirely").known());
}

TEST(ProblemLocatorTest, PointsAtTheSecondOfTwoDefinitions) {
  absl::StatusOr<Json> doc = ParseJson(
      "{\"segments\": [\n {\"name\": \"A\"},\n {\"name\": \"A\"}\n]}");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(LocateProblem(*doc, "segment 'A' defined twice").line, 3);
  EXPECT_EQ(LocateProblem(*doc, "segment 'A': name has spaces").line, 2);
}

TEST(ProblemLocatorTest, LocatesProtobufPaths) {
  absl::StatusOr<ChannelFile> file = ParseChannelFile("shop.yaml", kYaml, true);
  ASSERT_TRUE(file.ok());
  SourcePosition at =
      LocatePath(file->document, "audienceLevels[0].profileAttributes[0].type");
  EXPECT_EQ(at.line, 10);
  EXPECT_EQ(at.column, 15);
  EXPECT_EQ(LocatePath(file->document, "segments[9]").line, 12);
  EXPECT_EQ(LocatePath(file->document, "treatment_rules[1].offer").line, 23);
  EXPECT_FALSE(LocatePath(file->document, "nothing").known());
}

}  // namespace
}  // namespace parley::parleyctl
