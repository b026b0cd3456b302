#include "services/coordinator/durable_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace parley::coordinator {
namespace {

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("coordinator store: ", what, ": ", status.ToString()));
}

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<DurableStore>> DurableStore::Open(
    const std::string& data_dir) {
  if (data_dir.empty()) {
    return absl::InvalidArgumentError(
        "--data_dir is empty; give a directory for the coordinator's state");
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.max_open_files = 64;
  options.keep_log_file_num = 3;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(options, data_dir, &raw);
  if (!status.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open the coordinator's data in '", data_dir, "': ",
        status.ToString(), " (is another coordinator using this --data_dir?)"));
  }
  return std::unique_ptr<DurableStore>(
      new DurableStore(std::unique_ptr<rocksdb::DB>(raw)));
}

DurableStore::DurableStore(std::unique_ptr<rocksdb::DB> db)
    : db_(std::move(db)) {}

DurableStore::~DurableStore() {
  if (db_ != nullptr) {
    db_->FlushWAL(/*sync=*/true);
    db_->Close();
  }
}

absl::Status DurableStore::Write(const std::vector<StoreMutation>& mutations,
                                 bool sync) {
  rocksdb::WriteBatch batch;
  for (const StoreMutation& mutation : mutations) {
    if (mutation.value.has_value()) {
      batch.Put(mutation.key, *mutation.value);
    } else {
      batch.Delete(mutation.key);
    }
  }
  rocksdb::WriteOptions options;
  options.sync = sync;
  return FromRocks(db_->Write(options, &batch), "write");
}

absl::StatusOr<std::optional<std::string>> DurableStore::Get(
    absl::string_view key) const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (absl::Status error = FromRocks(status, "read"); !error.ok()) return error;
  return std::optional<std::string>(std::move(value));
}

absl::Status DurableStore::ScanPrefix(
    absl::string_view prefix,
    const std::function<void(absl::string_view, absl::string_view)>& visit)
    const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (!key.starts_with(ToSlice(prefix))) break;
    rocksdb::Slice value = it->value();
    visit(absl::string_view(key.data(), key.size()),
          absl::string_view(value.data(), value.size()));
  }
  return FromRocks(it->status(), "scan");
}

absl::StatusOr<uint64_t> DurableStore::GetCounter(absl::string_view key) const {
  absl::StatusOr<std::optional<std::string>> value = Get(key);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return 0;
  uint64_t counter = 0;
  if (!absl::SimpleAtoi(**value, &counter)) {
    return absl::DataLossError(
        absl::StrCat("coordinator store: counter '", key, "' is corrupt"));
  }
  return counter;
}

absl::Status DurableStore::Flush() {
  return FromRocks(db_->FlushWAL(/*sync=*/true), "flush");
}

}  // namespace parley::coordinator
