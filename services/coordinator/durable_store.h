#ifndef PARLEY_SERVICES_COORDINATOR_DURABLE_STORE_H_
#define PARLEY_SERVICES_COORDINATOR_DURABLE_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rocksdb {
class DB;
}

namespace parley::coordinator {

// One change in an atomic write: a put, or a delete when `value` is empty.
struct StoreMutation {
  std::string key;
  std::optional<std::string> value;
};

// The coordinator's durable state: a RocksDB database under a data
// directory. Keys are namespaced by prefix by the callers.
class DurableStore {
 public:
  // Opens (creating if needed) the database in `data_dir`.
  static absl::StatusOr<std::unique_ptr<DurableStore>> Open(
      const std::string& data_dir);

  ~DurableStore();

  // Applies `mutations` atomically. With `sync`, returns after the write
  // reached stable storage.
  absl::Status Write(const std::vector<StoreMutation>& mutations, bool sync);

  // The value under `key`, or nullopt if absent.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const;

  // Calls `visit(key, value)` for every key starting with `prefix`, in key
  // order.
  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<void(absl::string_view, absl::string_view)>& visit)
      const;

  // Reads a counter stored as decimal text (0 when absent).
  absl::StatusOr<uint64_t> GetCounter(absl::string_view key) const;

  // Flushes the write-ahead log to disk; called on shutdown.
  absl::Status Flush();

 private:
  explicit DurableStore(std::unique_ptr<rocksdb::DB> db);

  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_DURABLE_STORE_H_
