// Profiles and history over real processes: a coordinator and three cache
// nodes on 127.0.0.1, the Profiles and History services on an in-process
// gRPC server, driven through their stubs.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_node/cache_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/history.grpc.pb.h"
#include "proto/parley/v1/profiles.grpc.pb.h"
#include "services/runtime/channel/channel.h"
#include "services/runtime/history/history_key.h"
#include "services/runtime/history/history_service.h"
#include "services/runtime/history/history_store.h"
#include "services/runtime/profiles/csv_reader.h"
#include "services/runtime/profiles/profile_store.h"
#include "services/runtime/profiles/profiles_service.h"
#include "tests/support/child_process.h"
#include "tests/support/local_cluster.h"

namespace parley {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;
namespace v1 = ::parley::v1;

constexpr char kGroup[] = "it-group";
// Every call of the test gets this long.
constexpr absl::Duration kCallDeadline = absl::Seconds(60);

std::shared_ptr<const channel::CompiledChannel> DemoChannel() {
  const std::string path = absl::StrCat(
      std::getenv("TEST_SRCDIR"), "/", std::getenv("TEST_WORKSPACE"),
      "/services/runtime/channel/testdata/demo_channel.json");
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << path;
  std::stringstream text;
  text << file.rdbuf();
  v1::InteractiveChannel proto;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(text.str(), &proto);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  auto compiled = channel::CompileChannel(proto);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok() ? *compiled : nullptr;
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
}

// What a LoadProfiles call returned.
struct LoadResult {
  std::vector<v1::LoadProfilesProgress> progress;
  grpc::Status status;
  const v1::LoadProfilesProgress& last() const { return progress.back(); }
};

// A CSV file for the demo channel's Customer level, with the lines and
// columns of the bad rows it holds.
struct CsvFile {
  std::string text;
  int good_rows = 0;
  std::vector<std::pair<int64_t, std::string>> bad;  // (line, column)
};

// `good` profiles (CustomerID 1..good, one of them spanning two lines) and
// six bad rows spread among them.
CsvFile CustomerCsv(int good) {
  CsvFile file;
  int line = 1;
  file.text = "CustomerID,Age,Tier,LastPurchase\n";
  auto bad = [&](const std::string& row, const std::string& column) {
    ++line;
    file.text += row + "\n";
    file.bad.emplace_back(line, column);
  };
  for (int id = 1; id <= good; ++id) {
    if (id == 10) bad("notanumber,30,Gold,2024-01-01", "CustomerID");
    if (id == 500) bad("77777,30,Gold", "");
    if (id == 900) bad("77778,abc,Gold,2024-01-01", "Age");
    if (id == 1200) bad("77779,30,Gold,2024-13-45", "LastPurchase");
    if (id == 1900) bad(",30,Gold,2024-01-01", "CustomerID");
    if (id == 1950) bad("77780,30,Caf\xe9,2024-01-01", "Tier");  // Latin-1.
    if (id == 1000) {
      // A quoted field with a line break: one row on two lines.
      file.text += "1000,40,\"Multi\nline\",2024-02-01T10:00:00Z\n";
      line += 2;
    } else {
      ++line;
      absl::StrAppend(&file.text, id, ",", 20 + id % 50, ",",
                      id % 2 == 0 ? "Gold" : "Silver", ",2024-01-",
                      1 + id % 28 < 10 ? "0" : "", 1 + id % 28, "\n");
    }
    ++file.good_rows;
  }
  return file;
}

class ProfilesHistoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = testing::FreshTempDir("profiles_history");
    auto cluster = testing::LocalCluster::Start(dir);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
    cache::CacheClientOptions options;
    options.coordinator_address = cluster_->coordinator_address();
    auto client = cache::CacheClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = client->release();

