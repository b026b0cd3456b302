#ifndef PARLEY_CACHE_NODE_PARTITION_STORE_H_
#define PARLEY_CACHE_NODE_PARTITION_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cache_node/free_space_monitor.h"
#include "cache_node/key_codec.h"
#include "proto/parley/v1/cache_node.pb.h"

namespace parley::cache {

// How a node's store is opened.
struct PartitionStoreOptions {
  std::string data_dir;
  // RocksDB block cache size; the store works with far more data than this.
  size_t block_cache_bytes = 64 << 20;
  // Current Unix time in milliseconds (tests substitute a fake clock).
  std::function<int64_t()> now_ms;
  // How long a delete's tombstone is kept (so replicas that were away can
  // still learn of it).
  int64_t tombstone_retention_ms = 24LL * 3600 * 1000;
  // When set, Write and ApplyIfNewer refuse writes (RESOURCE_EXHAUSTED)
  // that would leave less free space in the data_dir than it keeps free.
  // Bookkeeping (SetMeta, DropPartition, Flush) is not refused: it is
  // small, and what the kept space is for.
  std::shared_ptr<FreeSpaceMonitor> free_space;
};

// Replication bookkeeping of one partition, stored with its writes (see
// ApplyIfNewer for when a backup's contiguous version is stored).
struct PartitionMeta {
  // Every write of the partition up to this version is held here.
  uint64_t contiguous_version = 0;
  // Highest primary term seen; writes of older terms are refused.
  uint64_t term_fence = 0;
};

// A stored entry, tombstones included.
struct StoredEntry {
  EntryHeader header;
  std::string value;
};

// A node's entries of every partition in one RocksDB database (WAL on),
// with expired entries and old tombstones dropped by a compaction filter.
// RocksDB's own log goes to the process log (warnings and errors), not to
// a file in the data_dir: on a full disk that file fails first and Debian's
// RocksDB then aborts the process. A RocksDB write that fails all the same
// (the disk filled up past the free-space check, or without one) is
// returned as an error and stops RocksDB's writes, without losing stored
// data; RocksDB resumes them by itself once its write buffer's size (64
// MiB) is free, or the node restarts. Thread-safe: writes to one key are
// serialised inside.
class PartitionStore {
 public:
  static absl::StatusOr<std::unique_ptr<PartitionStore>> Open(
      PartitionStoreOptions options);
  ~PartitionStore();

  // The current Unix time in milliseconds from the options' clock.
  int64_t NowMs() const;

  // The entry as stored, tombstones and expired entries included; nullopt
  // if there is none.
  absl::StatusOr<std::optional<StoredEntry>> Read(uint32_t partition,
                                                  absl::string_view ns,
                                                  absl::string_view key) const;

  // Writes `write` unconditionally (the primary's path: it already chose
  // the version) and sets the partition's contiguous version to
  // `contiguous_version`, stored as ApplyIfNewer stores it (with the write
  // at most once a second, and with every raise of the version bound). A
  // delete is stored as a tombstone expiring after the tombstone retention.
  absl::Status Write(const v1::ReplicatedWrite& write,
                     uint64_t contiguous_version);

  // Write for many writes of this node as primary (of any partitions,
  // each with a version above every one its partition holds), in one atomic
  // batch and in the given order; each partition's contiguous version
  // becomes the highest version it has in the batch.
  absl::Status WriteMany(const std::vector<const v1::ReplicatedWrite*>& writes);

  // RESOURCE_EXHAUSTED, as Write would answer, if `write` does not fit in
  // the free space now (nothing is reserved).
  absl::Status CheckSpaceFor(const v1::ReplicatedWrite& write) const;

  // Applies writes of other nodes (a backup's path, and catch-up): each
  // only if its version is above the stored one (highest version wins), in
  // one atomic batch. A write above every version the partition holds
  // (known from a bound stored with the partition's metadata) is applied
  // without reading its key first. When `contiguous` is given, raises that
  // partition's contiguous version to at least the given value; the raised
  // value is stored with this batch when the partition's metadata was last
  // stored at least a second ago, else with a later batch or by Flush (a
  // lower stored value only makes a restart's catch-up longer).
  // Returns how many writes were newer and applied.
  absl::StatusOr<int> ApplyIfNewer(
      const std::vector<const v1::ReplicatedWrite*>& writes,
      std::optional<std::pair<uint32_t, uint64_t>> contiguous);

  // The same for writes of several partitions, raising each listed
  // (partition, version) contiguous version, all in one atomic batch.
  absl::StatusOr<int> ApplyIfNewer(
      const std::vector<const v1::ReplicatedWrite*>& writes,
      const std::vector<std::pair<uint32_t, uint64_t>>& contiguous);

  // No version stored in `partition` is above this (stored with the
  // partition's writes, so it also holds after a crash; the largest
  // uint64_t when unknown). A primary restarting in the same term gives
  // new writes versions above it, as it may hold writes its stored
  // contiguous version does not count.
  absl::StatusOr<uint64_t> VersionBound(uint32_t partition);

  // A partition's bookkeeping (zeros when never written): the latest, which
  // a restart after a crash may find lower (see ApplyIfNewer).
  absl::StatusOr<PartitionMeta> GetMeta(uint32_t partition) const;

  // Replaces a partition's bookkeeping.
  absl::Status SetMeta(uint32_t partition, const PartitionMeta& meta);

  // Streams every entry of `partition` with a version above
  // `after_version` (tombstones included, expired entries left out) from
  // one consistent snapshot, in chunks of about `chunk_bytes`;
  // `emit(chunk)` returning false stops early. Returns the partition's
  // contiguous version at the snapshot.
  absl::StatusOr<uint64_t> ReadSince(
      uint32_t partition, uint64_t after_version, size_t chunk_bytes,
      const std::function<bool(std::vector<v1::ReplicatedWrite>&)>& emit) const;

  // Up to `limit` live entries of `ns` in `partition` whose key starts
  // with `prefix` and sorts after `start_after` (empty: from the start),
  // in key order.
  absl::StatusOr<std::vector<v1::Entry>> Scan(uint32_t partition,
                                              absl::string_view ns,
                                              absl::string_view prefix,
                                              absl::string_view start_after,
                                              size_t limit) const;

  // Removes every entry and the bookkeeping of `partition` (no longer a
  // replica of it).
  absl::Status DropPartition(uint32_t partition);

  // Compacts everything now (tests; the filter drops expired entries).
  absl::Status CompactAll();

  // RocksDB's estimates of live keys and of bytes on disk and in memory.
  uint64_t EstimatedKeys() const;
  uint64_t EstimatedBytes() const;

  // A RocksDB integer property of the database (e.g.
  // "rocksdb.block-cache-usage"); nullopt if RocksDB does not know it.
  std::optional<uint64_t> IntProperty(const std::string& name) const;

  // Stores every partition's latest bookkeeping and flushes the write-ahead
  // log to disk; called on shutdown.
  absl::Status Flush();

  // The free-space check of the options (null when there is none).
  const FreeSpaceMonitor* free_space() const;

 private:
  struct Impl;
  explicit PartitionStore(std::unique_ptr<Impl> impl);

  // Write and WriteMany: stores a primary's writes in one batch; each
  // partition's contiguous version becomes `contiguous_version` when given,
  // else the partition's highest version in the batch.
  absl::Status StorePrimaryWrites(
      const std::vector<const v1::ReplicatedWrite*>& writes,
      std::optional<uint64_t> contiguous_version);
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_PARTITION_STORE_H_
