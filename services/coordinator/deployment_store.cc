#include "services/coordinator/deployment_store.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/names.h"
#include "services/runtime/channel/channel.h"

namespace parley::coordinator {
namespace {

constexpr absl::string_view kVersionPrefix = "deploy/v/";
constexpr absl::string_view kActivePrefix = "deploy/active/";
constexpr absl::string_view kRevisionKey = "deploy/revision";
constexpr size_t kMaxChannelNameLength = 128;

std::string VersionKey(absl::string_view group, absl::string_view channel,
                       uint64_t version) {
  return absl::StrFormat("%s%s/%s/%020d", kVersionPrefix, group, channel,
                         version);
}

std::string ActiveKey(absl::string_view group, absl::string_view channel) {
  return absl::StrCat(kActivePrefix, group, "/", channel);
}

// Checks a channel name given in a request field (it is part of keys).
absl::Status ValidateChannelName(absl::string_view field,
                                 absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  }
  if (name.size() > kMaxChannelNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", name.size(), " characters; at most ",
                     kMaxChannelNameLength, " are allowed"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " '", name, "' may hold only letters, digits, '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckComment(absl::string_view comment) {
  if (comment.size() > kMaxDeploymentCommentBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("comment is ", comment.size(), " bytes; at most ",
                     kMaxDeploymentCommentBytes, " are allowed"));
  }
  return absl::OkStatus();
}

// Checks size and name, then compiles `channel` as the runtime would.
absl::Status ValidateChannel(const v1::InteractiveChannel& channel) {
  if (absl::Status s = ValidateChannelName("channel.name", channel.name());
      !s.ok()) {
    return s;
  }
  const size_t bytes = channel.ByteSizeLong();
  if (bytes > kMaxDeployedChannelBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel '", channel.name(), "' is ", bytes,
                     " bytes serialized; at most ", kMaxDeployedChannelBytes,
                     " are allowed"));
  }
  return channel::CompileChannel(channel).status();
}

