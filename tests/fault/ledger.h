#ifndef PARLEY_TESTS_FAULT_LEDGER_H_
#define PARLEY_TESTS_FAULT_LEDGER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "cache_node/cache_client.h"

namespace parley::fault {

// Acknowledged cache writes: per key, the highest acknowledged version and
// its value.
class Ledger {
 public:
  void Record(const std::string& key, uint64_t version,
              const std::string& value) {
    absl::MutexLock lock(&mu_);
    auto& entry = acked_[key];
    if (version > entry.first) entry = {version, value};
  }
  std::map<std::string, std::pair<uint64_t, std::string>> Snapshot() {
    absl::MutexLock lock(&mu_);
    return acked_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::pair<uint64_t, std::string>> acked_;
};

// Puts from several threads (each thread its own keys) through the cache
// client until stopped, recording every acknowledged write.
class Writers {
 public:
  Writers(cache::CacheClient* client, const std::string& ns, Ledger* ledger,
          int threads);
  ~Writers() { Stop(); }
  void Stop();
  int attempts() const { return attempts_; }
  int failures() const { return failures_; }

 private:
  void Run(int t);

  cache::CacheClient* const client_;
  const std::string ns_;
  Ledger* const ledger_;
  std::atomic<bool> stop_{false};
  std::atomic<int> attempts_{0}, failures_{0};
  std::vector<std::thread> threads_;
};

// Reads every key of `ledger` back through `client`: found, at the
// acknowledged version or newer, with the acknowledged value when at that
// version. The lost keys, described.
std::vector<std::string> LostWrites(cache::CacheClient& client,
                                    const std::string& ns, Ledger& ledger);

}  // namespace parley::fault

#endif  // PARLEY_TESTS_FAULT_LEDGER_H_
