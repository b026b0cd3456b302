#ifndef PARLEY_TESTS_FAULT_LEDGER_H_
#define PARLEY_TESTS_FAULT_LEDGER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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
  // Plain puts, or (with `compare_and_set`) compare-and-set writes as the
  // runtime servers make them: each expects the version last acknowledged
  // or read (0: absent), and a key is read again after a failed write (a
  // failed read counts as a failed write).
  // Threads of one Writers use keys "<prefix>-<thread>-<n>".
  Writers(cache::CacheClient* client, const std::string& ns, Ledger* ledger,
          int threads, bool compare_and_set = false,
          std::string prefix = "writer");
  ~Writers() { Stop(); }
  void Stop();
  int attempts() const { return attempts_; }
  int failures() const { return failures_; }

  // One write: when it was sent, when it was answered, and how.
  struct Attempt {
    absl::Time start;
    absl::Time end;
    absl::StatusCode code;
    std::string message;  // of a failed write
  };
  // Every write answered so far, in the order they were answered.
  std::vector<Attempt> Attempts();

 private:
  void Run(int t);
  void RunCompareAndSet(int t);
  void Finished(absl::Time start, const absl::Status& status);

  cache::CacheClient* const client_;
  const std::string ns_;
  Ledger* const ledger_;
  const std::string prefix_;
  std::atomic<bool> stop_{false};
  std::atomic<int> attempts_{0}, failures_{0};
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  std::vector<Attempt> log_ ABSL_GUARDED_BY(mu_);
};

// A cache client of the tier whose coordinator is at `coordinator`, with
// a generous operation timeout (failovers take a few seconds).
absl::StatusOr<std::unique_ptr<cache::CacheClient>> ConnectFaultClient(
    const std::string& coordinator,
    absl::Duration operation_timeout = absl::Seconds(60));

// Reads every key of `ledger` back through `client`: found, at the
// acknowledged version or newer, with the acknowledged value when at that
// version. The lost keys, described.
std::vector<std::string> LostWrites(cache::CacheClient& client,
                                    const std::string& ns, Ledger& ledger);

}  // namespace parley::fault

#endif  // PARLEY_TESTS_FAULT_LEDGER_H_
