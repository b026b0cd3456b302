#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/cache_node.pb.h"
#include "proto/parley/v1/history.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/runtime/history/history_exporter.h"
#include "services/runtime/history/history_format.h"
#include "services/runtime/history/history_key.h"

namespace parley::history {
namespace {

using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

v1::HistoryRecord Record(int64_t millis, v1::HistoryKind kind,
                         const std::string& treatment_code) {
  v1::HistoryRecord record;
  record.set_kind(kind);
  record.set_session_id("s-" + treatment_code);
  record.set_interactive_channel("demo");
  record.set_audience_level("Customer");
  record.set_audience_id("CustomerID=42");
  record.set_offer("GoldCard");
  record.set_treatment_code(treatment_code);
  record.set_interaction_point("HomePageHero");
  record.mutable_time()->set_seconds(millis / 1000);
  record.mutable_time()->set_nanos(static_cast<int32_t>(millis % 1000) *
                                   1000000);
  return record;
}

// ------------------------------------------------------------ keys

TEST(HistoryKeyTest, KeyIsPaddedTimeKindAndTreatmentCode) {
  EXPECT_EQ(HistoryKey(Record(1706692800123, v1::CONTACT, "TC-9")),
            "001706692800123/1/TC-9");
  EXPECT_EQ(HistoryKey(Record(5, v1::REJECTION, "x")), "000000000000005/3/x");
}

TEST(HistoryKeyTest, SubMillisecondNanosRoundDown) {
  v1::HistoryRecord record = Record(1000, v1::ACCEPTANCE, "a");
  record.mutable_time()->set_nanos(999999999);
  EXPECT_EQ(HistoryKey(record), "000000000001999/2/a");
}

TEST(HistoryKeyTest, KeysSortByTimeWhateverTheDigitCount) {
  std::vector<int64_t> times = {9,
                                10,
                                999,
                                1000,
                                99999,
                                100000,
                                1706692800000,
                                1706692800001,
                                17066928000000};
  std::vector<std::string> keys;
  for (int64_t t : times)
    keys.push_back(HistoryKey(Record(t, v1::CONTACT, "z")));
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, keys);
  // Within one millisecond: contact, acceptance, rejection.
  EXPECT_LT(HistoryKey(Record(7, v1::CONTACT, "zz")),
            HistoryKey(Record(7, v1::ACCEPTANCE, "a")));
  EXPECT_LT(HistoryKey(Record(7, v1::ACCEPTANCE, "zz")),
            HistoryKey(Record(7, v1::REJECTION, "a")));
}

TEST(HistoryKeyTest, SameEventSameKey) {
  EXPECT_EQ(HistoryKey(Record(42, v1::CONTACT, "t")),
            HistoryKey(Record(42, v1::CONTACT, "t")));
  EXPECT_NE(HistoryKey(Record(42, v1::CONTACT, "t")),
            HistoryKey(Record(42, v1::ACCEPTANCE, "t")));
}

TEST(HistoryKeyTest, MillisReadBack) {
  EXPECT_EQ(HistoryKeyMillis("001706692800123/1/TC-9"), 1706692800123);
  EXPECT_EQ(HistoryKeyMillis(HistoryKey(Record(0, v1::CONTACT, "t"))), 0);
  EXPECT_EQ(HistoryKeyMillis("abc"), absl::nullopt);
  EXPECT_EQ(HistoryKeyMillis("00170669280012x/1/t"), absl::nullopt);
  EXPECT_EQ(HistoryKeyMillis("0017066928001234/1/t"), absl::nullopt);
  EXPECT_EQ(HistoryKeyMillis("001706692800123/1/"), absl::nullopt);
}

TEST(HistoryKeyTest, ValidationNamesTheProblem) {
  EXPECT_TRUE(ValidateHistoryRecord(Record(1, v1::CONTACT, "t")).ok());
  EXPECT_THAT(
      ValidateHistoryRecord(Record(1, v1::HISTORY_KIND_UNSPECIFIED, "t")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kind")));
  EXPECT_THAT(ValidateHistoryRecord(Record(1, v1::CONTACT, "")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("treatment_code")));
  EXPECT_THAT(
      ValidateHistoryRecord(
          Record(1, v1::CONTACT, std::string(kMaxTreatmentCodeBytes + 1, 'x'))),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most")));
  EXPECT_TRUE(
      ValidateHistoryRecord(
          Record(1, v1::CONTACT, std::string(kMaxTreatmentCodeBytes, 'x')))
          .ok());
  EXPECT_EQ(HistoryKey(Record(1, v1::CONTACT,
                              std::string(kMaxTreatmentCodeBytes, 'x')))
                .size(),
            1024u);
  v1::HistoryRecord no_time = Record(1, v1::CONTACT, "t");
  no_time.clear_time();
  EXPECT_THAT(ValidateHistoryRecord(no_time),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("time")));
  v1::HistoryRecord before_epoch = Record(1, v1::CONTACT, "t");
  before_epoch.mutable_time()->set_seconds(-5);
  EXPECT_THAT(ValidateHistoryRecord(before_epoch),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1970")));
}

// ------------------------------------------------------------ formats

TEST(HistoryFormatTest, CsvFieldQuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
}

TEST(HistoryFormatTest, ParametersAreNameValuePairsEscaped) {
  v1::HistoryRecord record;
  v1::NameValue* p = record.add_parameters();
  p->set_name("Device");
  p->set_string_value("web");
  p = record.add_parameters();
  p->set_name("Cart");
  p->set_number_value(42);
  p = record.add_parameters();
  p->set_name("Ratio");
  p->set_number_value(0.1);
  p = record.add_parameters();
  p->set_name("When");
  p->mutable_datetime_value()->set_seconds(1706692800);
  p = record.add_parameters();
  p->set_name("Empty");
  p = record.add_parameters();
  p->set_name("a=b");
  p->set_string_value("x;y\\z");
  EXPECT_EQ(ParametersText(record.parameters()),
            "Device=web;Cart=42;Ratio=0.1;When=2024-01-31T09:20:00Z;Empty=;"
            "a\\=b=x\\;y\\\\z");
}

TEST(HistoryFormatTest, CsvHasHeaderAndOneRowPerRecord) {
  HistoryFormatter formatter(v1::CSV);
  std::string out;
  formatter.AppendHeader(&out);
  v1::HistoryRecord record = Record(1706692800123, v1::ACCEPTANCE, "TC,1");
  record.set_session_id("s\"1");
  v1::NameValue* p = record.add_parameters();
  p->set_name("Device");
  p->set_string_value("web");
  p = record.add_parameters();
  p->set_name("Cart");
  p->set_number_value(12.5);
  ASSERT_TRUE(formatter.AppendRecord(record, &out).ok());
  EXPECT_EQ(out,
            "kind,time,session_id,interactive_channel,audience_level,"
            "audience_id,interaction_point,offer,treatment_code,parameters\n"
            "ACCEPTANCE,2024-01-31T09:20:00.123Z,\"s\"\"1\",demo,Customer,"
            "CustomerID=42,HomePageHero,GoldCard,\"TC,1\","
            "Device=web;Cart=12.5\n");
}

TEST(HistoryFormatTest, CsvQuotesParametersWithCommas) {
  HistoryFormatter formatter(v1::CSV);
  std::string out;
  v1::HistoryRecord record = Record(0, v1::CONTACT, "t");
  v1::NameValue* p = record.add_parameters();
  p->set_name("Note");
  p->set_string_value("a, b");
  ASSERT_TRUE(formatter.AppendRecord(record, &out).ok());
  EXPECT_THAT(out, ::testing::EndsWith(",\"Note=a, b\"\n"));
}

TEST(HistoryFormatTest, JsonLinesAreTheProtobufJsonMapping) {
  HistoryFormatter formatter(v1::JSON_LINES);
  std::string out;
  formatter.AppendHeader(&out);
  EXPECT_EQ(out, "");
  v1::HistoryRecord first = Record(1706692800123, v1::CONTACT, "a");
  v1::HistoryRecord second = Record(1706692800124, v1::REJECTION, "b");
  second.set_session_id("line\nbreak");
  v1::NameValue* p = second.add_parameters();
  p->set_name("Cart");
  p->set_number_value(3);
  ASSERT_TRUE(formatter.AppendRecord(first, &out).ok());
  ASSERT_TRUE(formatter.AppendRecord(second, &out).ok());
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "");
  EXPECT_THAT(lines[0], HasSubstr("\"kind\":\"CONTACT\""));
  EXPECT_THAT(lines[0], HasSubstr("\"sessionId\":\"s-a\""));
  EXPECT_THAT(lines[0], HasSubstr("\"time\":\"2024-01-31T09:20:00.123Z\""));
  const v1::HistoryRecord* expected[] = {&first, &second};
  for (int i = 0; i < 2; ++i) {
    v1::HistoryRecord parsed;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(lines[i], &parsed).ok());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        parsed, *expected[i]))
        << parsed.DebugString();
  }
}

