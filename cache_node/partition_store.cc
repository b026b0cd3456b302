#include "cache_node/partition_store.h"

#include <array>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rocksdb/cache.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "spdlog/spdlog.h"

namespace parley::cache {
namespace {

// Partitions are encoded in 2 bytes.
constexpr uint32_t kMaxPartition = 0xffff;
// Writes of partitions sharing a stripe are serialised by its mutex.
constexpr size_t kStripes = 64;
// Metadata: contiguous version, term fence, version bound (8 bytes each).
// Stores written before the bound existed hold the first two only.
constexpr size_t kMetaBytes = 24;
constexpr size_t kLegacyMetaBytes = 16;
// Marks a database whose every partition with data has a version bound
// (written when a database is created empty).
constexpr char kFormatKey[] = "f";
constexpr char kFormatBounds[] = "bounds";
// A stored version bound is raised this far past the version that needed
// it, so that it is rewritten once per this many versions only.
constexpr uint64_t kVersionBoundSlack = 4096;
// A raised contiguous version is written at most this often per partition
// (with a later write of the partition, or by Flush).
constexpr int64_t kMetaPersistIntervalMs = 1000;
// A bound no version is above: nothing is known.
constexpr uint64_t kUnknownBound = ~uint64_t{0};
// Rough per-entry overhead of a ReplicatedWrite, for chunk sizes.
constexpr size_t kWriteOverheadBytes = 32;

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

absl::string_view ToView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  std::string message =
      absl::StrCat("cache store: ", what, ": ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsNoSpace()) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

// RocksDB's log, in the process log: warnings and errors (what RocksDB
// says about failed writes, a full disk, background errors and recovery);
// its informational chatter is dropped. RocksDB otherwise writes its log
// to a file in the data_dir, which on a full disk fails before anything
// else, and RocksDB 7.8 (as Debian builds it, with assertions) then aborts
// on the next line it logs ("AssertFalseAndGetStatusForPrevError").
class RocksLogger : public rocksdb::Logger {
 public:
  RocksLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format,
            va_list ap) override {
    if (level < GetInfoLogLevel() ||
        level == rocksdb::InfoLogLevel::HEADER_LEVEL) {
      return;
    }
    char line[1024];
    int n = std::vsnprintf(line, sizeof(line), format, ap);
    n = std::min<int>(std::max(n, 0), sizeof(line) - 1);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' ')) --n;
    line[n] = '\0';
    if (level == rocksdb::InfoLogLevel::WARN_LEVEL) {
      spdlog::warn("rocksdb: {}", line);
    } else {
      spdlog::error("rocksdb: {}", line);
    }
  }
};

// A write's share of the free space, from Reserve until it is done.
class SpaceReservation {
 public:
  explicit SpaceReservation(FreeSpaceMonitor* monitor) : monitor_(monitor) {}
  SpaceReservation(const SpaceReservation&) = delete;
  SpaceReservation& operator=(const SpaceReservation&) = delete;
  ~SpaceReservation() {
    if (bytes_ > 0) monitor_->Release(bytes_);
  }

  // OK without a monitor.
  absl::Status Reserve(uint64_t bytes) {
    if (monitor_ == nullptr || bytes == 0) return absl::OkStatus();
    if (absl::Status s = monitor_->Reserve(bytes); !s.ok()) return s;
    bytes_ = bytes;
    return absl::OkStatus();
  }

 private:
  FreeSpaceMonitor* const monitor_;
  uint64_t bytes_ = 0;
};

// About the bytes a write adds to the data_dir (write-ahead log record).
uint64_t WriteBytes(const v1::ReplicatedWrite& write) {
  return write.namespace_().size() + write.key().size() + write.value().size() +
         64;
}

absl::Status CheckPartition(uint32_t partition) {
  if (partition > kMaxPartition) {
    return absl::InvalidArgumentError(absl::StrCat("partition is ", partition,
                                                   "; at most ", kMaxPartition,
                                                   " is allowed"));
  }
  return absl::OkStatus();
}

absl::Status CheckWrite(const v1::ReplicatedWrite& write) {
  if (absl::Status s = CheckPartition(write.partition()); !s.ok()) return s;
  if (absl::Status s = ValidateNamespace("namespace", write.namespace_());
      !s.ok()) {
    return s;
  }
  return ValidateKey("key", write.key());
}

// The smallest string above every string starting with `prefix` (the
// prefix never consists of 0xff bytes only: it starts with a tag).
std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) {
    prefix.pop_back();
  }
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