    demo_ = new std::shared_ptr<const channel::CompiledChannel>(DemoChannel());
    ASSERT_NE(*demo_, nullptr);
    profile_store_ = new profiles::ProfileStore(client_);
    profiles_service_ = new profiles::ProfilesService(
        profile_store_,
        [](absl::string_view name)
            -> std::shared_ptr<const channel::CompiledChannel> {
          return absl::EqualsIgnoreCase(name, "demo") ? *demo_ : nullptr;
        });
    auto history = history::HistoryStore::Create(client_, kGroup);
    ASSERT_TRUE(history.ok()) << history.status();
    history_store_ = history->release();
    history_service_ = new history::HistoryService(history_store_);

    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(profiles_service_);
    builder.RegisterService(history_service_);
    server_ = builder.BuildAndStart().release();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    profiles_stub_ = v1::Profiles::NewStub(channel).release();
    history_stub_ = v1::History::NewStub(channel).release();
  }

  static void TearDownTestSuite() {
    delete profiles_stub_;
    delete history_stub_;
    if (server_ != nullptr) {
      server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    }
    delete server_;
    delete history_service_;
    delete history_store_;
    delete profiles_service_;
    delete profile_store_;
    delete demo_;
    delete client_;
    delete cluster_;
  }

  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "the fixture did not start";
  }

  // Sends `csv` in chunks of `chunk_size` bytes (the first message naming
  // channel and level) while reading the progress.
  static LoadResult Load(const std::string& channel, const std::string& level,
                         const std::string& csv, size_t chunk_size) {
    grpc::ClientContext context;
    SetDeadline(&context);
    auto stream = profiles_stub_->LoadProfiles(&context);
    std::thread writer([&] {
      size_t pos = 0;
      bool first = true;
      do {
        v1::LoadProfilesRequest request;
        if (first) {
          request.set_interactive_channel(channel);
          request.set_audience_level(level);
        }
        request.set_csv_chunk(csv.substr(pos, chunk_size));
        pos += chunk_size;
        first = false;
        if (!stream->Write(request)) break;
      } while (pos < csv.size());
      stream->WritesDone();
    });
    LoadResult result;
    v1::LoadProfilesProgress progress;
    while (stream->Read(&progress)) result.progress.push_back(progress);
    writer.join();
    result.status = stream->Finish();
    return result;
  }

  static std::vector<v1::ExportHistoryChunk> Export(
      v1::ExportFormat format, const google::protobuf::Timestamp* since,
      grpc::Status* status) {
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::ExportHistoryRequest request;
    request.set_format(format);
    if (since != nullptr) *request.mutable_since() = *since;
    auto reader = history_stub_->ExportHistory(&context, request);
    std::vector<v1::ExportHistoryChunk> chunks;
    v1::ExportHistoryChunk chunk;
    while (reader->Read(&chunk)) chunks.push_back(chunk);
    *status = reader->Finish();
    return chunks;
  }

  static v1::LookupProfileResponse Lookup(double customer_id,
                                          grpc::Status* status) {
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::LookupProfileRequest request;
    request.set_interactive_channel("demo");
    request.set_audience_level("Customer");
    v1::NameValue* id = request.add_audience_id();
    id->set_name("CustomerID");
    id->set_number_value(customer_id);
    v1::LookupProfileResponse response;
    *status = profiles_stub_->LookupProfile(&context, request, &response);
    return response;
  }

  // Keys in a namespace, paging through CacheClient::Scan.
  static absl::StatusOr<int64_t> CountKeys(const std::string& ns) {
    int64_t count = 0;
    std::string token;
    do {
      absl::StatusOr<v1::ScanResponse> page =
          client_->Scan(ns, "", token, 1000);
      if (!page.ok()) return page.status();
      count += page->entries_size();
      token = page->next_page_token();
    } while (!token.empty());
    return count;
  }

  static testing::LocalCluster* cluster_;
  static cache::CacheClient* client_;
  static std::shared_ptr<const channel::CompiledChannel>* demo_;
  static profiles::ProfileStore* profile_store_;
  static profiles::ProfilesService* profiles_service_;
  static history::HistoryStore* history_store_;
  static history::HistoryService* history_service_;
  static grpc::Server* server_;
  static v1::Profiles::Stub* profiles_stub_;
  static v1::History::Stub* history_stub_;
};

