#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/profiles/csv_reader.h"
#include "services/runtime/profiles/field_value.h"
#include "services/runtime/profiles/load_report.h"
#include "services/runtime/profiles/profile_codec.h"
#include "services/runtime/profiles/profile_loader.h"
#include "services/runtime/profiles/profile_row_parser.h"

namespace parley::profiles {
namespace {

using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// ------------------------------------------------------------ helpers

// Reads `input` fed in chunks of the given sizes (the rest in one chunk).
std::vector<CsvRecord> ReadCsv(const std::string& input,
                               const std::vector<size_t>& chunk_sizes = {}) {
  CsvReader reader;
  std::vector<CsvRecord> records;
  size_t pos = 0;
  for (size_t size : chunk_sizes) {
    if (pos >= input.size()) break;
    reader.Feed(absl::string_view(input).substr(pos, size), &records);
    pos += size;
  }
  if (pos < input.size()) {
    reader.Feed(absl::string_view(input).substr(pos), &records);
  }
  reader.Finish(&records);
  return records;
}

// A record as text for comparisons: "line: [f1][f2] status".
std::string Describe(const CsvRecord& record) {
  std::string text = absl::StrCat(record.line, ":");
  for (const std::string& field : record.fields) {
    absl::StrAppend(&text, "[", field, "]");
  }
  if (!record.status.ok()) absl::StrAppend(&text, " ", record.status.message());
  return text;
}

std::vector<std::string> DescribeAll(const std::vector<CsvRecord>& records) {
  std::vector<std::string> result;
  for (const CsvRecord& record : records) result.push_back(Describe(record));
  return result;
}

v1::AudienceLevel CustomerLevel() {
  v1::AudienceLevel level;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "Customer"
        audience_id_fields { name: "CustomerID" type: NUMBER }
        audience_id_fields { name: "Region" type: STRING }
        profile_attributes { name: "Name" type: STRING }
        profile_attributes { name: "Score" type: NUMBER }
        profile_attributes { name: "Birthday" type: DATETIME }
        profile_attributes { name: "Vip" type: BOOLEAN }
      )pb",
      &level));
  return level;
}

CsvRecord Record(int64_t line, std::vector<std::string> fields) {
  CsvRecord record;
  record.line = line;
  record.fields = std::move(fields);
  return record;
}

ProfileRowParser MakeParser(std::vector<std::string> header) {
  absl::StatusOr<ProfileRowParser> parser =
      ProfileRowParser::Create(CustomerLevel(), Record(1, std::move(header)));
  EXPECT_TRUE(parser.ok()) << parser.status();
  return *std::move(parser);
}

// Loads `input` in one chunk; rows accepted end up in `rows` by key.
struct LoadResult {
  absl::Status status;
  LoadReport report;
  std::map<std::string, std::string> rows;  // key -> encoded profile.
};

LoadResult Load(const std::string& input, LoadOptions options = {}) {
  LoadResult result;
  ProfileLoader loader(
      CustomerLevel(),
      [&result](const ProfileRow& row) {
        result.rows[row.key] = EncodeProfile(row.attributes);
        return absl::OkStatus();
      },
      options);
  result.status = loader.Feed(input);
  if (result.status.ok()) result.status = loader.Finish();
  result.report = loader.report();
  return result;
}

MATCHER_P3(RowErrorIs, line, column, message_matcher, "") {
  return arg.line == line && arg.column == column &&
         ::testing::ExplainMatchResult(message_matcher, arg.message,
                                       result_listener);
}

// ------------------------------------------------------------ CSV reader

TEST(CsvReaderTest, QuotedFieldsEscapesAndEmbeddedCommas) {
  EXPECT_THAT(DescribeAll(ReadCsv("a,\"b,c\",\"d\"\"e\",,\"\"\n")),
              ElementsAre("1:[a][b,c][d\"e][][]"));
}