std::string EncodeMeta(const PartitionMeta& meta, uint64_t bound) {
  std::string out(kMetaBytes, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((meta.contiguous_version >> (8 * i)) & 0xff);
    out[8 + i] = static_cast<char>((meta.term_fence >> (8 * i)) & 0xff);
    out[16 + i] = static_cast<char>((bound >> (8 * i)) & 0xff);
  }
  return out;
}

uint64_t DecodeFixed64(absl::string_view bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i]))
             << (8 * i);
  }
  return value;
}

// Decodes stored metadata; `bound` gets the version bound (unknown in the
// legacy format).
absl::StatusOr<PartitionMeta> DecodeMeta(uint32_t partition,
                                         absl::string_view stored,
                                         uint64_t* bound) {
  if (stored.size() != kMetaBytes && stored.size() != kLegacyMetaBytes) {
    return absl::DataLossError(absl::StrCat(
        "cache store: metadata of partition ", partition, " is corrupt (",
        stored.size(), " bytes, expected ", kMetaBytes, ")"));
  }
  PartitionMeta meta;
  meta.contiguous_version = DecodeFixed64(stored.substr(0, 8));
  meta.term_fence = DecodeFixed64(stored.substr(8, 8));
  if (bound != nullptr) {
    *bound = stored.size() == kMetaBytes ? DecodeFixed64(stored.substr(16, 8))
                                         : kUnknownBound;
  }
  return meta;
}

// The bound to store once `highest` is stored: `bound` when it covers it,
// else a little above `highest`, within its term (versions are the term in
// the high 32 bits and a count in the low ones).
uint64_t RaisedBound(uint64_t bound, uint64_t highest) {
  if (highest <= bound) return bound;
  const uint64_t term_end = highest | 0xffffffffull;
  return term_end - highest < kVersionBoundSlack ? term_end
                                                 : highest + kVersionBoundSlack;
}

// Drops data entries past their expiry: expired values, and tombstones
// whose retention is over (the store gives every tombstone an expiry).
// Deliberately not IsGone(): that is true for every tombstone, which must
// live on until its retention ends. Metadata keys are never dropped.
class ExpiryFilter : public rocksdb::CompactionFilter {
 public:
  explicit ExpiryFilter(int64_t now_ms) : now_ms_(now_ms) {}

  bool Filter(int /*level*/, const rocksdb::Slice& key,
              const rocksdb::Slice& existing_value, std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    if (key.empty() || key[0] != 'd') return false;
    EntryHeader header;
    if (!DecodeEntry(ToView(existing_value), &header, nullptr)) return false;
    return header.expire_time_ms != 0 && header.expire_time_ms <= now_ms_;
  }

  const char* Name() const override { return "parley.cache.ExpiryFilter"; }

 private:
  const int64_t now_ms_;
};

// One filter per compaction, reading the clock once when it starts.
class ExpiryFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  explicit ExpiryFilterFactory(std::function<int64_t()> now_ms)
      : now_ms_(std::move(now_ms)) {}

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    return std::make_unique<ExpiryFilter>(now_ms_());
  }

  const char* Name() const override {
    return "parley.cache.ExpiryFilterFactory";
  }

 private:
  const std::function<int64_t()> now_ms_;
};

// Releases a snapshot when it goes out of scope.
class ScopedSnapshot {
 public:
  explicit ScopedSnapshot(rocksdb::DB* db)
      : db_(db), snap_(db->GetSnapshot()) {}
  ~ScopedSnapshot() { db_->ReleaseSnapshot(snap_); }
  ScopedSnapshot(const ScopedSnapshot&) = delete;
  ScopedSnapshot& operator=(const ScopedSnapshot&) = delete;
  const rocksdb::Snapshot* get() const { return snap_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};

}  // namespace

struct PartitionStore::Impl {
  // A partition's metadata as known in memory.
  struct CachedMeta {
    // The latest bookkeeping; the stored contiguous version may be lower
    // (`dirty`), never higher.
    PartitionMeta meta;
    bool dirty = false;
    int64_t persisted_ms = 0;
    // Stored: no version stored in the partition is above it.
    uint64_t bound = 0;
    // No version stored in the partition is above it either (<= `bound`;
    // the bound as loaded, then raised by every write). A write above it is
    // newer than any stored entry of its key, so it needs no read first.
    uint64_t highest = 0;
  };

  // Serialises the read-compare-write of keys and the read-modify-write of
  // the metadata of the partitions mapped to it, and caches that metadata.
  // Node map: entries stay put while others are added.
  struct Stripe {
    absl::Mutex mu;
    absl::node_hash_map<uint32_t, CachedMeta> meta ABSL_GUARDED_BY(mu);
  };

