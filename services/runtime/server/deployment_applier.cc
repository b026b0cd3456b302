#include "services/runtime/server/deployment_applier.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "services/runtime/channel/channel.h"
#include "spdlog/spdlog.h"

namespace parley::runtime {

bool DeploymentApplier::Activate(const v1::Deployment& deployment) {
  const std::string key = absl::AsciiStrToLower(deployment.channel_name());
  auto it = active_.find(key);
  if (it != active_.end() && it->second.version == deployment.version()) {
    return true;  // Already serving this version (a snapshot after a
                  // reconnect repeats what we have).
  }
  absl::StatusOr<std::shared_ptr<const channel::CompiledChannel>> compiled =
      channel::CompileChannel(deployment.channel());
  if (!compiled.ok()) {
    spdlog::error(
        "channel '{}' version {} of group '{}' does not compile here; still "
        "serving the previous version: {}",
        deployment.channel_name(), deployment.version(), deployment.group(),
        std::string(compiled.status().message()));
    return false;
  }
  engine_->SetChannel(deployment.channel_name(), *compiled,
                      deployment.version());
  active_[key] = Active{deployment.channel_name(), deployment.version(),
                        *std::move(compiled)};
  spdlog::info("serving channel '{}' version {}", deployment.channel_name(),
               deployment.version());
  return true;
}

void DeploymentApplier::Apply(const v1::DeploymentEvent& event) {
  absl::MutexLock lock(&mu_);
  switch (event.kind()) {
    case v1::DeploymentEvent::SNAPSHOT: {
      std::vector<std::string> stale;
      for (const auto& [key, active] : active_) {
        bool kept = false;
        for (const v1::Deployment& d : event.deployments()) {
          kept = kept || absl::AsciiStrToLower(d.channel_name()) == key;
        }
        if (!kept) stale.push_back(key);
      }
      for (const std::string& key : stale) {
        engine_->RemoveChannel(active_[key].name);
        spdlog::info("channel '{}' is no longer deployed", active_[key].name);
        active_.erase(key);
      }
      for (const v1::Deployment& d : event.deployments()) Activate(d);
      loaded_ = true;
      break;
    }
    case v1::DeploymentEvent::DEPLOYED:
      for (const v1::Deployment& d : event.deployments()) Activate(d);
      break;
    case v1::DeploymentEvent::UNDEPLOYED:
      for (const v1::Deployment& d : event.deployments()) {
        const std::string key = absl::AsciiStrToLower(d.channel_name());
        auto it = active_.find(key);
        if (it == active_.end() || it->second.version != d.version()) continue;
        engine_->RemoveChannel(d.channel_name());
        spdlog::info("channel '{}' version {} undeployed", d.channel_name(),
                     d.version());
        active_.erase(it);
      }
      break;
    default:
      spdlog::warn("ignoring a deployment event of unknown kind {}",
                   static_cast<int>(event.kind()));
  }
}

bool DeploymentApplier::loaded() const {
  absl::MutexLock lock(&mu_);
  return loaded_;
}

uint64_t DeploymentApplier::ActiveVersion(absl::string_view channel) const {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(absl::AsciiStrToLower(channel));
  return it == active_.end() ? 0 : it->second.version;
}

std::shared_ptr<const channel::CompiledChannel> DeploymentApplier::Find(
    absl::string_view channel) const {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(absl::AsciiStrToLower(channel));
  return it == active_.end() ? nullptr : it->second.compiled;
}

}  // namespace parley::runtime
