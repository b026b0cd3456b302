#include "tests/fault/ledger.h"

#include <map>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace parley::fault {

Writers::Writers(cache::CacheClient* client, const std::string& ns,
                 Ledger* ledger, int threads, bool compare_and_set,
                 std::string prefix)
    : client_(client), ns_(ns), ledger_(ledger), prefix_(std::move(prefix)) {
  for (int t = 0; t < threads; ++t) {
    if (compare_and_set) {
      threads_.emplace_back([this, t] { RunCompareAndSet(t); });
    } else {
      threads_.emplace_back([this, t] { Run(t); });
    }
  }
}

std::vector<Writers::Attempt> Writers::Attempts() {
  absl::MutexLock lock(&mu_);
  return log_;
}

void Writers::Finished(absl::Time start, const absl::Status& status) {
  if (!status.ok()) ++failures_;
  const absl::Time end = absl::Now();
  absl::MutexLock lock(&mu_);
  log_.push_back({start, end, status.code(), std::string(status.message())});
}

void Writers::Stop() {
  stop_ = true;
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void Writers::Run(int t) {
  std::mt19937 random(1000 + t);
  for (int i = 0; !stop_; ++i) {
    const std::string key =
        absl::StrCat(prefix_, "-", t, "-",
                     std::uniform_int_distribution<int>(0, 199)(random));
    const std::string value = absl::StrCat("t", t, "-write-", i);
    ++attempts_;
    const absl::Time start = absl::Now();
    absl::StatusOr<uint64_t> version = client_->Put(ns_, key, value);
    if (version.ok()) ledger_->Record(key, *version, value);
    Finished(start, version.status());
  }
}

void Writers::RunCompareAndSet(int t) {
  std::mt19937 random(2000 + t);
  // Per key written before: the version to expect, or nullopt after a
  // failed write (its outcome is unknown), to read first. Other keys are
  // absent (expect 0).
  std::map<std::string, std::optional<uint64_t>> expected;
  for (int i = 0; !stop_; ++i) {
    const std::string key =
        absl::StrCat(prefix_, "-", t, "-",
                     std::uniform_int_distribution<int>(0, 99)(random));
    auto it = expected.try_emplace(key, uint64_t{0}).first;
    ++attempts_;
    const absl::Time start = absl::Now();
    if (!it->second.has_value()) {
      // A failed read fails the write it is for.
      absl::StatusOr<v1::GetResponse> read = client_->Get(ns_, key);
      if (!read.ok()) {
        Finished(start, read.status());
        continue;
      }
      it->second = read->found() ? read->entry().version() : 0;
    }
    const std::string value = absl::StrCat("t", t, "-cas-", i);
    absl::StatusOr<uint64_t> version =
        client_->Put(ns_, key, value, /*ttl_ms=*/0, *it->second);
    if (version.ok()) {
      ledger_->Record(key, *version, value);
      it->second = *version;
    } else {
      it->second.reset();
    }
    Finished(start, version.status());
  }
}

std::vector<std::string> LostWrites(cache::CacheClient& client,
                                    const std::string& ns, Ledger& ledger) {
  std::vector<std::string> lost;
  for (const auto& [key, acked] : ledger.Snapshot()) {
    absl::StatusOr<v1::GetResponse> read = client.Get(ns, key);
    if (!read.ok()) {
      lost.push_back(
          absl::StrCat(key, ": read failed: ", read.status().ToString()));
    } else if (!read->found() || read->entry().version() < acked.first ||
               (read->entry().version() == acked.first &&
                read->entry().value() != acked.second)) {
      lost.push_back(absl::StrCat(
          key, ": acknowledged version ", acked.first, " value '", acked.second,
          "', read ",
          read->found() ? absl::StrCat("version ", read->entry().version(),
                                       " value '", read->entry().value(), "'")
                        : "nothing"));
    }
  }
  return lost;
}

absl::StatusOr<std::unique_ptr<cache::CacheClient>> ConnectFaultClient(
    const std::string& coordinator, absl::Duration operation_timeout) {
  cache::CacheClientOptions options;
  options.coordinator_address = coordinator;
  options.operation_timeout = operation_timeout;
  return cache::CacheClient::Connect(options);
}

}  // namespace parley::fault