  PartitionStoreOptions options;
  std::shared_ptr<rocksdb::Cache> block_cache;
  // Declared before `db` so it outlives it.
  std::shared_ptr<rocksdb::CompactionFilterFactory> filter_factory;
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::WriteOptions write_options;
  std::array<Stripe, kStripes> stripes;
  // False for a database written before version bounds: every bound is
  // unknown, and every replicated write reads its key first.
  bool bounds_known = false;

  Stripe& StripeOf(uint32_t partition) { return stripes[partition % kStripes]; }

  // Holds the stripes of `mask` (bit i: stripe i) locked; they are taken in
  // ascending order, so that concurrent batches cannot deadlock.
  class StripeLocks {
   public:
    StripeLocks(Impl* impl, uint64_t mask) ABSL_NO_THREAD_SAFETY_ANALYSIS
        : impl_(impl),
          mask_(mask) {
      static_assert(kStripes <= 64, "the stripe mask has 64 bits");
      for (size_t i = 0; i < kStripes; ++i) {
        if (mask_ & (uint64_t{1} << i)) impl_->stripes[i].mu.Lock();
      }
    }
    ~StripeLocks() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      for (size_t i = kStripes; i-- > 0;) {
        if (mask_ & (uint64_t{1} << i)) impl_->stripes[i].mu.Unlock();
      }
    }
    StripeLocks(const StripeLocks&) = delete;
    StripeLocks& operator=(const StripeLocks&) = delete;

   private:
    Impl* const impl_;
    const uint64_t mask_;
  };

  // Checks every write of a batch; sets the mask of their stripes and the
  // free space they need.
  static absl::Status CheckBatch(
      const std::vector<const v1::ReplicatedWrite*>& writes,
      uint64_t* stripe_mask, uint64_t* bytes) {
    for (const v1::ReplicatedWrite* write : writes) {
      if (absl::Status s = CheckWrite(*write); !s.ok()) return s;
      *stripe_mask |= uint64_t{1} << (write->partition() % kStripes);
      *bytes += WriteBytes(*write);
    }
    return absl::OkStatus();
  }

  // A partition a batch writes: its cached metadata, and the highest
  // version and the contiguous version the batch leaves it with.
  struct Touched {
    CachedMeta* cached = nullptr;
    uint64_t highest = 0;
    uint64_t contiguous = 0;
  };
  using TouchedPartitions = absl::flat_hash_map<uint32_t, Touched>;

  // `touched[partition]`, with the partition's metadata loaded (its stripe
  // locked) the first time; `highest` and `contiguous` then start from the
  // cached ones with `from_cache`, else from 0.
  absl::StatusOr<Touched*> Touch(TouchedPartitions& touched, uint32_t partition,
                                 bool from_cache)
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto [it, added] = touched.try_emplace(partition);
    if (added) {
      absl::StatusOr<CachedMeta*> cached =
          LoadMetaLocked(StripeOf(partition), partition);
      if (!cached.ok()) {
        touched.erase(it);
        return cached.status();
      }
      it->second.cached = *cached;
      if (from_cache) {
        it->second.highest = (*cached)->highest;
        it->second.contiguous = (*cached)->meta.contiguous_version;
      }
    }
    return &it->second;
  }

  // Adds to `batch` the metadata of `partition`: `meta` with contiguous
  // version `contiguous`, and version bound `bound`.
  static void StageMeta(uint32_t partition, const PartitionMeta& meta,
                        uint64_t contiguous, uint64_t bound,
                        rocksdb::WriteBatch& batch) {
    PartitionMeta staged = meta;
    staged.contiguous_version = contiguous;
    batch.Put(EncodeMetaKey(partition), EncodeMeta(staged, bound));
  }

  // The metadata of `partition`, from the cache or the database.
  absl::StatusOr<CachedMeta*> LoadMetaLocked(Stripe& stripe, uint32_t partition)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(stripe.mu) {
    auto it = stripe.meta.find(partition);
    if (it != stripe.meta.end()) return &it->second;
    uint64_t bound = 0;
    absl::StatusOr<PartitionMeta> meta = ReadMeta(partition, nullptr, &bound);
    if (!meta.ok()) return meta.status();
    CachedMeta& cached = stripe.meta[partition];
    cached.meta = *meta;
    cached.persisted_ms = options.now_ms();
    cached.bound = bounds_known ? bound : kUnknownBound;
    cached.highest = cached.bound;
    return &cached;
  }

  // The stored metadata (zeros, and a bound of 0, when there is none).
  absl::StatusOr<PartitionMeta> ReadMeta(uint32_t partition,
                                         const rocksdb::Snapshot* snapshot,
                                         uint64_t* bound = nullptr) {
    rocksdb::ReadOptions read_options;
    read_options.snapshot = snapshot;
    std::string key = EncodeMetaKey(partition);
    rocksdb::PinnableSlice stored;
    rocksdb::Status s =
        db->Get(read_options, db->DefaultColumnFamily(), ToSlice(key), &stored);
    if (s.IsNotFound()) {
      if (bound != nullptr) *bound = 0;
      return PartitionMeta{};
    }
    if (!s.ok()) return FromRocks(s, "read metadata");
    return DecodeMeta(partition, ToView(stored), bound);
  }

  // The stored version of a data key; 0 when there is none.
  absl::StatusOr<uint64_t> StoredVersion(const std::string& data_key) {
    rocksdb::PinnableSlice stored;
    rocksdb::Status s =
        db->Get(rocksdb::ReadOptions(), db->DefaultColumnFamily(),
                ToSlice(data_key), &stored);
    if (s.IsNotFound()) return uint64_t{0};
    if (!s.ok()) return FromRocks(s, "read");
    EntryHeader header;
    if (!DecodeEntry(ToView(stored), &header, nullptr)) return uint64_t{0};
    return header.version;
  }

  // The header a write is stored with.
  EntryHeader HeaderOf(const v1::ReplicatedWrite& write, bool replicated) {
    EntryHeader header;
    header.version = write.version();
    header.deleted = write.deleted();
    header.expire_time_ms = write.expire_time_ms();
    // A tombstone must expire, or it would be kept forever. A replicated
    // one keeps the expiry its primary gave it, when it has one.
    if (write.deleted() && (!replicated || header.expire_time_ms == 0)) {
      header.expire_time_ms = options.now_ms() + options.tombstone_retention_ms;
    }
    return header;
  }
};

