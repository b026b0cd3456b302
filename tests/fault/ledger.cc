#include "tests/fault/ledger.h"

#include <random>

#include "absl/strings/str_cat.h"

namespace parley::fault {

Writers::Writers(cache::CacheClient* client, const std::string& ns,
                 Ledger* ledger, int threads)
    : client_(client), ns_(ns), ledger_(ledger) {
  for (int t = 0; t < threads; ++t) {
    threads_.emplace_back([this, t] { Run(t); });
  }
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
    const std::string key = absl::StrCat(
        "writer-", t, "-", std::uniform_int_distribution<int>(0, 199)(random));
    const std::string value = absl::StrCat("t", t, "-write-", i);
    ++attempts_;
    absl::StatusOr<uint64_t> version = client_->Put(ns_, key, value);
    if (version.ok()) {
      ledger_->Record(key, *version, value);
    } else {
      ++failures_;
    }
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

}  // namespace parley::fault