// ------------------------------------------------------------ export

// A namespace spread over partitions as the tier stores it: each key in a
// partition chosen by hash, each partition in key order, scanned partition
// after partition with the tier's page token ("<partition>:<last key>").
class FakeTier {
 public:
  explicit FakeTier(int partitions) : partitions_(partitions) {}

  void Put(const std::string& key, const std::string& value) {
    partitions_[std::hash<std::string>()(key) % partitions_.size()][key] =
        value;
  }
  void PutRecord(const v1::HistoryRecord& record) {
    Put(HistoryKey(record), record.SerializeAsString());
  }

  // Returns `duplicate` twice in the next scans, as a misbehaving tier.
  void DuplicateInScans(const std::string& key) { duplicate_ = key; }
  void FailPage(int page) { fail_page_ = page; }

  HistoryPageReader Reader(size_t limit) {
    return [this, limit](const std::string& token) {
      return ReadPage(token, limit);
    };
  }

  int pages_read() const { return pages_read_; }

 private:
  absl::StatusOr<v1::ScanResponse> ReadPage(const std::string& token,
                                            size_t limit) {
    if (++pages_read_ == fail_page_) {
      return absl::UnavailableError("partition 3 has no primary");
    }
    size_t partition = 0;
    std::string after;
    if (!token.empty()) {
      std::vector<std::string> parts =
          absl::StrSplit(token, absl::MaxSplits(':', 1));
      EXPECT_TRUE(absl::SimpleAtoi(parts[0], &partition));
      after = parts[1];
    }
    v1::ScanResponse response;
    for (size_t p = partition; p < partitions_.size(); ++p) {
      auto it = after.empty() ? partitions_[p].begin()
                              : partitions_[p].upper_bound(after);
      for (; it != partitions_[p].end(); ++it) {
        const int copies = it->first == duplicate_ ? 2 : 1;
        for (int c = 0; c < copies; ++c) {
          v1::Entry* entry = response.add_entries();
          entry->set_key(it->first);
          entry->set_value(it->second);
        }
        if (static_cast<size_t>(response.entries_size()) >= limit) {
          response.set_next_page_token(absl::StrCat(p, ":", it->first));
          return response;
        }
      }
      after.clear();
    }
    return response;
  }