PartitionStore::PartitionStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

PartitionStore::~PartitionStore() {
  if (impl_ == nullptr || impl_->db == nullptr) return;
  (void)Flush();
  (void)impl_->db->Close();
  impl_->db.reset();
}

absl::StatusOr<std::unique_ptr<PartitionStore>> PartitionStore::Open(
    PartitionStoreOptions options) {
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError(
        "cache store: data_dir is empty; give the directory of the node's "
        "database");
  }
  if (options.tombstone_retention_ms < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cache store: tombstone_retention_ms is ",
        options.tombstone_retention_ms, "; it must not be negative"));
  }
  if (!options.now_ms) {
    options.now_ms = [] { return absl::ToUnixMillis(absl::Now()); };
  }
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cache store: cannot create directory '", options.data_dir,
                     "': ", error.message()));
  }

  auto impl = std::make_unique<Impl>();
  impl->block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  impl->filter_factory = std::make_shared<ExpiryFilterFactory>(options.now_ms);

  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = impl->block_cache;
  // Index and filter blocks count against the block cache, so memory stays
  // bounded however much data the node holds.
  table_options.cache_index_and_filter_blocks = true;
  table_options.pin_l0_filter_and_index_blocks_in_cache = true;
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  // Writers wait on a condition variable instead of spinning: on a machine
  // with few cores, spinning writers take the CPU the others need.
  db_options.enable_write_thread_adaptive_yield = false;
  db_options.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options));
  db_options.compaction_filter_factory = impl->filter_factory;
  db_options.info_log = std::make_shared<RocksLogger>();
  // A failed write-ahead-log write (a full disk) stops RocksDB's writes
  // until it recovers, instead of going on with a log that may have lost
  // the failed record (paranoid checks are RocksDB's default; kept on on
  // purpose). RocksDB retries the recovery once space is back.
  db_options.paranoid_checks = true;

  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.data_dir, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cache store: cannot open the database in '", options.data_dir,
        "': ", s.ToString(),
        " (another process, or another store in this one, may hold it)"));
  }
  impl->db.reset(db);
  impl->options = std::move(options);

  // Version bounds are trusted in a database that had them from the start.
  std::string format;
  s = db->Get(rocksdb::ReadOptions(), kFormatKey, &format);
  if (s.ok()) {
    impl->bounds_known = format == kFormatBounds;
  } else if (s.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (absl::Status status = FromRocks(it->status(), "open"); !status.ok()) {
      return status;
    }
    if (!it->Valid()) {
      if (absl::Status status = FromRocks(
              db->Put(impl->write_options, kFormatKey, kFormatBounds), "open");
          !status.ok()) {
        return status;
      }
      impl->bounds_known = true;
    }
  } else {
    return FromRocks(s, "open");
  }
  return std::unique_ptr<PartitionStore>(new PartitionStore(std::move(impl)));
}

int64_t PartitionStore::NowMs() const { return impl_->options.now_ms(); }

