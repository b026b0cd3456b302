#include "tools/parleyctl/csv_rows.h"

#include "gtest/gtest.h"

namespace parley::parleyctl {
namespace {

v1::InteractiveChannel Channel() {
  v1::InteractiveChannel channel;
  channel.set_name("demo");
  v1::AudienceLevel* level = channel.add_audience_levels();
  level->set_name("Customer");
  v1::FieldDefinition* id = level->add_audience_id_fields();
  id->set_name("CustomerID");
  id->set_type(v1::NUMBER);
  v1::FieldDefinition* tier = level->add_profile_attributes();
  tier->set_name("Tier");
  tier->set_type(v1::STRING);
  v1::FieldDefinition* since = level->add_profile_attributes();
  since->set_name("Since");
  since->set_type(v1::DATETIME);
  v1::FieldDefinition* device = channel.add_session_parameters();
  device->set_name("Mobile");
  device->set_type(v1::BOOLEAN);
  v1::Flowchart* flowchart = channel.add_flowcharts();
  flowchart->set_name("Web");
  flowchart->set_audience_level("Customer");
  return channel;
}

TEST(CsvRowsTest, FlowchartInputsAreTheLevelsFieldsAndSessionParameters) {
  absl::StatusOr<ColumnTypes> types = FlowchartInputs(Channel(), "Web");
  ASSERT_TRUE(types.ok());
  EXPECT_EQ(types->size(), 4u);
  EXPECT_EQ(types->at("customerid"), v1::NUMBER);
  EXPECT_EQ(types->at("mobile"), v1::BOOLEAN);
  absl::StatusOr<ColumnTypes> missing = FlowchartInputs(Channel(), "Mail");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "channel 'demo' has no flowchart 'Mail'; its flowcharts: Web");
}

TEST(CsvRowsTest, TypesCellsByTheirColumns) {
  absl::StatusOr<ColumnTypes> types = FlowchartInputs(Channel(), "Web");
  ASSERT_TRUE(types.ok());
  absl::StatusOr<TestRunRows> rows = ParseTestRunCsv(
      "CustomerID,tier,Since,Mobile,Extra\n"
      "42,Gold,2026-01-02,yes,x\n"
      "\n"
      "7,\"Sil,ver\",,0,\n",
      *types);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->lines, (std::vector<int64_t>{2, 4}));
  const v1::TestRow& first = rows->rows[0];
  ASSERT_EQ(first.values_size(), 5);
  EXPECT_EQ(first.values(0).name(), "CustomerID");
  EXPECT_EQ(first.values(0).number_value(), 42);
  EXPECT_EQ(first.values(1).name(), "tier");
  EXPECT_EQ(first.values(1).string_value(), "Gold");
  EXPECT_EQ(first.values(2).datetime_value().seconds(), 1767312000);
  EXPECT_EQ(first.values(3).number_value(), 1);
  EXPECT_EQ(first.values(4).string_value(), "x");
  const v1::TestRow& second = rows->rows[1];
  // The empty DATETIME is left out; the empty string column is kept.
  ASSERT_EQ(second.values_size(), 4);
  EXPECT_EQ(second.values(1).string_value(), "Sil,ver");
  EXPECT_EQ(second.values(2).name(), "Mobile");
  EXPECT_EQ(second.values(3).string_value(), "");
}

TEST(CsvRowsTest, ListsEveryBadCell) {
  absl::StatusOr<ColumnTypes> types = FlowchartInputs(Channel(), "Web");
  ASSERT_TRUE(types.ok());
  absl::StatusOr<TestRunRows> rows = ParseTestRunCsv(
      "CustomerID,Since\n"
      "x,2026-01-01\n"
      "1\n"
      "2,soon\n",
      *types);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().message(),
            "3 bad cells or rows:\n"
            "line 2, column 'CustomerID': 'x' is not a NUMBER\n"
            "line 3: 1 fields, the header has 2\n"
            "line 4, column 'Since': 'soon' is not a DATETIME (YYYY-MM-DD or "
            "YYYY-MM-DDTHH:MM:SS[.fff]Z, or with an offset such as +02:00)");
  EXPECT_FALSE(ParseTestRunCsv("", *types).ok());
}

}  // namespace
}  // namespace parley::parleyctl