testing::LocalCluster* ProfilesHistoryTest::cluster_ = nullptr;
cache::CacheClient* ProfilesHistoryTest::client_ = nullptr;
std::shared_ptr<const channel::CompiledChannel>* ProfilesHistoryTest::demo_ =
    nullptr;
profiles::ProfileStore* ProfilesHistoryTest::profile_store_ = nullptr;
profiles::ProfilesService* ProfilesHistoryTest::profiles_service_ = nullptr;
history::HistoryStore* ProfilesHistoryTest::history_store_ = nullptr;
history::HistoryService* ProfilesHistoryTest::history_service_ = nullptr;
grpc::Server* ProfilesHistoryTest::server_ = nullptr;
v1::Profiles::Stub* ProfilesHistoryTest::profiles_stub_ = nullptr;
v1::History::Stub* ProfilesHistoryTest::history_stub_ = nullptr;

// ------------------------------------------------------------ profiles

void ExpectFinalReport(const LoadResult& result, const CsvFile& file) {
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_FALSE(result.progress.empty());
  const v1::LoadProfilesProgress& last = result.last();
  EXPECT_TRUE(last.done());
  EXPECT_EQ(last.bytes_processed(), static_cast<int64_t>(file.text.size()));
  EXPECT_EQ(last.rows_read(),
            file.good_rows + static_cast<int64_t>(file.bad.size()));
  EXPECT_EQ(last.rows_stored(), file.good_rows);
  EXPECT_EQ(last.rows_rejected(), static_cast<int64_t>(file.bad.size()));
  EXPECT_EQ(last.errors_not_listed(), 0);
  ASSERT_EQ(last.errors_size(), static_cast<int>(file.bad.size()));
  for (size_t i = 0; i < file.bad.size(); ++i) {
    EXPECT_EQ(last.errors(i).line(), file.bad[i].first) << i;
    EXPECT_EQ(last.errors(i).column(), file.bad[i].second) << i;
    EXPECT_FALSE(last.errors(i).message().empty());
  }
  // Earlier messages are progress only, and never go backwards.
  int64_t stored = 0;
  for (size_t i = 0; i + 1 < result.progress.size(); ++i) {
    const v1::LoadProfilesProgress& p = result.progress[i];
    EXPECT_FALSE(p.done());
    EXPECT_EQ(p.errors_size(), 0);
    EXPECT_GE(p.rows_stored(), stored);
    EXPECT_LE(p.rows_stored(), p.rows_read());
    stored = p.rows_stored();
  }
}