absl::StatusOr<std::optional<StoredEntry>> PartitionStore::Read(
    uint32_t partition, absl::string_view ns, absl::string_view key) const {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  if (absl::Status s = ValidateNamespace("namespace", ns); !s.ok()) return s;
  if (absl::Status s = ValidateKey("key", key); !s.ok()) return s;
  std::string data_key = EncodeDataKey(partition, ns, key);
  rocksdb::PinnableSlice stored;
  rocksdb::Status s =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->db->DefaultColumnFamily(),
                     ToSlice(data_key), &stored);
  if (s.IsNotFound()) return std::optional<StoredEntry>();
  if (!s.ok()) return FromRocks(s, "read");
  StoredEntry entry;
  absl::string_view value;
  if (!DecodeEntry(ToView(stored), &entry.header, &value)) {
    return absl::DataLossError(absl::StrCat(
        "cache store: entry of partition ", partition, " is corrupt (",
        stored.size(), " bytes, shorter than its header)"));
  }
  entry.value.assign(value.data(), value.size());
  return std::optional<StoredEntry>(std::move(entry));
}

absl::Status PartitionStore::Write(const v1::ReplicatedWrite& write,
                                   uint64_t contiguous_version) {
  return StorePrimaryWrites({&write}, contiguous_version);
}

absl::Status PartitionStore::CheckSpaceFor(
    const v1::ReplicatedWrite& write) const {
  SpaceReservation space(impl_->options.free_space.get());
  return space.Reserve(WriteBytes(write));
}

absl::Status PartitionStore::WriteMany(
    const std::vector<const v1::ReplicatedWrite*>& writes) {
  return StorePrimaryWrites(writes, std::nullopt);
}