TEST(CsvReaderTest, LastRecordWithoutLineEnd) {
  EXPECT_THAT(DescribeAll(ReadCsv("a,b\nc,d")),
              ElementsAre("1:[a][b]", "2:[c][d]"));
  EXPECT_THAT(DescribeAll(ReadCsv("a,\n")), ElementsAre("1:[a][]"));
}

TEST(CsvReaderTest, EmbeddedLineBreaksKeepLineNumbersOfRecordStart) {
  EXPECT_THAT(
      DescribeAll(ReadCsv("id,note\n1,\"two\nline\"\n2,\"three\n\nlines\"\n"
                          "3,x\n")),
      ElementsAre("1:[id][note]", "2:[1][two\nline]", "4:[2][three\n\nlines]",
                  "7:[3][x]"));
}

TEST(CsvReaderTest, CrLfAndCrLineEnds) {
  EXPECT_THAT(DescribeAll(ReadCsv("a,b\r\nc,d\r\ne\rf\r\n")),
              ElementsAre("1:[a][b]", "2:[c][d]", "3:[e]", "4:[f]"));
  // Inside quotes the line break is data.
  EXPECT_THAT(DescribeAll(ReadCsv("\"x\r\ny\",z\r\nw\r\n")),
              ElementsAre("1:[x\r\ny][z]", "3:[w]"));
}

TEST(CsvReaderTest, BlankLinesSkippedButCounted) {
  EXPECT_THAT(DescribeAll(ReadCsv("a\n\n\r\nb\n\n")),
              ElementsAre("1:[a]", "4:[b]"));
  EXPECT_THAT(DescribeAll(ReadCsv("")), ElementsAre());
}

TEST(CsvReaderTest, ByteOrderMarkStripped) {
  EXPECT_THAT(DescribeAll(ReadCsv("\xEF\xBB\xBFid\n1\n")),
              ElementsAre("1:[id]", "2:[1]"));
  // Only at the start, and a partial mark is data.
  EXPECT_THAT(DescribeAll(ReadCsv("\xEF\xBBx\n\xEF\xBB\xBF\n")),
              ElementsAre("1:[\xEF\xBBx]", "2:[\xEF\xBB\xBF]"));
  EXPECT_THAT(DescribeAll(ReadCsv("\xEF")), ElementsAre("1:[\xEF]"));
}

TEST(CsvReaderTest, QuoteInsideUnquotedFieldIsReportedAndReadingGoesOn) {
  std::vector<CsvRecord> records = ReadCsv("h\na\"b,c\nd\n");
  ASSERT_THAT(records, SizeIs(3));
  EXPECT_THAT(records[1].status, StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("quote inside")));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(Describe(records[2]), "3:[d]");
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsReported) {
  std::vector<CsvRecord> records = ReadCsv("\"a\nb\"x,c\nd\n");
  ASSERT_THAT(records, SizeIs(2));
  EXPECT_EQ(records[0].line, 1);
  EXPECT_THAT(records[0].status,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("after the closing quote")));
  EXPECT_EQ(Describe(records[1]), "3:[d]");
}

TEST(CsvReaderTest, UnterminatedQuoteAtEndReportedOnItsStartLine) {
  std::vector<CsvRecord> records = ReadCsv("a\n\"b\nc,d\n");
  ASSERT_THAT(records, SizeIs(2));
  EXPECT_EQ(Describe(records[0]), "1:[a]");
  EXPECT_EQ(records[1].line, 2);
  EXPECT_THAT(records[1].status, StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("unterminated")));
}