  std::vector<std::map<std::string, std::string>> partitions_;
  std::string duplicate_;
  int fail_page_ = -1;
  int pages_read_ = 0;
};

std::vector<std::string> ExportCodes(FakeTier& tier, size_t page_limit,
                                     absl::optional<absl::Time> since,
                                     int64_t buffer_bytes,
                                     HistoryExportStats* stats,
                                     absl::Status* status = nullptr) {
  std::vector<std::string> codes;
  HistoryExportOptions options;
  options.max_buffered_bytes = buffer_bytes;
  absl::Status result = ExportHistoryRecords(
      tier.Reader(page_limit), since, options,
      [&codes](const v1::HistoryRecord& record) {
        codes.push_back(record.treatment_code());
        return true;
      },
      stats);
  if (status != nullptr) {
    *status = result;
  } else {
    EXPECT_TRUE(result.ok()) << result;
  }
  return codes;
}

// Records at shuffled times; returns their codes oldest first.
std::vector<std::string> FillShuffled(FakeTier& tier, int n) {
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  for (int i : order) {
    tier.PutRecord(
        Record(1700000000000 + i * 10, v1::CONTACT, absl::StrCat("tc", i)));
  }
  std::vector<std::string> expected;
  for (int i = 0; i < n; ++i) expected.push_back(absl::StrCat("tc", i));
  return expected;
}

TEST(HistoryExportTest, OldestFirstAcrossPartitionsInOnePass) {
  FakeTier tier(8);
  const std::vector<std::string> expected = FillShuffled(tier, 500);
  HistoryExportStats stats;
  EXPECT_EQ(ExportCodes(tier, 37, absl::nullopt, int64_t{1} << 30, &stats),
            expected);
  EXPECT_EQ(stats.passes, 1);
  EXPECT_EQ(stats.records, 500);
  EXPECT_EQ(stats.skipped, 0);
}

TEST(HistoryExportTest, SmallBufferTakesSeveralPassesAndKeepsOrder) {
  FakeTier tier(8);
  const std::vector<std::string> expected = FillShuffled(tier, 500);
  // Room for about 40 records at a time.
  const int64_t per_record =
      static_cast<int64_t>(
          HistoryKey(Record(1700000000000, v1::CONTACT, "tc100")).size() +
          Record(1700000000000, v1::CONTACT, "tc100").ByteSizeLong()) +
      64;
  HistoryExportStats stats;
  EXPECT_EQ(ExportCodes(tier, 50, absl::nullopt, 40 * per_record, &stats),
            expected);
  EXPECT_GE(stats.passes, 500 / 41);
  EXPECT_LE(stats.passes, 500 / 35 + 1);
  EXPECT_EQ(stats.records, 500);
}

