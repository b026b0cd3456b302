#include "services/coordinator/config_store.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace parley::coordinator {
namespace {

constexpr absl::string_view kEntryPrefix = "config/";
constexpr absl::string_view kRevisionKey = "meta/config_revision";

std::string EntryKey(absl::string_view path) {
  return absl::StrCat(kEntryPrefix, path);
}

}  // namespace

bool PathIsUnder(absl::string_view path, absl::string_view prefix) {
  if (prefix.empty()) return true;
  if (!absl::StartsWith(path, prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

const v1::ConfigEntry* ConfigStore::View::Find(absl::string_view path) const {
  auto it = entries_.find(std::string(path));
  return it == entries_.end() ? nullptr : &it->second;
}

void ConfigStore::View::ForEachUnder(
    absl::string_view prefix,
    const std::function<void(const v1::ConfigEntry&)>& visit) const {
  for (auto it = entries_.lower_bound(std::string(prefix));
       it != entries_.end() && absl::StartsWith(it->first, prefix); ++it) {
    if (PathIsUnder(it->first, prefix)) visit(it->second);
  }
}

absl::StatusOr<std::unique_ptr<ConfigStore>> ConfigStore::Load(
    DurableStore* store) {
  std::unique_ptr<ConfigStore> config(new ConfigStore(store));
  absl::MutexLock lock(&config->mu_);
  absl::StatusOr<uint64_t> revision = store->GetCounter(kRevisionKey);
  if (!revision.ok()) return revision.status();
  config->revision_ = *revision;
  absl::Status corrupt;
  absl::Status scan = store->ScanPrefix(
      kEntryPrefix, [&](absl::string_view key, absl::string_view value) {
        v1::ConfigEntry entry;
        if (!entry.ParseFromArray(value.data(),
                                  static_cast<int>(value.size())) ||
            entry.path() != key.substr(kEntryPrefix.size())) {
          corrupt = absl::DataLossError(
              absl::StrCat("configuration entry '", key, "' is corrupt"));
          return;
        }
        config->entries_.emplace(entry.path(), std::move(entry));
      });
  if (!scan.ok()) return scan;
  if (!corrupt.ok()) return corrupt;
  return config;
}

absl::StatusOr<uint64_t> ConfigStore::Transact(const Transaction& transaction) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::vector<ConfigWrite>> writes =
      transaction(View(entries_, revision_));
  if (!writes.ok()) return writes.status();
  if (writes->empty()) return revision_;

  for (const ConfigWrite& write : *writes) {
    auto it = entries_.find(write.path);
    uint64_t current = it == entries_.end() ? 0 : it->second.version();
    if (write.expected_version.has_value() &&
        *write.expected_version != current) {
      return absl::AbortedError(absl::StrCat(
          "'", write.path, "' is at version ", current, ", not the expected ",
          *write.expected_version, current == 0 ? " (it does not exist)" : "",
          "; read it again and retry with its current version"));
    }
    if (!write.value.has_value() && it == entries_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no configuration entry at '", write.path, "'"));
    }
  }

  const uint64_t revision = revision_ + 1;
  std::vector<StoreMutation> mutations;
  mutations.reserve(writes->size() + 1);
  for (const ConfigWrite& write : *writes) {
    if (write.value.has_value()) {
      v1::ConfigEntry entry;
      entry.set_path(write.path);
      entry.set_value(*write.value);
      entry.set_version(revision);
      mutations.push_back({EntryKey(write.path), entry.SerializeAsString()});
    } else {
      mutations.push_back({EntryKey(write.path), std::nullopt});
    }
  }
  mutations.push_back({std::string(kRevisionKey), absl::StrCat(revision)});
  if (absl::Status written = store_->Write(mutations, /*sync=*/true);
      !written.ok()) {
    return written;
  }
  revision_ = revision;

  for (const ConfigWrite& write : *writes) {
    v1::ConfigEvent event;
    event.set_revision(revision);
    v1::ConfigEntry* entry = event.add_entries();
    entry->set_path(write.path);
    if (write.value.has_value()) {
      event.set_kind(v1::ConfigEvent::PUT);
      entry->set_value(*write.value);
      entry->set_version(revision);
      entries_[write.path] = *entry;
    } else {
      event.set_kind(v1::ConfigEvent::DELETE);
      entry->set_version(revision);
      entries_.erase(write.path);
    }
    for (const auto& [id, watcher] : watchers_) {
      if (PathIsUnder(write.path, watcher.prefix)) watcher.callback(event);
    }
  }
  return revision;
}

absl::StatusOr<v1::ConfigEntry> ConfigStore::Get(absl::string_view path) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(std::string(path));
  if (it == entries_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no configuration entry at '", path, "'"));
  }
  return it->second;
}

v1::ListConfigResponse ConfigStore::List(absl::string_view prefix) const {
  absl::MutexLock lock(&mu_);
  v1::ListConfigResponse response;
  response.set_revision(revision_);
  View(entries_, revision_).ForEachUnder(prefix, [&](const v1::ConfigEntry& e) {
    *response.add_entries() = e;
  });
  return response;
}

absl::StatusOr<v1::ConfigEntry> ConfigStore::Set(
    absl::string_view path, absl::string_view value,
    std::optional<uint64_t> expected_version) {
  absl::StatusOr<uint64_t> revision = Transact([&](const View&) {
    return std::vector<ConfigWrite>{
        {std::string(path), std::string(value), expected_version}};
  });
  if (!revision.ok()) return revision.status();
  v1::ConfigEntry entry;
  entry.set_path(std::string(path));
  entry.set_value(std::string(value));
  entry.set_version(*revision);
  return entry;
}

absl::StatusOr<uint64_t> ConfigStore::Delete(
    absl::string_view path, std::optional<uint64_t> expected_version) {
  return Transact([&](const View&) {
    return std::vector<ConfigWrite>{
        {std::string(path), std::nullopt, expected_version}};
  });
}

uint64_t ConfigStore::Watch(absl::string_view prefix, WatchCallback callback,
                            v1::ConfigEvent* snapshot) {
  absl::MutexLock lock(&mu_);
  snapshot->Clear();
  snapshot->set_kind(v1::ConfigEvent::SNAPSHOT);
  snapshot->set_revision(revision_);
  View(entries_, revision_).ForEachUnder(prefix, [&](const v1::ConfigEntry& e) {
    *snapshot->add_entries() = e;
  });
  uint64_t id = next_watcher_id_++;
  watchers_.emplace(id, Watcher{std::string(prefix), std::move(callback)});
  return id;
}

void ConfigStore::Unwatch(uint64_t id) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(id);
}

}  // namespace parley::coordinator
