#include "services/runtime/history/history_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cache_node/key_codec.h"
#include "google/protobuf/util/json_util.h"
#include "services/runtime/history/history_key.h"
#include "spdlog/spdlog.h"

namespace parley::history {
namespace {

// Scan page size: the most the tier returns at once.
constexpr uint32_t kScanPage = 1000;

std::string RecordJson(const v1::HistoryRecord& record) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(record, &json).ok()) {
    return record.ShortDebugString();
  }
  return json;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HistoryStore>> HistoryStore::Create(
    cache::CacheClient* client, absl::string_view group,
    HistoryStoreOptions options) {
  if (group.empty()) {
    return absl::InvalidArgumentError(
        "the server group name is empty; history is kept per group");
  }
  std::string ns = Namespace(group);
  if (absl::Status s = cache::ValidateNamespace("history namespace", ns);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server group '", group,
        "' does not make a valid history namespace: ", s.message()));
  }
  return std::unique_ptr<HistoryStore>(
      new HistoryStore(client, std::move(ns), std::move(options)));
}

HistoryStore::HistoryStore(cache::CacheClient* client, std::string ns,
                           HistoryStoreOptions options)
    : client_(client), ns_(std::move(ns)), options_(std::move(options)) {}

HistoryStore::~HistoryStore() { Flush().IgnoreError(); }

std::string HistoryStore::Namespace(absl::string_view group) {
  return absl::StrCat("history.", group);
}

void HistoryStore::Append(const v1::HistoryRecord& record, AppendDone done) {
  if (absl::Status s = ValidateHistoryRecord(record); !s.ok()) {
    spdlog::error("history record not stored: {}; record: {}", s.ToString(),
                  RecordJson(record));
    failed_.fetch_add(1, std::memory_order_relaxed);
    if (done) done(s);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    const int max_in_flight = std::max(1, options_.max_in_flight);
    auto has_room = [this, max_in_flight]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return in_flight_ < max_in_flight;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&has_room),
                              options_.max_append_wait)) {
      spdlog::warn(
          "{} history appends in flight for {}; the cache tier is slow, "
          "appending anyway",
          in_flight_, ns_);
    }
    ++in_flight_;
  }
  std::string key = HistoryKey(record);
  v1::PipelineRequest request;
  v1::PutRequest* put = request.mutable_put();
  put->set_namespace_(ns_);
  put->set_key(key);
  put->set_value(record.SerializeAsString());
  put->set_ttl_ms(0);
  // The record is kept only to log it should the write fail.
  client_->Submit(std::move(request),
                  [this, key = std::move(key), record, done = std::move(done)](
                      absl::StatusOr<v1::PipelineResponse> response) {
                    OnStored(key, record, response.status(), done);
                  });
}

void HistoryStore::OnStored(const std::string& key,
                            const v1::HistoryRecord& record,
                            const absl::Status& status,
                            const AppendDone& done) {
  if (!status.ok()) {
    spdlog::error("history record {} not stored in {}: {}; record: {}", key,
                  ns_, status.ToString(), RecordJson(record));
  }
  (status.ok() ? stored_ : failed_).fetch_add(1, std::memory_order_relaxed);
  if (done) done(status);
  absl::MutexLock lock(&mu_);
  --in_flight_;
  if (!status.ok()) {
    ++failed_since_flush_;
    last_failure_ = status;
  }
}

absl::Status HistoryStore::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto idle = [this]()
                  ABSL_SHARED_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&idle), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat(in_flight_, " history appends still in flight after ",
                     absl::FormatDuration(timeout)));
  }
  if (failed_since_flush_ == 0) return absl::OkStatus();
  absl::Status failed(
      last_failure_.code(),
      absl::StrCat(failed_since_flush_,
                   " history appends failed (see the log for the records); "
                   "the last: ",
                   last_failure_.message()));
  failed_since_flush_ = 0;
  last_failure_ = absl::OkStatus();
  return failed;
}

absl::Status HistoryStore::Export(absl::optional<absl::Time> since,
                                  const HistoryRecordVisitor& visit,
                                  HistoryExportStats* stats,
                                  const HistoryStopCheck& stopped) const {
  HistoryPageReader read_page = [this](const std::string& token) {
    return client_->Scan(ns_, /*prefix=*/"", token, kScanPage);
  };
  return ExportHistoryRecords(read_page, since, options_.export_options, visit,
                              stats, stopped);
}

}  // namespace parley::history