TEST(CsvReaderTest, ChunkBoundariesAnywhereGiveIdenticalRecords) {
  const std::string input =
      "\xEF\xBB\xBFid,\"na,me\",note\r\n"
      "1,\"a \"\"quoted\"\" word\",\"multi\r\nline\"\r\n"
      "\r\n"
      "2,plain,\"\"\n"
      "3,bad\"quote,x\r"
      "4,\"x\"y,z\n"
      "5,,\"last\nunterminated";
  const std::vector<std::string> whole = DescribeAll(ReadCsv(input));
  ASSERT_THAT(whole, SizeIs(6));
  EXPECT_EQ(whole[0], "1:[id][na,me][note]");
  EXPECT_EQ(whole[1], "2:[1][a \"quoted\" word][multi\r\nline]");
  EXPECT_EQ(whole[2], "5:[2][plain][]");

  EXPECT_EQ(DescribeAll(ReadCsv(input, std::vector<size_t>(input.size(), 1))),
            whole);
  for (size_t split = 0; split <= input.size(); ++split) {
    EXPECT_EQ(DescribeAll(ReadCsv(input, {split})), whole) << split;
  }
  std::mt19937 random(20240131);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> sizes;
    for (size_t total = 0; total < input.size();) {
      sizes.push_back(std::uniform_int_distribution<size_t>(0, 9)(random));
      total += sizes.back();
    }
    EXPECT_EQ(DescribeAll(ReadCsv(input, sizes)), whole) << round;
  }
}

TEST(CsvReaderTest, CountsBytesConsumed) {
  CsvReader reader;
  std::vector<CsvRecord> records;
  reader.Feed("ab", &records);
  reader.Feed("c\n", &records);
  EXPECT_EQ(reader.bytes_consumed(), 4);
  EXPECT_THAT(DescribeAll(records), ElementsAre("1:[abc]"));
}

// ------------------------------------------------------------ field values