TEST_F(ProfilesHistoryTest, LoadsProfilesReportsBadRowsAndReloadsIdempotently) {
  const CsvFile file = CustomerCsv(2000);
  ASSERT_GT(file.text.size(), 40000u);
  LoadResult first = Load("demo", "Customer", file.text, 7001);
  ExpectFinalReport(first, file);
  // Progress came before the end.
  EXPECT_GE(first.progress.size(), 2u);

  grpc::Status status;
  v1::LookupProfileResponse found = Lookup(1500, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(found.found());
  ASSERT_EQ(found.attributes_size(), 3);
  EXPECT_EQ(found.attributes(0).name(), "Age");
  EXPECT_EQ(found.attributes(0).number_value(), 20);
  EXPECT_EQ(found.attributes(1).name(), "Tier");
  EXPECT_EQ(found.attributes(1).string_value(), "Gold");
  EXPECT_EQ(found.attributes(2).name(), "LastPurchase");
  EXPECT_EQ(TimeUtil::ToString(found.attributes(2).datetime_value()),
            "2024-01-17T00:00:00Z");

  // The row that spans two lines kept its line break.
  v1::LookupProfileResponse multi = Lookup(1000, &status);
  ASSERT_TRUE(status.ok());
  ASSERT_TRUE(multi.found());
  EXPECT_EQ(multi.attributes(1).string_value(), "Multi\nline");

  v1::LookupProfileResponse missing = Lookup(999999, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(missing.found());
  EXPECT_EQ(missing.attributes_size(), 0);
  // Bad rows stored nothing.
  EXPECT_FALSE(Lookup(77778, &status).found());

  // What the engine calls gets the same profile.
  google::protobuf::RepeatedPtrField<v1::NameValue> id;
  v1::NameValue* value = id.Add();
  value->set_name("CustomerID");
  value->set_number_value(1500);
  auto direct = profile_store_->Lookup("Customer", id);
  ASSERT_TRUE(direct.ok()) << direct.status();
  ASSERT_TRUE(direct->has_value());
  EXPECT_EQ((**direct)[0].number_value(), 20);

  absl::StatusOr<int64_t> keys = CountKeys("profiles.customer");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(*keys, 2000);

  // Loading the same file again (other chunking) changes nothing.
  LoadResult again = Load("demo", "CUSTOMER", file.text, 65536);
  ExpectFinalReport(again, file);
  keys = CountKeys("profiles.customer");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(*keys, 2000);
  v1::LookupProfileResponse after = Lookup(1500, &status);
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(after, found));
}

TEST_F(ProfilesHistoryTest, ListsTheFirstHundredErrorsAndCountsTheRest) {
  // Customer 1 exactly as CustomerCsv has it, then 150 bad rows.
  std::string csv =
      "CustomerID,Age,Tier,LastPurchase\n1,21,Silver,2024-01-02\n";
  for (int i = 0; i < 150; ++i) {
    absl::StrAppend(&csv, "x", i, ",1,Gold,2024-01-01\n");
  }
  LoadResult result = Load("demo", "Customer", csv, 1000);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  const v1::LoadProfilesProgress& last = result.last();
  EXPECT_TRUE(last.done());
  EXPECT_EQ(last.rows_read(), 151);
  EXPECT_EQ(last.rows_stored(), 1);
  EXPECT_EQ(last.rows_rejected(), 150);
  ASSERT_EQ(last.errors_size(), 100);
  EXPECT_EQ(last.errors(0).line(), 3);
  EXPECT_EQ(last.errors(99).line(), 102);
  EXPECT_EQ(last.errors_not_listed(), 50);
}

TEST_F(ProfilesHistoryTest, LoadRejectsBadRequestsWithActionableErrors) {
  LoadResult result = Load("nope", "Customer", "CustomerID\n1\n", 100);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(result.status.error_message(), HasSubstr("'nope'"));

  result = Load("demo", "Household", "CustomerID\n1\n", 100);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(result.status.error_message(), HasSubstr("it has: Customer"));

  result = Load("", "Customer", "CustomerID\n1\n", 100);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(result.status.error_message(), HasSubstr("interactive_channel"));

  result = Load("demo", "Customer", "Age,Colour\n1,red\n", 100);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(result.status.error_message(),
              HasSubstr("missing audience-ID column(s): CustomerID"));
  EXPECT_THAT(result.status.error_message(), HasSubstr("Colour"));

  result = Load("demo", "Customer", "", 100);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(result.status.error_message(), HasSubstr("no header row"));

  // A header of thousands of unknown columns: the error still fits.
  std::string wide = "CustomerID";
  for (int i = 0; i < 50000; ++i) absl::StrAppend(&wide, ",Unknown", i);
  result = Load("demo", "Customer", wide + "\n1\n", 65536);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(result.status.error_message(), HasSubstr("Unknown0"));
  EXPECT_LE(result.status.error_message().size(), 2003u);

  std::string big = "CustomerID\n" + std::string((1 << 20) + 10, '1');
  result = Load("demo", "Customer", big, big.size());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(result.status.error_message(), HasSubstr("at most 1048576"));
}

TEST_F(ProfilesHistoryTest, LookupValidatesItsRequest) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::LookupProfileRequest request;
  request.set_interactive_channel("demo");
  request.set_audience_level("Customer");
  v1::LookupProfileResponse response;
  grpc::Status status =
      profiles_stub_->LookupProfile(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("CustomerID"));

  grpc::ClientContext context2;
  SetDeadline(&context2);
  request.set_interactive_channel("elsewhere");
  status = profiles_stub_->LookupProfile(&context2, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

// ------------------------------------------------------------ history

std::vector<v1::HistoryRecord> MakeRecords(int n) {
  std::vector<v1::HistoryRecord> records;
  std::mt19937 random(11);
  const v1::HistoryKind kinds[] = {v1::CONTACT, v1::ACCEPTANCE, v1::REJECTION};
  for (int i = 0; i < n; ++i) {
    v1::HistoryRecord record;
    record.set_kind(kinds[i % 3]);
    record.set_session_id(absl::StrCat("session-", i % 40));
    record.set_interactive_channel("demo");
    record.set_audience_level("Customer");
    record.set_audience_id(absl::StrCat("CustomerID=", i % 40));
    record.set_offer(i % 2 == 0 ? "GoldCard" : "FreeShipping");
    record.set_treatment_code(absl::StrCat("tc-", i));
    record.set_interaction_point("HomePageHero");
    // Shuffled times, some sharing a millisecond.
    const int64_t millis = 1700000000000 + (random() % 100000) * 7;
    record.mutable_time()->set_seconds(millis / 1000);
    record.mutable_time()->set_nanos(static_cast<int32_t>(millis % 1000) *
                                     1000000);
    v1::NameValue* device = record.add_parameters();
    device->set_name("Device");
    device->set_string_value(i % 5 == 0 ? "web, \"beta\"" : "mobile");
    v1::NameValue* cart = record.add_parameters();
    cart->set_name("CartValue");
    cart->set_number_value(i * 1.5);
    records.push_back(record);
  }
  return records;
}

std::vector<v1::HistoryRecord> OldestFirst(std::vector<v1::HistoryRecord> all) {
  std::sort(all.begin(), all.end(),
            [](const v1::HistoryRecord& a, const v1::HistoryRecord& b) {
              return history::HistoryKey(a) < history::HistoryKey(b);
            });
  return all;
}

std::string Joined(const std::vector<v1::ExportHistoryChunk>& chunks,
                   uint64_t* records) {
  std::string data;
  *records = 0;
  for (const v1::ExportHistoryChunk& chunk : chunks) {
    data += chunk.data();
    *records += chunk.records();
  }
  return data;
}

std::vector<std::string> TreatmentCodes(
    const std::vector<v1::HistoryRecord>& records) {
  std::vector<std::string> codes;
  for (const v1::HistoryRecord& record : records) {
    codes.push_back(record.treatment_code());
  }
  return codes;
}

TEST_F(ProfilesHistoryTest, HistoryExportsEveryRecordOnceOldestFirst) {
  const std::vector<v1::HistoryRecord> records = MakeRecords(600);
  absl::Mutex mu;
  int ok = 0;
  for (const v1::HistoryRecord& record : records) {
    history_store_->Append(record, [&](const absl::Status& status) {
      EXPECT_TRUE(status.ok()) << status;
      absl::MutexLock lock(&mu);
      ++ok;
    });
  }
  // A retried write of the same event, and one that cannot be stored.
  history_store_->Append(records[5]);
  history_store_->Append(records[77]);
  v1::HistoryRecord invalid = records[0];
  invalid.clear_treatment_code();
  absl::Status invalid_status;
  history_store_->Append(
      invalid, [&](const absl::Status& status) { invalid_status = status; });
  EXPECT_EQ(invalid_status.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(history_store_->Flush(absl::Seconds(60)).ok());
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(ok, 600);
  }
  const std::vector<v1::HistoryRecord> expected = OldestFirst(records);

  // CSV: a header, then one row per record, oldest first.
  grpc::Status status;
  std::vector<v1::ExportHistoryChunk> chunks =
      Export(v1::CSV, nullptr, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(chunks.size(), 1u);
  for (const v1::ExportHistoryChunk& chunk : chunks) {
    EXPECT_LE(chunk.data().size(), 64u * 1024 + 1024);
  }
  uint64_t counted = 0;
  const std::string csv = Joined(chunks, &counted);
  EXPECT_EQ(counted, 600u);
  profiles::CsvReader reader;
  std::vector<profiles::CsvRecord> rows;
  reader.Feed(csv, &rows);
  reader.Finish(&rows);
  ASSERT_EQ(rows.size(), 601u);
  EXPECT_EQ(absl::StrJoin(rows[0].fields, ","),
            "kind,time,session_id,interactive_channel,audience_level,"
            "audience_id,interaction_point,offer,treatment_code,parameters");
  std::vector<std::string> csv_codes;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_TRUE(rows[i].status.ok()) << rows[i].status;
    ASSERT_EQ(rows[i].fields.size(), 10u);
    const v1::HistoryRecord& want = expected[i - 1];
    EXPECT_EQ(rows[i].fields[0], v1::HistoryKind_Name(want.kind()));
    EXPECT_EQ(rows[i].fields[1], TimeUtil::ToString(want.time()));
    EXPECT_EQ(rows[i].fields[9],
              absl::StrCat("Device=", want.parameters(0).string_value(),
                           ";CartValue=",
                           absl::StrCat(want.parameters(1).number_value())));
    csv_codes.push_back(rows[i].fields[8]);
  }
  EXPECT_EQ(csv_codes, TreatmentCodes(expected));

  // JSON lines: the records themselves, oldest first.
  chunks = Export(v1::JSON_LINES, nullptr, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string json = Joined(chunks, &counted);
  EXPECT_EQ(counted, 600u);
  std::vector<std::string> lines = absl::StrSplit(json, '\n');
  ASSERT_EQ(lines.size(), 601u);
  EXPECT_EQ(lines.back(), "");
  for (size_t i = 0; i < expected.size(); ++i) {
    v1::HistoryRecord parsed;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(lines[i], &parsed).ok())
        << lines[i];
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(parsed, expected[i]))
        << i << ": " << lines[i];
  }

  // `since`: only records at or after it.
  const google::protobuf::Timestamp since = expected[400].time();
  std::vector<std::string> want_codes;
  for (const v1::HistoryRecord& record : expected) {
    if (TimeUtil::TimestampToMilliseconds(record.time()) >=
        TimeUtil::TimestampToMilliseconds(since)) {
      want_codes.push_back(record.treatment_code());
    }
  }
  ASSERT_GE(want_codes.size(), 200u);
  ASSERT_LT(want_codes.size(), 600u);
  chunks = Export(v1::JSON_LINES, &since, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  lines = absl::StrSplit(Joined(chunks, &counted), '\n', absl::SkipEmpty());
  std::vector<std::string> since_codes;
  for (const std::string& line : lines) {
    v1::HistoryRecord parsed;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(line, &parsed).ok());
    since_codes.push_back(parsed.treatment_code());
  }
  EXPECT_EQ(since_codes, want_codes);
  EXPECT_EQ(counted, want_codes.size());

  // A store with little sorting memory gets the same through several passes
  // over the real tier.
  history::HistoryStoreOptions small;
  small.export_options.max_buffered_bytes = 16 * 1024;
  auto small_store = history::HistoryStore::Create(client_, kGroup, small);
  ASSERT_TRUE(small_store.ok());
  std::vector<std::string> pass_codes;
  history::HistoryExportStats stats;
  absl::Status exported =
      (*small_store)
          ->Export(
              absl::nullopt,
              [&](const v1::HistoryRecord& record) {
                pass_codes.push_back(record.treatment_code());
                return true;
              },
              &stats);
  ASSERT_TRUE(exported.ok()) << exported;
  EXPECT_GT(stats.passes, 2);
  EXPECT_EQ(pass_codes, TreatmentCodes(expected));
}

TEST_F(ProfilesHistoryTest, ExportValidatesItsRequest) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::ExportHistoryRequest request;
  request.set_format(static_cast<v1::ExportFormat>(7));
  auto reader = history_stub_->ExportHistory(&context, request);
  v1::ExportHistoryChunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("CSV or JSON_LINES"));

  grpc::ClientContext context2;
  SetDeadline(&context2);
  request.set_format(v1::CSV);
  request.mutable_since()->set_nanos(-1);
  reader = history_stub_->ExportHistory(&context2, request);
  EXPECT_FALSE(reader->Read(&chunk));
  status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("since"));
}

}  // namespace
}  // namespace parley