v1::Deployment WithoutContent(const v1::Deployment& deployment) {
  v1::Deployment copy = deployment;
  copy.clear_channel();
  return copy;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeploymentStore>> DeploymentStore::Load(
    DurableStore* store, GroupChecker group_exists, Clock clock) {
  std::unique_ptr<DeploymentStore> deployments(
      new DeploymentStore(store, std::move(group_exists), std::move(clock)));
  absl::MutexLock lock(&deployments->mu_);
  absl::StatusOr<uint64_t> revision = store->GetCounter(kRevisionKey);
  if (!revision.ok()) return revision.status();
  deployments->revision_ = *revision;

  absl::Status corrupt;
  // Active pointers first, so each active version keeps its content.
  std::map<ChannelKey, uint64_t> active;
  absl::Status scan = store->ScanPrefix(
      kActivePrefix, [&](absl::string_view key, absl::string_view value) {
        absl::string_view rest = key.substr(kActivePrefix.size());
        size_t slash = rest.find('/');
        uint64_t version = 0;
        if (slash == absl::string_view::npos ||
            !absl::SimpleAtoi(value, &version) || version == 0) {
          corrupt = absl::DataLossError(
              absl::StrCat("active deployment '", key, "' is corrupt"));
          return;
        }
        active[{std::string(rest.substr(0, slash)),
                std::string(rest.substr(slash + 1))}] = version;
      });
  if (!scan.ok()) return scan;
  if (!corrupt.ok()) return corrupt;

  scan = store->ScanPrefix(
      kVersionPrefix, [&](absl::string_view key, absl::string_view value) {
        auto deployment = std::make_shared<v1::Deployment>();
        if (!deployment->ParseFromArray(value.data(),
                                        static_cast<int>(value.size())) ||
            key != VersionKey(deployment->group(), deployment->channel_name(),
                              deployment->version())) {
          corrupt = absl::DataLossError(
              absl::StrCat("deployment '", key, "' is corrupt"));
          return;
        }
        ChannelKey channel_key{deployment->group(), deployment->channel_name()};
        ChannelState& state = deployments->channels_[channel_key];
        auto it = active.find(channel_key);
        const bool is_active =
            it != active.end() && it->second == deployment->version();
        if (is_active) deployment->set_active(true);
        v1::Deployment summary = WithoutContent(*deployment);
        state.versions.emplace(deployment->version(), std::move(summary));
        if (is_active) state.active = std::move(deployment);
      });
  if (!scan.ok()) return scan;
  if (!corrupt.ok()) return corrupt;
  for (const auto& [key, version] : active) {
    auto it = deployments->channels_.find(key);
    if (it == deployments->channels_.end() || it->second.active == nullptr) {
      return absl::DataLossError(absl::StrCat(
          "active deployment of '", key.second, "' on group '", key.first,
          "' names version ", version, ", which is not stored"));
    }
  }
  return deployments;
}

absl::Status DeploymentStore::CheckGroup(absl::string_view group) const {
  if (absl::Status s = ValidateGroupName("group", group); !s.ok()) return s;
  return group_exists_(group);
}

absl::StatusOr<v1::Deployment> DeploymentStore::Deploy(
    const v1::DeployRequest& request) {
  if (absl::Status s = CheckGroup(request.group()); !s.ok()) return s;
  if (absl::Status s = CheckComment(request.comment()); !s.ok()) return s;
  if (absl::Status s = ValidateChannel(request.channel()); !s.ok()) return s;
  return Commit(request.group(), request.channel(), request.comment(), 0);
}

absl::StatusOr<v1::Deployment> DeploymentStore::Rollback(
    const v1::RollbackRequest& request) {
  if (absl::Status s = CheckGroup(request.group()); !s.ok()) return s;
  if (absl::Status s = ValidateChannelName("channel", request.channel());
      !s.ok()) {
    return s;
  }
  if (request.version() == 0) {
    return absl::InvalidArgumentError(
        "version is 0; name the version to roll back to");
  }
  if (absl::Status s = CheckComment(request.comment()); !s.ok()) return s;
  absl::StatusOr<v1::Deployment> old;
  {
    absl::ReaderMutexLock lock(&mu_);
    old = ReadVersionLocked({request.group(), request.channel()},
                            request.version());
  }
  if (!old.ok()) return old.status();
  // Compiled again: the runtime must still accept the old content.
  if (absl::Status s = channel::CompileChannel(old->channel()).status();
      !s.ok()) {
    return s;
  }
  std::string comment =
      request.comment().empty()
          ? absl::StrCat("rollback to version ", request.version())
          : request.comment();
  return Commit(request.group(), old->channel(), comment, request.version());
}

absl::StatusOr<v1::Deployment> DeploymentStore::Commit(
    const std::string& group, const v1::InteractiveChannel& channel,
    const std::string& comment, uint64_t rolled_back_from) {
  absl::MutexLock lock(&mu_);
  const ChannelKey key{group, channel.name()};
  ChannelState& state = channels_[key];
  const uint64_t version =
      state.versions.empty() ? 1 : state.versions.rbegin()->first + 1;
  const uint64_t revision = revision_ + 1;

  auto deployment = std::make_shared<v1::Deployment>();
  deployment->set_group(group);
  deployment->set_channel_name(channel.name());
  deployment->set_version(version);
  *deployment->mutable_channel() = channel;
  const int64_t micros = absl::ToUnixMicros(clock_());
  deployment->mutable_deploy_time()->set_seconds(micros / 1000000);
  deployment->mutable_deploy_time()->set_nanos(
      static_cast<int32_t>(micros % 1000000) * 1000);
  deployment->set_comment(comment);
  deployment->set_rolled_back_from(rolled_back_from);

  absl::Status written =
      store_->Write({{VersionKey(group, channel.name(), version),
                      deployment->SerializeAsString()},
                     {ActiveKey(group, channel.name()), absl::StrCat(version)},
                     {std::string(kRevisionKey), absl::StrCat(revision)}},
                    /*sync=*/true);
  if (!written.ok()) {
    if (state.versions.empty()) channels_.erase(key);
    return written;
  }
  revision_ = revision;
  state.versions.emplace(version, WithoutContent(*deployment));
  if (state.active != nullptr) {
    state.versions[state.active->version()].set_active(false);
  }
  deployment->set_active(true);
  state.versions[version].set_active(true);
  state.active = deployment;

  v1::DeploymentEvent event;
  event.set_kind(v1::DeploymentEvent::DEPLOYED);
  event.set_revision(revision);
  event.set_group(group);
  *event.add_deployments() = *deployment;
  NotifyLocked(event);
  return *deployment;
}

absl::StatusOr<v1::ListDeploymentsResponse> DeploymentStore::List(
    const v1::ListDeploymentsRequest& request) const {
  if (absl::Status s = CheckGroup(request.group()); !s.ok()) return s;
  if (!request.channel().empty()) {
    if (absl::Status s = ValidateChannelName("channel", request.channel());
        !s.ok()) {
      return s;
    }
  }
  absl::ReaderMutexLock lock(&mu_);
  v1::ListDeploymentsResponse response;
  for (auto it = channels_.lower_bound({request.group(), request.channel()});
       it != channels_.end() && it->first.first == request.group(); ++it) {
    if (!request.channel().empty() && it->first.second != request.channel()) {
      break;
    }
    for (const auto& [version, summary] : it->second.versions) {
      if (!request.include_channel()) {
        *response.add_deployments() = summary;
        continue;
      }
      absl::StatusOr<v1::Deployment> full =
          ReadVersionLocked(it->first, version);
      if (!full.ok()) return full.status();
      *response.add_deployments() = std::move(*full);
    }
  }
  return response;
}

absl::StatusOr<v1::Deployment> DeploymentStore::Get(
    const v1::GetDeploymentRequest& request) const {
  if (absl::Status s = CheckGroup(request.group()); !s.ok()) return s;
  if (absl::Status s = ValidateChannelName("channel", request.channel());
      !s.ok()) {
    return s;
  }
  absl::ReaderMutexLock lock(&mu_);
  const ChannelKey key{request.group(), request.channel()};
  if (request.version() == 0) {
    auto it = channels_.find(key);
    if (it == channels_.end() || it->second.active == nullptr) {
      return absl::NotFoundError(absl::StrCat("channel '", request.channel(),
                                              "' is not deployed on group '",
                                              request.group(), "'"));
    }
    return *it->second.active;
  }
  return ReadVersionLocked(key, request.version());
}

absl::StatusOr<v1::Deployment> DeploymentStore::ReadVersionLocked(
    const ChannelKey& key, uint64_t version) const {
  auto it = channels_.find(key);
  if (it == channels_.end() || it->second.versions.count(version) == 0) {
    const uint64_t latest = it == channels_.end() || it->second.versions.empty()
                                ? 0
                                : it->second.versions.rbegin()->first;
    return absl::NotFoundError(absl::StrCat(
        "channel '", key.second, "' on group '", key.first, "' has no version ",
        version,
        latest == 0 ? " (it was never deployed there)"
                    : absl::StrCat(" (versions are 1 to ", latest, ")")));
  }
  if (it->second.active != nullptr && it->second.active->version() == version) {
    return *it->second.active;
  }
  absl::StatusOr<std::optional<std::string>> value =
      store_->Get(VersionKey(key.first, key.second, version));
  if (!value.ok()) return value.status();
  v1::Deployment deployment;
  if (!value->has_value() || !deployment.ParseFromString(**value)) {
    return absl::DataLossError(
        absl::StrCat("version ", version, " of '", key.second, "' on group '",
                     key.first, "' is missing or corrupt"));
  }
  deployment.set_active(false);
  return deployment;
}

absl::StatusOr<v1::UndeployResponse> DeploymentStore::Undeploy(
    const v1::UndeployRequest& request) {
  if (absl::Status s = CheckGroup(request.group()); !s.ok()) return s;
  if (absl::Status s = ValidateChannelName("channel", request.channel());
      !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  auto it = channels_.find({request.group(), request.channel()});
  if (it == channels_.end()) {
    return absl::NotFoundError(absl::StrCat("channel '", request.channel(),
                                            "' was never deployed on group '",
                                            request.group(), "'"));
  }
  ChannelState& state = it->second;
  if (state.active == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "channel '", request.channel(), "' is not active on group '",
        request.group(), "' (already undeployed)"));
  }
  const uint64_t revision = revision_ + 1;
  absl::Status written = store_->Write(
      {{ActiveKey(request.group(), request.channel()), std::nullopt},
       {std::string(kRevisionKey), absl::StrCat(revision)}},
      /*sync=*/true);
  if (!written.ok()) return written;
  revision_ = revision;
  const uint64_t version = state.active->version();
  state.active = nullptr;
  v1::Deployment& summary = state.versions[version];
  summary.set_active(false);

  v1::DeploymentEvent event;
  event.set_kind(v1::DeploymentEvent::UNDEPLOYED);
  event.set_revision(revision);
  event.set_group(request.group());
  *event.add_deployments() = summary;
  NotifyLocked(event);

  v1::UndeployResponse response;
  response.set_version(version);
  response.set_revision(revision);
  return response;
}