absl::Status PartitionStore::StorePrimaryWrites(
    const std::vector<const v1::ReplicatedWrite*>& writes,
    std::optional<uint64_t> contiguous_version) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  uint64_t stripe_mask = 0;
  uint64_t bytes = 0;
  if (absl::Status s = Impl::CheckBatch(writes, &stripe_mask, &bytes);
      !s.ok()) {
    return s;
  }
  SpaceReservation space(impl_->options.free_space.get());
  if (absl::Status s = space.Reserve(bytes); !s.ok()) return s;
  Impl::StripeLocks locks(impl_.get(), stripe_mask);

  // The batch's highest version per partition (the contiguous version is
  // set below).
  Impl::TouchedPartitions touched;
  rocksdb::WriteBatch batch;
  for (const v1::ReplicatedWrite* write : writes) {
    absl::StatusOr<Impl::Touched*> partition =
        impl_->Touch(touched, write->partition(), /*from_cache=*/false);
    if (!partition.ok()) return partition.status();
    (*partition)->highest = std::max((*partition)->highest, write->version());
    const EntryHeader header = impl_->HeaderOf(*write, /*replicated=*/false);
    batch.Put(
        EncodeDataKey(write->partition(), write->namespace_(), write->key()),
        EncodeEntry(header,
                    write->deleted() ? absl::string_view() : write->value()));
  }
  // The metadata is stored with every raise of the bound, or when it was
  // last stored at least kMetaPersistIntervalMs ago (in a database without
  // bounds, always: a restarted primary continues from it).
  const int64_t now = impl_->options.now_ms();
  std::vector<uint32_t> persisted;
  for (auto& [partition, change] : touched) {
    const Impl::CachedMeta& cached = *change.cached;
    change.contiguous = contiguous_version.value_or(change.highest);
    const uint64_t bound = RaisedBound(cached.bound, change.highest);
    const bool raised_or_dirty =
        change.contiguous != cached.meta.contiguous_version || cached.dirty;
    if (!impl_->bounds_known || bound != cached.bound ||
        (raised_or_dirty &&
         now - cached.persisted_ms >= kMetaPersistIntervalMs)) {
      Impl::StageMeta(partition, cached.meta, change.contiguous, bound, batch);
      persisted.push_back(partition);
    }
  }
  if (absl::Status s =
          FromRocks(impl_->db->Write(impl_->write_options, &batch), "write");
      !s.ok()) {
    return s;
  }
  for (auto& [partition, change] : touched) {
    Impl::CachedMeta& cached = *change.cached;
    if (cached.meta.contiguous_version != change.contiguous) {
      cached.dirty = true;
    }
    cached.meta.contiguous_version = change.contiguous;
    cached.highest = std::max(cached.highest, change.highest);
  }
  for (uint32_t partition : persisted) {
    Impl::CachedMeta& cached = *touched[partition].cached;
    cached.bound = RaisedBound(cached.bound, touched[partition].highest);
    cached.dirty = false;
    cached.persisted_ms = now;
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PartitionStore::ApplyIfNewer(
    const std::vector<const v1::ReplicatedWrite*>& writes,
    std::optional<std::pair<uint32_t, uint64_t>> contiguous) {
  std::vector<std::pair<uint32_t, uint64_t>> raised;
  if (contiguous.has_value()) raised.push_back(*contiguous);
  return ApplyIfNewer(writes, raised);
}

absl::StatusOr<int> PartitionStore::ApplyIfNewer(
    const std::vector<const v1::ReplicatedWrite*>& writes,
    const std::vector<std::pair<uint32_t, uint64_t>>& contiguous)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  // Check everything first: the batch is applied whole or not at all.
  uint64_t stripe_mask = 0;
  uint64_t bytes = 0;
  if (absl::Status s = Impl::CheckBatch(writes, &stripe_mask, &bytes);
      !s.ok()) {
    return s;
  }
  for (const auto& [partition, version] : contiguous) {
    if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
    stripe_mask |= uint64_t{1} << (partition % kStripes);
  }
  SpaceReservation space(impl_->options.free_space.get());
  if (absl::Status s = space.Reserve(bytes); !s.ok()) return s;
  Impl::StripeLocks locks(impl_.get(), stripe_mask);

  // The partitions involved, with what this batch changes of them.
  Impl::TouchedPartitions touched;
  auto touch = [&](uint32_t partition) {
    return impl_->Touch(touched, partition, /*from_cache=*/true);
  };

  rocksdb::WriteBatch batch;
  int applied = 0;
  // Versions written earlier in this batch, for keys that appear twice
  // (only needed with more than one write).
  absl::flat_hash_map<std::string, uint64_t> pending;
  for (const v1::ReplicatedWrite* write : writes) {
    absl::StatusOr<Impl::Touched*> partition = touch(write->partition());
    if (!partition.ok()) return partition.status();
    std::string data_key =
        EncodeDataKey(write->partition(), write->namespace_(), write->key());
    // Above every version stored in the partition (this batch included):
    // newer than the key's entry, whatever it is. Otherwise read it.
    if (write->version() <= (*partition)->highest) {
      uint64_t stored_version = 0;
      auto it = pending.find(data_key);
      if (it != pending.end()) {
        stored_version = it->second;
      } else {
        absl::StatusOr<uint64_t> version = impl_->StoredVersion(data_key);
        if (!version.ok()) return version.status();
        stored_version = *version;
      }
      if (write->version() <= stored_version) continue;
    }
    const EntryHeader header = impl_->HeaderOf(*write, /*replicated=*/true);
    batch.Put(ToSlice(data_key),
              EncodeEntry(header, write->deleted() ? absl::string_view()
                                                   : write->value()));
    ++applied;
    (*partition)->highest = std::max((*partition)->highest, write->version());
    if (writes.size() > 1) pending[std::move(data_key)] = write->version();
  }
  for (const auto& [partition, version] : contiguous) {
    absl::StatusOr<Impl::Touched*> touched_partition = touch(partition);
    if (!touched_partition.ok()) return touched_partition.status();
    (*touched_partition)->contiguous =
        std::max((*touched_partition)->contiguous, version);
  }

  // Metadata is written when the bound must cover a new version (before
  // any entry above it is stored: same batch), and for a raised contiguous
  // version at most every kMetaPersistIntervalMs (a lower stored one only
  // makes a restart's catch-up longer).
  const int64_t now = impl_->options.now_ms();
  std::vector<uint32_t> persisted;
  for (const auto& [partition, change] : touched) {
    const Impl::CachedMeta& cached = *change.cached;
    const uint64_t bound = RaisedBound(cached.bound, change.highest);
    const bool raised = change.contiguous > cached.meta.contiguous_version;
    if (bound != cached.bound ||
        ((raised || cached.dirty) &&
         now - cached.persisted_ms >= kMetaPersistIntervalMs)) {
      Impl::StageMeta(partition, cached.meta, change.contiguous, bound, batch);
      persisted.push_back(partition);
    }
  }

  if (batch.Count() > 0) {
    if (absl::Status s =
            FromRocks(impl_->db->Write(impl_->write_options, &batch), "write");
        !s.ok()) {
      return s;
    }
  }
  for (auto& [partition, change] : touched) {
    Impl::CachedMeta& cached = *change.cached;
    cached.highest = change.highest;
    if (change.contiguous > cached.meta.contiguous_version) {
      cached.meta.contiguous_version = change.contiguous;
      cached.dirty = true;
    }
  }
  for (uint32_t partition : persisted) {
    Impl::CachedMeta& cached = *touched[partition].cached;
    cached.bound = RaisedBound(cached.bound, cached.highest);
    cached.dirty = false;
    cached.persisted_ms = now;
  }
  return applied;
}