TEST(HistoryExportTest, BufferSmallerThanOneRecordStillExportsAll) {
  FakeTier tier(4);
  const std::vector<std::string> expected = FillShuffled(tier, 30);
  HistoryExportStats stats;
  EXPECT_EQ(ExportCodes(tier, 7, absl::nullopt, 1, &stats), expected);
  EXPECT_EQ(stats.passes, 30);
}

TEST(HistoryExportTest, SinceKeepsRecordsAtOrAfterIt) {
  FakeTier tier(8);
  FillShuffled(tier, 100);  // Times 1700000000000 + 10 i.
  // A record 0.5 ms after tc50's millisecond starts.
  v1::HistoryRecord late = Record(1700000000500, v1::ACCEPTANCE, "late");
  late.mutable_time()->set_nanos(late.time().nanos() + 500000);
  tier.PutRecord(late);
  HistoryExportStats stats;
  const absl::Time since =
      absl::FromUnixMillis(1700000000500) + absl::Microseconds(200);
  std::vector<std::string> codes =
      ExportCodes(tier, 16, since, int64_t{1} << 30, &stats);
  std::vector<std::string> expected = {"late"};
  for (int i = 51; i < 100; ++i) expected.push_back(absl::StrCat("tc", i));
  EXPECT_EQ(codes, expected);

  // Exactly at a record's time includes it; several passes agree.
  codes =
      ExportCodes(tier, 16, absl::FromUnixMillis(1700000000500), 2000, &stats);
  expected.insert(expected.begin(), "tc50");
  EXPECT_EQ(codes, expected);
  EXPECT_GT(stats.passes, 1);
}

TEST(HistoryExportTest, EveryRecordOnceEvenIfTheScanRepeatsOne) {
  FakeTier tier(4);
  const std::vector<std::string> expected = FillShuffled(tier, 60);
  tier.DuplicateInScans(
      HistoryKey(Record(1700000000000 + 200, v1::CONTACT, "tc20")));
  HistoryExportStats stats;
  EXPECT_EQ(ExportCodes(tier, 9, absl::nullopt, int64_t{1} << 30, &stats),
            expected);
  EXPECT_EQ(ExportCodes(tier, 9, absl::nullopt, 3000, &stats), expected);
  EXPECT_GT(stats.passes, 1);
}

TEST(HistoryExportTest, ForeignEntriesAreSkippedAndCounted) {
  FakeTier tier(4);
  const std::vector<std::string> expected = FillShuffled(tier, 10);
  tier.Put("not-a-history-key", "x");
  tier.Put("000000000000001/1/bad-value", "\xff\xff\xff");
  HistoryExportStats stats;
  EXPECT_EQ(ExportCodes(tier, 5, absl::nullopt, int64_t{1} << 30, &stats),
            expected);
  EXPECT_EQ(stats.skipped, 2);
  EXPECT_EQ(stats.records, 10);
}

TEST(HistoryExportTest, EmptyNamespaceExportsNothing) {
  FakeTier tier(4);
  HistoryExportStats stats;
  EXPECT_THAT(ExportCodes(tier, 5, absl::nullopt, 100, &stats), ElementsAre());
  EXPECT_EQ(stats.passes, 1);
}

TEST(HistoryExportTest, ScanErrorsAreReturned) {
  FakeTier tier(4);
  FillShuffled(tier, 50);
  tier.FailPage(3);
  HistoryExportStats stats;
  absl::Status status;
  ExportCodes(tier, 10, absl::nullopt, int64_t{1} << 30, &stats, &status);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("reading the history failed")));
}

TEST(HistoryExportTest, VisitorCanStopTheExport) {
  FakeTier tier(4);
  FillShuffled(tier, 50);
  int seen = 0;
  absl::Status status = ExportHistoryRecords(
      tier.Reader(10), absl::nullopt, HistoryExportOptions(),
      [&seen](const v1::HistoryRecord&) { return ++seen < 5; });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kCancelled, HasSubstr("")));
  EXPECT_EQ(seen, 5);
}

TEST(HistoryExportTest, StopCheckEndsALongScan) {
  FakeTier tier(4);
  FillShuffled(tier, 50);
  int visited = 0;
  absl::Status status = ExportHistoryRecords(
      tier.Reader(10), absl::nullopt, HistoryExportOptions(),
      [&visited](const v1::HistoryRecord&) {
        ++visited;
        return true;
      },
      nullptr, [&tier] { return tier.pages_read() >= 2; });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kCancelled, HasSubstr("")));
  EXPECT_EQ(tier.pages_read(), 2);
  EXPECT_EQ(visited, 0);
}

}  // namespace
}  // namespace parley::history