double NumberOf(v1::FieldType type, absl::string_view text) {
  absl::StatusOr<v1::NameValue> value = ParseFieldValue("F", type, text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  if (!value.ok()) return -12345;
  EXPECT_EQ(value->value_case(), v1::NameValue::kNumberValue) << text;
  return value->number_value();
}

TEST(FieldValueTest, Numbers) {
  EXPECT_EQ(NumberOf(v1::NUMBER, "42"), 42);
  EXPECT_EQ(NumberOf(v1::NUMBER, "-1.5"), -1.5);
  EXPECT_EQ(NumberOf(v1::NUMBER, "+3e2"), 300);
  EXPECT_EQ(NumberOf(v1::NUMBER, "2.5E-1"), 0.25);
  EXPECT_EQ(NumberOf(v1::NUMBER, ".5"), 0.5);
  EXPECT_EQ(NumberOf(v1::NUMBER, "5."), 5);
  EXPECT_EQ(NumberOf(v1::NUMBER, " 7 "), 7);
  for (const char* bad : {"abc", "1e", "e5", "0x10", "inf", "nan", "1,000",
                          "--1", "1e999", ".", "+", "1 2"}) {
    EXPECT_THAT(ParseFieldValue("Score", v1::NUMBER, bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("is not a NUMBER")))
        << bad;
  }
}

TEST(FieldValueTest, EmptyIsNullExceptForStrings) {
  for (v1::FieldType type : {v1::NUMBER, v1::DATETIME, v1::BOOLEAN}) {
    absl::StatusOr<v1::NameValue> value = ParseFieldValue("F", type, " ");
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(value->name(), "F");
    EXPECT_EQ(value->value_case(), v1::NameValue::VALUE_NOT_SET) << type;
  }
  absl::StatusOr<v1::NameValue> empty = ParseFieldValue("S", v1::STRING, "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->value_case(), v1::NameValue::kStringValue);
}

TEST(FieldValueTest, StringsAsIs) {
  absl::StatusOr<v1::NameValue> value =
      ParseFieldValue("S", v1::STRING, " a, \"b\"\n ");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->string_value(), " a, \"b\"\n ");
}

TEST(FieldValueTest, DateTimes) {
  constexpr int64_t k20240131 = 1706659200;  // 2024-01-31T00:00:00Z.
  struct Case {
    const char* text;
    int64_t seconds;
    int32_t nanos;
  };
  for (const Case& c : std::vector<Case>{
           {"2024-01-31", k20240131, 0},
           {"2024-01-31T09:30:00Z", k20240131 + 34200, 0},
           {"2024-01-31T09:30:00.250Z", k20240131 + 34200, 250000000},
           {"2024-01-31T11:30:00+02:00", k20240131 + 34200, 0},
           {"2024-01-31T00:30:00-03:30", k20240131 + 14400, 0},
           {"1969-12-31T23:59:59.5Z", -1, 500000000},
       }) {
    absl::StatusOr<v1::NameValue> value =
        ParseFieldValue("D", v1::DATETIME, c.text);
    ASSERT_TRUE(value.ok()) << c.text << ": " << value.status();
    EXPECT_EQ(value->datetime_value().seconds(), c.seconds) << c.text;
    EXPECT_EQ(value->datetime_value().nanos(), c.nanos) << c.text;
  }
  for (const char* bad :
       {"2024-02-30", "31/01/2024", "2024-1-31", "2024-01-31T25:00:00Z",
        "2024-01-31T09:30:00", "2024-01-31X09:30:00Z", "20240131", "yesterday",
        "2024-01-31T09:30Z"}) {
    EXPECT_THAT(ParseFieldValue("Birthday", v1::DATETIME, bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("is not a DATETIME")))
        << bad;
  }
}

TEST(FieldValueTest, Booleans) {
  for (const char* yes : {"true", "TRUE", "True", "1", "yes", "YES"}) {
    EXPECT_EQ(NumberOf(v1::BOOLEAN, yes), 1) << yes;
  }
  for (const char* no : {"false", "FALSE", "0", "no", "No"}) {
    EXPECT_EQ(NumberOf(v1::BOOLEAN, no), 0) << no;
  }
  for (const char* bad : {"y", "2", "t", "truth"}) {
    EXPECT_THAT(ParseFieldValue("Vip", v1::BOOLEAN, bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("is not a BOOLEAN")))
        << bad;
  }
}

// ------------------------------------------------------------ key and value

v1::NameValue Number(double number) {
  v1::NameValue value;
  value.set_number_value(number);
  return value;
}

v1::NameValue String(std::string text) {
  v1::NameValue value;
  value.set_string_value(std::move(text));
  return value;
}

TEST(ProfileCodecTest, AudienceKeyCanonicalForms) {
  EXPECT_EQ(AudienceKey({Number(42)}), "42");
  EXPECT_EQ(AudienceKey({Number(42), String("EU")}), "42|EU");
  EXPECT_EQ(AudienceKey({Number(-0.0)}), "0");
  EXPECT_EQ(AudienceKey({Number(0.1)}), "0.1");
  EXPECT_EQ(AudienceKey({Number(-7)}), "-7");
  EXPECT_EQ(AudienceKey({Number(1e300)}), "1e+300");
  EXPECT_EQ(AudienceKey({String("a|b\\c"), String("d")}), "a\\|b\\\\c|d");
  // Escaping keeps different IDs apart.
  EXPECT_NE(AudienceKey({String("a|b"), String("c")}),
            AudienceKey({String("a"), String("b|c")}));
  v1::NameValue datetime;
  datetime.mutable_datetime_value()->set_seconds(1706693400);
  EXPECT_EQ(AudienceKey({datetime}), "2024-01-31T09:30:00Z");
  datetime.mutable_datetime_value()->set_nanos(250000000);
  EXPECT_EQ(AudienceKey({datetime}), "2024-01-31T09:30:00.25Z");
}

TEST(ProfileCodecTest, EncodeDecodeRoundTrip) {
  std::vector<v1::NameValue> attributes = {String("Ann"), Number(3.5),
                                           v1::NameValue()};
  attributes[0].set_name("Name");
  attributes[1].set_name("Score");
  attributes[2].set_name("Vip");
  const std::string bytes = EncodeProfile(attributes);
  EXPECT_EQ(EncodeProfile(attributes), bytes);
  absl::StatusOr<std::vector<v1::NameValue>> decoded = DecodeProfile(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_THAT(*decoded, SizeIs(3));
  EXPECT_EQ((*decoded)[0].string_value(), "Ann");
  EXPECT_EQ((*decoded)[1].number_value(), 3.5);
  EXPECT_EQ((*decoded)[2].name(), "Vip");
  EXPECT_EQ((*decoded)[2].value_case(), v1::NameValue::VALUE_NOT_SET);
  EXPECT_THAT(DecodeProfile("\x22\x05"
                            "ab"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not")));
}

// ------------------------------------------------------------ header

TEST(ProfileRowParserTest, HeaderMissingAudienceIdField) {
  EXPECT_THAT(ProfileRowParser::Create(CustomerLevel(),
                                       Record(1, {"customerid", "Name"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("missing audience-ID column(s): Region")));
}

TEST(ProfileRowParserTest, HeaderUnknownColumnsListed) {
  EXPECT_THAT(ProfileRowParser::Create(
                  CustomerLevel(),
                  Record(1, {"CustomerID", "Colour", "Region", "Size"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown column(s) for audience level "
                                 "'Customer': Colour, Size")));
}

TEST(ProfileRowParserTest, HeaderDuplicateColumnsIgnoringCase) {
  EXPECT_THAT(
      ProfileRowParser::Create(
          CustomerLevel(), Record(1, {"CustomerID", "Region", "name", "NAME"})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("duplicate column(s): NAME")));
}

TEST(ProfileRowParserTest, HeaderMalformedRecord) {
  CsvRecord header = Record(1, {"CustomerID"});
  header.status = absl::InvalidArgumentError("quote inside an unquoted field");
  EXPECT_THAT(ProfileRowParser::Create(CustomerLevel(), header),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("header (line 1): quote inside")));
}

TEST(ProfileRowParserTest, HeaderNamesMatchIgnoringCaseAndSpaces) {
  ProfileRowParser parser = MakeParser({" REGION ", "customerid", "vip"});
  std::variant<ProfileRow, RowError> result =
      parser.ParseRow(Record(2, {"EU", "42", "Yes"}));
  ASSERT_TRUE(std::holds_alternative<ProfileRow>(result));
  const ProfileRow& row = std::get<ProfileRow>(result);
  EXPECT_EQ(row.line, 2);
  EXPECT_EQ(row.key, "42|EU");
  ASSERT_THAT(row.audience_id, SizeIs(2));
  EXPECT_EQ(row.audience_id[0].name(), "CustomerID");
  EXPECT_EQ(row.audience_id[0].number_value(), 42);
  EXPECT_EQ(row.audience_id[1].name(), "Region");
  // Every attribute of the level, in its order; absent columns are NULL.
  ASSERT_THAT(row.attributes, SizeIs(4));
  EXPECT_EQ(row.attributes[0].name(), "Name");
  EXPECT_EQ(row.attributes[0].value_case(), v1::NameValue::VALUE_NOT_SET);
  EXPECT_EQ(row.attributes[3].name(), "Vip");
  EXPECT_EQ(row.attributes[3].number_value(), 1);
}

// ------------------------------------------------------------ rows

TEST(ProfileRowParserTest, TypedRowWithNulls) {
  ProfileRowParser parser =
      MakeParser({"CustomerID", "Region", "Name", "Score", "Birthday", "Vip"});
  std::variant<ProfileRow, RowError> result =
      parser.ParseRow(Record(5, {"7", "EU", "Ann", "", "1990-05-01", ""}));
  ASSERT_TRUE(std::holds_alternative<ProfileRow>(result));
  const ProfileRow& row = std::get<ProfileRow>(result);
  EXPECT_EQ(row.attributes[0].string_value(), "Ann");
  EXPECT_EQ(row.attributes[1].value_case(), v1::NameValue::VALUE_NOT_SET);
  EXPECT_EQ(row.attributes[2].datetime_value().seconds(), 641520000);
  EXPECT_EQ(row.attributes[3].value_case(), v1::NameValue::VALUE_NOT_SET);
}

TEST(ProfileRowParserTest, EmptyAudienceIdAndWrongFieldCountAreRowErrors) {
  ProfileRowParser parser = MakeParser({"CustomerID", "Region", "Name"});
  std::variant<ProfileRow, RowError> empty_id =
      parser.ParseRow(Record(3, {"1", " ", "Ann"}));
  ASSERT_TRUE(std::holds_alternative<RowError>(empty_id));
  EXPECT_THAT(std::get<RowError>(empty_id),
              RowErrorIs(3, "Region", HasSubstr("empty audience-ID")));
  std::variant<ProfileRow, RowError> short_row =
      parser.ParseRow(Record(4, {"1", "EU"}));
  ASSERT_TRUE(std::holds_alternative<RowError>(short_row));
  EXPECT_THAT(std::get<RowError>(short_row),
              RowErrorIs(4, "", HasSubstr("expected 3 fields")));
}

TEST(ProfileRowParserTest, SameRowSameKeyAndValueWhateverColumnOrder) {
  ProfileRowParser a = MakeParser({"CustomerID", "Region", "Name", "Score"});
  ProfileRowParser b = MakeParser({"score", "name", "region", "customerid"});
  const ProfileRow row_a =
      std::get<ProfileRow>(a.ParseRow(Record(2, {"4.2e1", "EU", "Ann", "1"})));
  const ProfileRow row_a_again =
      std::get<ProfileRow>(a.ParseRow(Record(9, {"4.2e1", "EU", "Ann", "1"})));
  const ProfileRow row_b =
      std::get<ProfileRow>(b.ParseRow(Record(2, {"1.0", "Ann", "EU", "42"})));
  EXPECT_EQ(row_a.key, "42|EU");
  EXPECT_EQ(row_a_again.key, row_a.key);
  EXPECT_EQ(row_b.key, row_a.key);
  EXPECT_EQ(EncodeProfile(row_a_again.attributes),
            EncodeProfile(row_a.attributes));
  EXPECT_EQ(EncodeProfile(row_b.attributes), EncodeProfile(row_a.attributes));
}

// ------------------------------------------------------------ loader

TEST(ProfileLoaderTest, BadRowsReportedWithLineAndColumnGoodRowsLoaded) {
  LoadResult result = Load(
      "CustomerID,Region,Name,Score,Birthday,Vip\n"
      "1,EU,Ann,10,1990-05-01,yes\n"
      "x,EU,Bob,1,,\n"
      "3,EU,\"Multi\nline\",ten,,\n"
      "4,EU,Dan,,1990-13-01,\n"
      "5,EU,Eve,,,maybe\n"
      "6,EU,\"Fay\"x,,,\n"
      "7,,Gus,,,\n"
      "8,US,Hal\n"
      "9,US,Ida,,,\n");
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.report.rows_read, 9);
  EXPECT_EQ(result.report.rows_accepted, 2);
  EXPECT_EQ(result.report.rows_rejected, 7);
  EXPECT_EQ(result.report.errors_not_kept, 0);
  EXPECT_THAT(
      result.report.errors,
      ElementsAre(RowErrorIs(3, "CustomerID", HasSubstr("'x' is not a NUMBER")),
                  RowErrorIs(4, "Score", HasSubstr("'ten' is not a NUMBER")),
                  RowErrorIs(6, "Birthday", HasSubstr("is not a DATETIME")),
                  RowErrorIs(7, "Vip", HasSubstr("is not a BOOLEAN")),
                  RowErrorIs(8, "", HasSubstr("closing quote")),
                  RowErrorIs(9, "Region", HasSubstr("empty audience-ID")),
                  RowErrorIs(10, "", HasSubstr("expected 6 fields"))));
  EXPECT_THAT(result.rows, SizeIs(2));
  EXPECT_TRUE(result.rows.count("1|EU"));
  EXPECT_TRUE(result.rows.count("9|US"));
}

TEST(ProfileLoaderTest, ReloadingOverwritesInsteadOfDuplicating) {
  const std::string input =
      "CustomerID,Region,Name\n1,EU,Ann\n2,EU,Bob\n1,EU,Ann\n";
  std::map<std::string, std::string> cache;
  int puts = 0;
  for (int load = 0; load < 2; ++load) {
    ProfileLoader loader(CustomerLevel(), [&](const ProfileRow& row) {
      cache[row.key] = EncodeProfile(row.attributes);
      ++puts;
      return absl::OkStatus();
    });
    ASSERT_TRUE(loader.Feed(input).ok());
    ASSERT_TRUE(loader.Finish().ok());
  }
  EXPECT_EQ(puts, 6);
  EXPECT_THAT(cache, SizeIs(2));
  EXPECT_EQ(cache, Load(input).rows);
}

TEST(ProfileLoaderTest, ErrorCapKeepsFirstErrorsAndCountsTheRest) {
  std::string input = "CustomerID,Region\n";
  for (int i = 0; i < 10; ++i) absl::StrAppend(&input, "bad,EU\n");
  LoadOptions options;
  options.max_kept_errors = 3;
  LoadResult result = Load(input, options);
  ASSERT_TRUE(result.status.ok());
  EXPECT_EQ(result.report.rows_rejected, 10);
  EXPECT_EQ(result.report.errors_not_kept, 7);
  ASSERT_THAT(result.report.errors, SizeIs(3));
  EXPECT_EQ(result.report.errors[0].line, 2);
  EXPECT_EQ(result.report.errors[2].line, 4);
  EXPECT_EQ(result.report.bytes_processed, static_cast<int64_t>(input.size()));
}

TEST(ProfileLoaderTest, BadHeaderFailsTheLoadAndStaysFailed) {
  ProfileLoader loader(CustomerLevel(),
                       [](const ProfileRow&) { return absl::OkStatus(); });
  EXPECT_THAT(loader.Feed("CustomerID,Colour\n1,red\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown column(s)")));
  EXPECT_THAT(loader.Feed("2,blue\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown column(s)")));
  EXPECT_FALSE(loader.Finish().ok());
  EXPECT_EQ(loader.report().rows_read, 0);
}

TEST(ProfileLoaderTest, EmptyInputHasNoHeader) {
  EXPECT_THAT(
      Load("\xEF\xBB\xBF\n\n").status,
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no header row")));
}

TEST(ProfileLoaderTest, SinkErrorStopsTheLoad) {
  int calls = 0;
  ProfileLoader loader(CustomerLevel(), [&calls](const ProfileRow&) {
    ++calls;
    return absl::UnavailableError("cache down");
  });
  EXPECT_THAT(loader.Feed("CustomerID,Region\n1,EU\n2,EU\n"),
              StatusIs(absl::StatusCode::kUnavailable, "cache down"));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(loader.report().rows_accepted, 0);
}

TEST(ProfileLoaderTest, HundredThousandRowsInChunks) {
  constexpr int kRows = 100000;
  constexpr size_t kChunk = 64 * 1024;
  int64_t sunk = 0;
  int64_t last_line = 0;
  ProfileLoader loader(CustomerLevel(), [&](const ProfileRow& row) {
    ++sunk;
    last_line = row.line;
    return absl::OkStatus();
  });
  // Generated chunk by chunk: the whole file never exists in memory.
  std::string buffer = "CustomerID,Region,Name,Score,Birthday,Vip\r\n";
  int64_t total_bytes = 0;
  int64_t last_progress = 0;
  for (int i = 1; i <= kRows; ++i) {
    if (i % 1000 == 0) {
      absl::StrAppend(&buffer, i, ",EU,\"Name, ", i, "\",oops,,\r\n");
    } else {
      absl::StrAppend(&buffer, i, ",EU,\"Name, ", i, "\",", i % 97,
                      ".5,2001-02-03T04:05:06Z,", i % 2 ? "yes" : "no", "\r\n");
    }
    if (buffer.size() >= kChunk) {
      // An odd split so chunk ends fall inside fields and CRLFs.
      const size_t cut = kChunk - 7;
      total_bytes += static_cast<int64_t>(cut);
      ASSERT_TRUE(loader.Feed(absl::string_view(buffer).substr(0, cut)).ok());
      buffer.erase(0, cut);
      EXPECT_GT(loader.report().bytes_processed, last_progress);
      last_progress = loader.report().bytes_processed;
    }
  }
  total_bytes += static_cast<int64_t>(buffer.size());
  ASSERT_TRUE(loader.Feed(buffer).ok());
  ASSERT_TRUE(loader.Finish().ok());
  const LoadReport& report = loader.report();
  EXPECT_EQ(report.rows_read, kRows);
  EXPECT_EQ(report.rows_accepted, kRows - kRows / 1000);
  EXPECT_EQ(report.rows_rejected, kRows / 1000);
  EXPECT_EQ(sunk, report.rows_accepted);
  // Row 99,999 (line 100,000) is the last good one; row 100,000 is bad.
  EXPECT_EQ(last_line, kRows);
  ASSERT_THAT(report.errors, SizeIs(100));
  EXPECT_THAT(report.errors[0], RowErrorIs(1001, "Score", HasSubstr("oops")));
  EXPECT_EQ(report.bytes_processed, total_bytes);
}

TEST(CsvReaderTest, AnOverlongRecordIsMalformedAndReadingGoesOn) {
  // A quote never closed would otherwise take the rest of the file.
  std::string input = "a,\"never closed\n";
  for (int i = 0; i < 40000; ++i) input += "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n";
  input += "tail\n";
  std::vector<CsvRecord> records = ReadCsv(input, {4096, 100000, 77});
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[0].line, 1);
  EXPECT_THAT(records[0].status, StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("longer than 1048576")));
  EXPECT_TRUE(records[0].fields.empty());
  // Reading resumed at the next line end after the limit.
  const CsvRecord& last = records.back();
  EXPECT_TRUE(last.status.ok());
  EXPECT_THAT(last.fields, ElementsAre("tail"));
  EXPECT_EQ(last.line, 40002);

  // Just under the limit is fine.
  std::string big(kMaxCsvRecordBytes - 1, 'y');
  records = ReadCsv(big + "\nnext\n");
  ASSERT_THAT(records, SizeIs(2));
  EXPECT_TRUE(records[0].status.ok());
  EXPECT_EQ(records[0].fields[0].size(), big.size());
}

TEST(FieldValueTest, TextMustBeUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("caf\xe9"));           // Latin-1.
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // Truncated.
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // Overlong.
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // Surrogate.
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // Above U+10FFFF.
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_THAT(ParseFieldValue("Tier", v1::STRING, "caf\xe9"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not valid UTF-8")));
  EXPECT_THAT(ParseFieldValue("Age", v1::NUMBER, "4\xe9"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not valid UTF-8")));
  // A huge bad value is not repeated whole in the message.
  const std::string huge(100000, '9');
  absl::StatusOr<v1::NameValue> bad =
      ParseFieldValue("Age", v1::NUMBER, huge + "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_LT(bad.status().message().size(), 200u);
  EXPECT_THAT(bad.status().message(), HasSubstr("...' is not a NUMBER"));
  absl::StatusOr<v1::NameValue> ok =
      ParseFieldValue("Tier", v1::STRING, "caf\xc3\xa9");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->string_value(), "caf\xc3\xa9");
}

}  // namespace
}  // namespace parley::profiles