absl::Status DeploymentStore::ForgetGroup(absl::string_view group) {
  absl::MutexLock lock(&mu_);
  std::vector<StoreMutation> mutations;
  std::vector<ChannelKey> forgotten;
  for (auto it = channels_.lower_bound({std::string(group), ""});
       it != channels_.end() && it->first.first == group; ++it) {
    if (it->second.active != nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("group '", group, "' has deployed channels"));
    }
    for (const auto& [version, summary] : it->second.versions) {
      mutations.push_back(
          {VersionKey(it->first.first, it->first.second, version),
           std::nullopt});
    }
    forgotten.push_back(it->first);
  }
  if (mutations.empty()) return absl::OkStatus();
  if (absl::Status s = store_->Write(mutations, /*sync=*/true); !s.ok()) {
    return s;
  }
  for (const ChannelKey& key : forgotten) channels_.erase(key);
  return absl::OkStatus();
}

bool DeploymentStore::HasActive(absl::string_view group) const {
  absl::ReaderMutexLock lock(&mu_);
  for (auto it = channels_.lower_bound({std::string(group), ""});
       it != channels_.end() && it->first.first == group; ++it) {
    if (it->second.active != nullptr) return true;
  }
  return false;
}

absl::Status DeploymentStore::ValidateWatch(absl::string_view group) const {
  return CheckGroup(group);
}

uint64_t DeploymentStore::Watch(absl::string_view group, WatchCallback callback,
                                v1::DeploymentEvent* snapshot) {
  absl::MutexLock lock(&mu_);
  snapshot->Clear();
  snapshot->set_kind(v1::DeploymentEvent::SNAPSHOT);
  snapshot->set_revision(revision_);
  snapshot->set_group(std::string(group));
  for (auto it = channels_.lower_bound({std::string(group), ""});
       it != channels_.end() && it->first.first == group; ++it) {
    if (it->second.active != nullptr) {
      *snapshot->add_deployments() = *it->second.active;
    }
  }
  const uint64_t id = next_watcher_id_++;
  watchers_.emplace(id, Watcher{std::string(group), std::move(callback)});
  return id;
}

void DeploymentStore::Unwatch(uint64_t id) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(id);
}

void DeploymentStore::NotifyLocked(const v1::DeploymentEvent& event) {
  for (const auto& [id, watcher] : watchers_) {
    if (watcher.group == event.group()) watcher.callback(event);
  }
}

}  // namespace parley::coordinator
