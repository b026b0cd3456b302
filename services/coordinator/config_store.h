#ifndef PARLEY_SERVICES_COORDINATOR_CONFIG_STORE_H_
#define PARLEY_SERVICES_COORDINATOR_CONFIG_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/coordinator/durable_store.h"

namespace parley::coordinator {

// One write of a configuration transaction: a put, or a delete when `value`
// is empty. With `expected_version`, the write applies only if the path is
// at that version (0: the path must not exist).
struct ConfigWrite {
  std::string path;
  std::optional<std::string> value;
  std::optional<uint64_t> expected_version;
};

// True when `path` equals `prefix` or lies under it ("a/b" covers "a/b" and
// "a/b/c", not "a/bc"). The empty prefix covers everything.
bool PathIsUnder(absl::string_view path, absl::string_view prefix);

// Hierarchical, versioned configuration, durable in a DurableStore. Every
// committed transaction bumps one store-wide revision; an entry's version
// is the revision of its last write. Thread-safe.
class ConfigStore {
 public:
  // Read access to the current entries inside a transaction.
  class View {
   public:
    // The entry at `path`, or null.
    const v1::ConfigEntry* Find(absl::string_view path) const;
    // Calls `visit` for each entry under `prefix`, in path order.
    void ForEachUnder(
        absl::string_view prefix,
        const std::function<void(const v1::ConfigEntry&)>& visit) const;
    uint64_t revision() const { return revision_; }

   private:
    friend class ConfigStore;
    View(const std::map<std::string, v1::ConfigEntry>& entries,
         uint64_t revision)
        : entries_(entries), revision_(revision) {}
    const std::map<std::string, v1::ConfigEntry>& entries_;
    uint64_t revision_;
  };

  // Decides, under the store's lock, which writes to commit.
  using Transaction =
      std::function<absl::StatusOr<std::vector<ConfigWrite>>(const View&)>;

  // Receives each committed change under a watched prefix.
  using WatchCallback = std::function<void(const v1::ConfigEvent&)>;

  // Loads the entries kept in `store` (not owned; must outlive this).
  static absl::StatusOr<std::unique_ptr<ConfigStore>> Load(DurableStore* store);

  // Runs `transaction` and commits its writes atomically. Fails with
  // ABORTED (naming the current version) when an expected version does
  // not match, NOT_FOUND when deleting a missing path. Returns the new
  // revision (the current one when there was nothing to write).
  absl::StatusOr<uint64_t> Transact(const Transaction& transaction);

  // The entry at `path`; NOT_FOUND when absent.
  absl::StatusOr<v1::ConfigEntry> Get(absl::string_view path) const;

  // Every entry under `prefix` and the current revision.
  v1::ListConfigResponse List(absl::string_view prefix) const;

  // Puts one entry, optionally compare-and-set.
  absl::StatusOr<v1::ConfigEntry> Set(absl::string_view path,
                                      absl::string_view value,
                                      std::optional<uint64_t> expected_version);

  // Deletes one entry, optionally compare-and-set; returns the revision.
  absl::StatusOr<uint64_t> Delete(absl::string_view path,
                                  std::optional<uint64_t> expected_version);

  // Registers `callback` for changes under `prefix` and fills `snapshot`
  // with the entries there now, atomically with the registration. The
  // callback runs under the store's lock: it must not call back into the
  // store. Returns an id for Unwatch.
  uint64_t Watch(absl::string_view prefix, WatchCallback callback,
                 v1::ConfigEvent* snapshot);

  // Stops calling the watcher registered as `id`.
  void Unwatch(uint64_t id);

 private:
  struct Watcher {
    std::string prefix;
    WatchCallback callback;
  };

  explicit ConfigStore(DurableStore* store) : store_(store) {}

  DurableStore* const store_;
  mutable absl::Mutex mu_;
  std::map<std::string, v1::ConfigEntry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_watcher_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace parley::coordinator

#endif  // PARLEY_SERVICES_COORDINATOR_CONFIG_STORE_H_
