#include "services/coordinator/broadcast_hub.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/names.h"

namespace parley::coordinator {
namespace {

constexpr size_t kMaxNamespaceLength = 256;
constexpr size_t kMaxKeyLength = 1024;

}  // namespace

uint64_t GroupStream::Publish(
    const google::protobuf::RepeatedPtrField<v1::BroadcastEntry>& entries,
    const std::string& origin) {
  absl::MutexLock lock(&mu_);
  uint64_t head = log_.Append(entries, origin);
  for (BroadcastSubscriber* subscriber : subscribers_) {
    subscriber->OnStreamChangedLocked();
  }
  return head;
}

void GroupStream::AddSubscriberLocked(BroadcastSubscriber* subscriber) {
  subscribers_.insert(subscriber);
}

void GroupStream::RemoveSubscriber(BroadcastSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  subscribers_.erase(subscriber);
}

uint64_t GroupStream::MaxSubscriberLagLocked() const {
  uint64_t lag = 0;
  for (const BroadcastSubscriber* subscriber : subscribers_) {
    const std::optional<uint64_t> delivered = subscriber->DeliveredLocked();
    if (delivered.has_value() && *delivered < log_.head()) {
      lag = std::max(lag, log_.head() - *delivered);
    }
  }
  return lag;
}

void GroupStream::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (BroadcastSubscriber* subscriber : subscribers_) {
    subscriber->OnStreamChangedLocked();
  }
}

void BroadcastHub::AddGroup(absl::string_view group) {
  absl::MutexLock lock(&mu_);
  auto& stream = streams_[group];
  if (stream == nullptr) {
    stream = std::make_shared<GroupStream>(epoch_, limits_.history);
  }
}

void BroadcastHub::RemoveGroup(absl::string_view group) {
  std::shared_ptr<GroupStream> stream;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(group);
    if (it == streams_.end()) return;
    stream = std::move(it->second);
    streams_.erase(it);
  }
  stream->Close();
}

std::shared_ptr<GroupStream> BroadcastHub::Find(absl::string_view group) const {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(group);
  return it == streams_.end() ? nullptr : it->second;
}

absl::StatusOr<v1::PublishResponse> BroadcastHub::Publish(
    const v1::PublishRequest& request) {
  if (absl::Status s = ValidateGroupName("group", request.group()); !s.ok()) {
    return s;
  }
  if (request.entries().empty()) {
    return absl::InvalidArgumentError("entries is empty; nothing to publish");
  }
  if (request.entries_size() > static_cast<int>(limits_.max_publish_entries)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entries holds ", request.entries_size(), " entries; publish at most ",
        limits_.max_publish_entries, " per call"));
  }
  if (!request.origin().empty()) {
    if (absl::Status s = ValidateMemberId("origin", request.origin());
        !s.ok()) {
      return s;
    }
  }
  for (int i = 0; i < request.entries_size(); ++i) {
    const v1::BroadcastEntry& entry = request.entries(i);
    if (entry.namespace_().empty() ||
        entry.namespace_().size() > kMaxNamespaceLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("entries[", i, "].namespace needs 1-",
                       kMaxNamespaceLength, " characters"));
    }
    if (entry.key().size() > kMaxKeyLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "entries[", i, "].key is longer than ", kMaxKeyLength, " bytes"));
    }
  }
  std::shared_ptr<GroupStream> stream = Find(request.group());
  if (stream == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "no server group '", request.group(), "'; create it first"));
  }
  const uint64_t head = stream->Publish(request.entries(), request.origin());
  v1::PublishResponse response;
  response.set_epoch(epoch_);
  response.set_last_sequence(head);
  response.set_first_sequence(head + 1 - request.entries_size());
  return response;
}

void BroadcastHub::CloseAll() {
  absl::flat_hash_map<std::string, std::shared_ptr<GroupStream>> streams;
  {
    absl::MutexLock lock(&mu_);
    streams = streams_;
  }
  for (auto& [name, stream] : streams) stream->Close();
}

}  // namespace parley::coordinator