absl::StatusOr<uint64_t> PartitionStore::VersionBound(uint32_t partition) {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  Impl::Stripe& stripe = impl_->StripeOf(partition);
  absl::MutexLock lock(&stripe.mu);
  absl::StatusOr<Impl::CachedMeta*> cached =
      impl_->LoadMetaLocked(stripe, partition);
  if (!cached.ok()) return cached.status();
  return (*cached)->bound;
}

absl::StatusOr<PartitionMeta> PartitionStore::GetMeta(
    uint32_t partition) const {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  Impl::Stripe& stripe = impl_->StripeOf(partition);
  absl::MutexLock lock(&stripe.mu);
  absl::StatusOr<Impl::CachedMeta*> cached =
      impl_->LoadMetaLocked(stripe, partition);
  if (!cached.ok()) return cached.status();
  return (*cached)->meta;
}

absl::Status PartitionStore::SetMeta(uint32_t partition,
                                     const PartitionMeta& meta) {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  Impl::Stripe& stripe = impl_->StripeOf(partition);
  absl::MutexLock lock(&stripe.mu);
  absl::StatusOr<Impl::CachedMeta*> cached =
      impl_->LoadMetaLocked(stripe, partition);
  if (!cached.ok()) return cached.status();
  absl::Status s =
      FromRocks(impl_->db->Put(impl_->write_options, EncodeMetaKey(partition),
                               EncodeMeta(meta, (*cached)->bound)),
                "write metadata");
  if (s.ok()) {
    (*cached)->meta = meta;
    (*cached)->dirty = false;
    (*cached)->persisted_ms = impl_->options.now_ms();
  }
  return s;
}

absl::StatusOr<uint64_t> PartitionStore::ReadSince(
    uint32_t partition, uint64_t after_version, size_t chunk_bytes,
    const std::function<bool(std::vector<v1::ReplicatedWrite>&)>& emit) const {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  rocksdb::DB* db = impl_->db.get();
  // Note: the compaction filter ignores snapshots, so an entry that expires
  // during the read may vanish from it; such entries are left out anyway.
  // The snapshot and the latest contiguous version are taken together
  // under the partition's lock (writes update it after storing, under the
  // lock), so the version counts exactly the writes in the snapshot.
  std::unique_ptr<ScopedSnapshot> snapshot;
  absl::StatusOr<PartitionMeta> meta;
  {
    Impl::Stripe& stripe = impl_->StripeOf(partition);
    absl::MutexLock lock(&stripe.mu);
    absl::StatusOr<Impl::CachedMeta*> cached =
        impl_->LoadMetaLocked(stripe, partition);
    if (!cached.ok()) return cached.status();
    snapshot = std::make_unique<ScopedSnapshot>(db);
    meta = (*cached)->meta;
  }

  const std::string lower = DataKeyPrefix(partition);
  const std::string upper = PrefixSuccessor(lower);
  rocksdb::Slice upper_slice = ToSlice(upper);
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot->get();
  read_options.iterate_upper_bound = &upper_slice;
  // A bulk read: keep the hot entries in the block cache.
  read_options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options));

  const int64_t now = NowMs();
  std::vector<v1::ReplicatedWrite> chunk;
  size_t bytes = 0;
  for (it->Seek(ToSlice(lower)); it->Valid(); it->Next()) {
    absl::string_view ns, key, value;
    EntryHeader header;
    if (!DecodeDataKey(ToView(it->key()), nullptr, &ns, &key) ||
        !DecodeEntry(ToView(it->value()), &header, &value)) {
      continue;
    }
    if (header.version <= after_version) continue;
    if (!header.deleted && IsGone(header, now)) continue;
    v1::ReplicatedWrite& write = chunk.emplace_back();
    write.set_partition(partition);
    write.set_namespace_(ns.data(), ns.size());
    write.set_key(key.data(), key.size());
    if (!header.deleted) write.set_value(value.data(), value.size());
    write.set_version(header.version);
    write.set_expire_time_ms(header.expire_time_ms);
    write.set_deleted(header.deleted);
    bytes += ns.size() + key.size() + value.size() + kWriteOverheadBytes;
    if (bytes >= chunk_bytes) {
      if (!emit(chunk)) return meta->contiguous_version;
      chunk.clear();
      bytes = 0;
    }
  }
  if (absl::Status s = FromRocks(it->status(), "read partition"); !s.ok()) {
    return s;
  }
  if (!chunk.empty()) emit(chunk);
  return meta->contiguous_version;
}

absl::StatusOr<std::vector<v1::Entry>> PartitionStore::Scan(
    uint32_t partition, absl::string_view ns, absl::string_view prefix,
    absl::string_view start_after, size_t limit) const {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  if (absl::Status s = ValidateNamespace("namespace", ns); !s.ok()) return s;
  std::vector<v1::Entry> entries;
  if (limit == 0) return entries;

  const std::string ns_prefix = DataKeyPrefix(partition, ns);
  const std::string lower = absl::StrCat(ns_prefix, prefix);
  const std::string upper = PrefixSuccessor(lower);
  std::string seek = lower;
  if (!start_after.empty()) {
    std::string after = absl::StrCat(ns_prefix, start_after);
    if (after > seek) seek = std::move(after);
  }
  rocksdb::Slice upper_slice = ToSlice(upper);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options));

  const int64_t now = NowMs();
  for (it->Seek(ToSlice(seek)); it->Valid() && entries.size() < limit;
       it->Next()) {
    absl::string_view key, value;
    EntryHeader header;
    if (!DecodeDataKey(ToView(it->key()), nullptr, nullptr, &key) ||
        !DecodeEntry(ToView(it->value()), &header, &value)) {
      continue;
    }
    if (!start_after.empty() && key <= start_after) continue;
    if (IsGone(header, now)) continue;
    v1::Entry& entry = entries.emplace_back();
    entry.set_namespace_(ns.data(), ns.size());
    entry.set_key(key.data(), key.size());
    entry.set_value(value.data(), value.size());
    entry.set_version(header.version);
    entry.set_expire_time_ms(header.expire_time_ms);
  }
  if (absl::Status s = FromRocks(it->status(), "scan"); !s.ok()) return s;
  return entries;
}

absl::Status PartitionStore::DropPartition(uint32_t partition) {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  const std::string lower = DataKeyPrefix(partition);
  const std::string upper = PrefixSuccessor(lower);
  Impl::Stripe& stripe = impl_->StripeOf(partition);
  absl::MutexLock lock(&stripe.mu);
  rocksdb::WriteBatch batch;
  batch.DeleteRange(ToSlice(lower), ToSlice(upper));
  batch.Delete(EncodeMetaKey(partition));
  absl::Status s = FromRocks(impl_->db->Write(impl_->write_options, &batch),
                             "drop partition");
  if (s.ok()) stripe.meta.erase(partition);
  return s;
}

absl::Status PartitionStore::CompactAll() {
  rocksdb::CompactRangeOptions compact_options;
  // Rewrite the last level too, so the filter sees every entry.
  compact_options.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(impl_->db->CompactRange(compact_options, nullptr, nullptr),
                   "compact");
}

uint64_t PartitionStore::EstimatedKeys() const {
  uint64_t keys = 0;
  impl_->db->GetIntProperty("rocksdb.estimate-num-keys", &keys);
  return keys;
}

uint64_t PartitionStore::EstimatedBytes() const {
  uint64_t sst = 0;
  uint64_t memtables = 0;
  impl_->db->GetIntProperty("rocksdb.total-sst-files-size", &sst);
  impl_->db->GetIntProperty("rocksdb.cur-size-all-mem-tables", &memtables);
  return sst + memtables;
}

std::optional<uint64_t> PartitionStore::IntProperty(
    const std::string& name) const {
  uint64_t value = 0;
  if (!impl_->db->GetIntProperty(name, &value)) return std::nullopt;
  return value;
}

const FreeSpaceMonitor* PartitionStore::free_space() const {
  return impl_->options.free_space.get();
}

absl::Status PartitionStore::Flush() {
  const int64_t now = impl_->options.now_ms();
  for (Impl::Stripe& stripe : impl_->stripes) {
    absl::MutexLock lock(&stripe.mu);
    rocksdb::WriteBatch batch;
    for (const auto& [partition, cached] : stripe.meta) {
      if (cached.dirty) {
        batch.Put(EncodeMetaKey(partition),
                  EncodeMeta(cached.meta, cached.bound));
      }
    }
    if (batch.Count() == 0) continue;
    if (absl::Status s = FromRocks(
            impl_->db->Write(impl_->write_options, &batch), "write metadata");
        !s.ok()) {
      return s;
    }
    for (auto& [partition, cached] : stripe.meta) {
      if (cached.dirty) {
        cached.dirty = false;
        cached.persisted_ms = now;
      }
    }
  }
  return FromRocks(impl_->db->FlushWAL(/*sync=*/true), "flush log");
}

}  // namespace parley::cache
