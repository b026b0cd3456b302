#include "services/coordinator/group_registry.h"

#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/names.h"

namespace parley::coordinator {
namespace {

constexpr absl::string_view kGroupsRoot = "groups";
constexpr absl::string_view kChannelKey = "broadcast/channel";
constexpr absl::string_view kCacheTypeKey = "cache/type";
constexpr absl::string_view kTimeoutKey = "session/timeout_seconds";
constexpr absl::string_view kNearCacheKey = "near_cache/max_entries";
constexpr absl::string_view kSegmentationWaitKey = "segmentation/max_wait_ms";
constexpr absl::string_view kCreateTimeKey = "create_time";

constexpr uint32_t kMaxChannel = 65535;
constexpr uint32_t kMaxSessionTimeoutSeconds = 86400;
constexpr uint32_t kMaxNearCacheEntries = 10000000;
constexpr uint32_t kMaxSegmentationWaitMs = 60000;

std::string SettingPath(absl::string_view group, absl::string_view key) {
  return absl::StrCat(kGroupsRoot, "/", group, "/", key);
}

absl::Status ParseUint(absl::string_view path, absl::string_view text,
                       uint32_t min, uint32_t max, uint32_t* out) {
  if (!absl::SimpleAtoi(text, out) || *out < min || *out > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' must be a whole number from ", min, " to ",
                     max, ", not '", text, "'"));
  }
  return absl::OkStatus();
}

absl::Status CheckCacheType(v1::CacheType type) {
  if (type != v1::LOCAL && type != v1::DISTRIBUTED) {
    return absl::InvalidArgumentError(
        "settings.cache_type must be LOCAL or DISTRIBUTED");
  }
  return absl::OkStatus();
}

// Checks the set fields of `settings`.
absl::Status CheckSettings(const v1::GroupSettings& settings) {
  if (settings.cache_type() != v1::CACHE_TYPE_UNSPECIFIED) {
    if (absl::Status s = CheckCacheType(settings.cache_type()); !s.ok()) {
      return s;
    }
  }
  if (settings.has_session_timeout_seconds() &&
      (settings.session_timeout_seconds().value() < 1 ||
       settings.session_timeout_seconds().value() >
           kMaxSessionTimeoutSeconds)) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings.session_timeout_seconds must be from 1 to ",
                     kMaxSessionTimeoutSeconds, ", not ",
                     settings.session_timeout_seconds().value()));
  }
  if (settings.has_near_cache_max_entries() &&
      settings.near_cache_max_entries().value() > kMaxNearCacheEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings.near_cache_max_entries must be at most ",
                     kMaxNearCacheEntries));
  }
  if (settings.has_segmentation_max_wait_ms() &&
      settings.segmentation_max_wait_ms().value() > kMaxSegmentationWaitMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings.segmentation_max_wait_ms must be at most ",
                     kMaxSegmentationWaitMs));
  }
  return absl::OkStatus();
}

absl::Status CheckChannel(uint32_t channel) {
  if (channel < 1 || channel > kMaxChannel) {
    return absl::InvalidArgumentError(
        absl::StrCat("broadcast_channel must be from 1 to ", kMaxChannel,
                     ", not ", channel, "; omit it to have one allocated"));
  }
  return absl::OkStatus();
}

// Reads a group from the configuration; nullopt if it does not exist.
std::optional<v1::ServerGroup> ReadGroup(const ConfigStore::View& view,
                                         absl::string_view name) {
  const v1::ConfigEntry* channel = view.Find(SettingPath(name, kChannelKey));
  if (channel == nullptr) return std::nullopt;
  v1::ServerGroup group;
  group.set_name(std::string(name));
  uint64_t version = 0;
  view.ForEachUnder(GroupConfigPrefix(name), [&](const v1::ConfigEntry& e) {
    version = std::max(version, e.version());
  });
  group.set_version(version);
  uint32_t number = 0;
  if (absl::SimpleAtoi(channel->value(), &number)) {
    group.set_broadcast_channel(number);
  }
  v1::GroupSettings* settings = group.mutable_settings();
  const v1::ConfigEntry* type = view.Find(SettingPath(name, kCacheTypeKey));
  v1::CacheType cache_type = kDefaultCacheType;
  if (type != nullptr) v1::CacheType_Parse(type->value(), &cache_type);
  settings->set_cache_type(cache_type);
  auto read_number = [&](absl::string_view key, uint32_t fallback) {
    const v1::ConfigEntry* entry = view.Find(SettingPath(name, key));
    uint32_t value = fallback;
    if (entry == nullptr || !absl::SimpleAtoi(entry->value(), &value)) {
      return fallback;
    }
    return value;
  };
  settings->mutable_session_timeout_seconds()->set_value(
      read_number(kTimeoutKey, kDefaultSessionTimeoutSeconds));
  settings->mutable_near_cache_max_entries()->set_value(
      read_number(kNearCacheKey, kDefaultNearCacheMaxEntries));
  settings->mutable_segmentation_max_wait_ms()->set_value(
      read_number(kSegmentationWaitKey, kDefaultSegmentationMaxWaitMs));
  const v1::ConfigEntry* created = view.Find(SettingPath(name, kCreateTimeKey));
  int64_t seconds = 0;
  if (created != nullptr && absl::SimpleAtoi(created->value(), &seconds)) {
    group.mutable_create_time()->set_seconds(seconds);
  }
  return group;
}

// Every group's name, in order.
std::vector<std::string> GroupNames(const ConfigStore::View& view) {
  std::vector<std::string> names;
  view.ForEachUnder(kGroupsRoot, [&](const v1::ConfigEntry& e) {
    std::vector<absl::string_view> parts = absl::StrSplit(e.path(), '/');
    if (parts.size() == 4 &&
        absl::StrCat(parts[2], "/", parts[3]) == kChannelKey) {
      names.emplace_back(parts[1]);
    }
  });
  return names;
}

// The group holding `channel`, or nullopt.
std::optional<std::string> ChannelHolder(const ConfigStore::View& view,
                                         uint32_t channel) {
  for (const std::string& name : GroupNames(view)) {
    const v1::ConfigEntry* entry = view.Find(SettingPath(name, kChannelKey));
    if (entry != nullptr && entry->value() == absl::StrCat(channel)) {
      return name;
    }
  }
  return std::nullopt;
}

// Copies the set fields of `from` over `to`. (MergeFrom would skip a
// wrapper holding 0.)
void OverlaySettings(const v1::GroupSettings& from, v1::GroupSettings* to) {
  if (from.cache_type() != v1::CACHE_TYPE_UNSPECIFIED) {
    to->set_cache_type(from.cache_type());
  }
  if (from.has_session_timeout_seconds()) {
    *to->mutable_session_timeout_seconds() = from.session_timeout_seconds();
  }
  if (from.has_near_cache_max_entries()) {
    *to->mutable_near_cache_max_entries() = from.near_cache_max_entries();
  }
  if (from.has_segmentation_max_wait_ms()) {
    *to->mutable_segmentation_max_wait_ms() = from.segmentation_max_wait_ms();
  }
}

// Writes for every set field of `settings`.
void AppendSettingWrites(absl::string_view name,
                         const v1::GroupSettings& settings,
                         std::vector<ConfigWrite>* writes) {
  if (settings.cache_type() != v1::CACHE_TYPE_UNSPECIFIED) {
    writes->push_back({SettingPath(name, kCacheTypeKey),
                       v1::CacheType_Name(settings.cache_type()),
                       std::nullopt});
  }
  if (settings.has_session_timeout_seconds()) {
    writes->push_back({SettingPath(name, kTimeoutKey),
                       absl::StrCat(settings.session_timeout_seconds().value()),
                       std::nullopt});
  }
  if (settings.has_near_cache_max_entries()) {
    writes->push_back({SettingPath(name, kNearCacheKey),
                       absl::StrCat(settings.near_cache_max_entries().value()),
                       std::nullopt});
  }
  if (settings.has_segmentation_max_wait_ms()) {
    writes->push_back(
        {SettingPath(name, kSegmentationWaitKey),
         absl::StrCat(settings.segmentation_max_wait_ms().value()),
         std::nullopt});
  }
}

absl::Status ChannelTaken(uint32_t channel, absl::string_view holder) {
  return absl::AlreadyExistsError(absl::StrCat(
      "broadcast channel ", channel, " is taken by group '", holder,
      "'; choose another or omit broadcast_channel to have one allocated"));
}

// Checks the fields CreateGroup and UpdateGroup share.
absl::Status CheckRequest(absl::string_view name,
                          const v1::GroupSettings& settings, uint32_t channel) {
  if (absl::Status s = ValidateGroupName("name", name); !s.ok()) return s;
  if (absl::Status s = CheckSettings(settings); !s.ok()) return s;
  if (channel != 0) return CheckChannel(channel);
  return absl::OkStatus();
}

absl::Status NoSuchGroup(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat(
      "no server group '", name, "'; ListGroups shows the groups there are"));
}

}  // namespace

std::string GroupConfigPrefix(absl::string_view group) {
  return absl::StrCat(kGroupsRoot, "/", group);
}

absl::StatusOr<v1::ServerGroup> GroupRegistry::Create(
    const v1::CreateGroupRequest& request) {
  if (absl::Status s = CheckRequest(request.name(), request.settings(),
                                    request.broadcast_channel());
      !s.ok()) {
    return s;
  }
  const std::string& name = request.name();
  std::optional<v1::ServerGroup> created;
  absl::StatusOr<uint64_t> revision =
      config_->Transact([&](const ConfigStore::View& view)
                            -> absl::StatusOr<std::vector<ConfigWrite>> {
        if (ReadGroup(view, name).has_value()) {
          return absl::AlreadyExistsError(
              absl::StrCat("server group '", name, "' already exists"));
        }
        uint32_t channel = 0;
        if (request.broadcast_channel() != 0) {
          channel = request.broadcast_channel();
          if (std::optional<std::string> holder =
                  ChannelHolder(view, channel)) {
            return ChannelTaken(channel, *holder);
          }
        } else {
          for (uint32_t candidate = 1; candidate <= kMaxChannel; ++candidate) {
            if (!ChannelHolder(view, candidate).has_value()) {
              channel = candidate;
              break;
            }
          }
          if (channel == 0) {
            return absl::ResourceExhaustedError(
                "every broadcast channel is taken; delete an unused group");
          }
        }
        v1::GroupSettings settings;
        settings.set_cache_type(kDefaultCacheType);
        settings.mutable_session_timeout_seconds()->set_value(
            kDefaultSessionTimeoutSeconds);
        settings.mutable_near_cache_max_entries()->set_value(
            kDefaultNearCacheMaxEntries);
        settings.mutable_segmentation_max_wait_ms()->set_value(
            kDefaultSegmentationMaxWaitMs);
        OverlaySettings(request.settings(), &settings);
        std::vector<ConfigWrite> writes;
        writes.push_back({SettingPath(name, kChannelKey), absl::StrCat(channel),
                          uint64_t{0}});
        writes.push_back({SettingPath(name, kCreateTimeKey),
                          absl::StrCat(absl::ToUnixSeconds(absl::Now())),
                          std::nullopt});
        AppendSettingWrites(name, settings, &writes);
        return writes;
      });
  if (!revision.ok()) return revision.status();
  return Get(name);
}

absl::StatusOr<v1::ServerGroup> GroupRegistry::Get(
    absl::string_view name) const {
  if (absl::Status s = ValidateGroupName("name", name); !s.ok()) return s;
  std::optional<v1::ServerGroup> group;
  // A read-only transaction gives a consistent view of all the settings.
  absl::StatusOr<uint64_t> read =
      config_->Transact([&](const ConfigStore::View& view) {
        group = ReadGroup(view, name);
        return std::vector<ConfigWrite>();
      });
  if (!read.ok()) return read.status();
  if (!group.has_value()) return NoSuchGroup(name);
  return *group;
}

std::vector<v1::ServerGroup> GroupRegistry::List() const {
  std::vector<v1::ServerGroup> groups;
  config_
      ->Transact([&](const ConfigStore::View& view) {
        for (const std::string& name : GroupNames(view)) {
          if (std::optional<v1::ServerGroup> group = ReadGroup(view, name)) {
            groups.push_back(std::move(*group));
          }
        }
        return std::vector<ConfigWrite>();
      })
      .IgnoreError();
  return groups;
}

absl::StatusOr<v1::ServerGroup> GroupRegistry::Update(
    const v1::UpdateGroupRequest& request) {
  if (absl::Status s = CheckRequest(request.name(), request.settings(),
                                    request.broadcast_channel());
      !s.ok()) {
    return s;
  }
  const std::string& name = request.name();
  absl::StatusOr<uint64_t> revision =
      config_->Transact([&](const ConfigStore::View& view)
                            -> absl::StatusOr<std::vector<ConfigWrite>> {
        std::optional<v1::ServerGroup> current = ReadGroup(view, name);
        if (!current.has_value()) return NoSuchGroup(name);
        if (request.expected_version() != 0 &&
            request.expected_version() != current->version()) {
          return absl::AbortedError(absl::StrCat(
              "group '", name, "' is at version ", current->version(),
              ", not the expected ", request.expected_version(),
              "; read it again and retry"));
        }
        std::vector<ConfigWrite> writes;
        if (request.broadcast_channel() != 0 &&
            request.broadcast_channel() != current->broadcast_channel()) {
          uint32_t channel = request.broadcast_channel();
          if (std::optional<std::string> holder =
                  ChannelHolder(view, channel)) {
            return ChannelTaken(channel, *holder);
          }
          writes.push_back({SettingPath(name, kChannelKey),
                            absl::StrCat(channel), std::nullopt});
        }
        AppendSettingWrites(name, request.settings(), &writes);
        return writes;
      });
  if (!revision.ok()) return revision.status();
  return Get(name);
}

absl::Status GroupRegistry::Delete(absl::string_view name) {
  if (absl::Status s = ValidateGroupName("name", name); !s.ok()) return s;
  return config_
      ->Transact([&](const ConfigStore::View& view)
                     -> absl::StatusOr<std::vector<ConfigWrite>> {
        if (!ReadGroup(view, name).has_value()) return NoSuchGroup(name);
        std::vector<ConfigWrite> writes;
        view.ForEachUnder(
            GroupConfigPrefix(name), [&](const v1::ConfigEntry& e) {
              writes.push_back({e.path(), std::nullopt, std::nullopt});
            });
        return writes;
      })
      .status();
}

absl::Status GroupRegistry::CheckConfigWrite(const ConfigStore::View& view,
                                             const ConfigWrite& write) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(write.path, absl::MaxSplits('/', 2));
  if (parts[0] != kGroupsRoot) return absl::OkStatus();
  if (parts.size() < 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", write.path,
        "' is reserved: group settings live at groups/<group>/<setting>; "
        "use CreateGroup and DeleteGroup for whole groups"));
  }
  absl::string_view group = parts[1];
  absl::string_view key = parts[2];
  if (!ReadGroup(view, group).has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no server group '", group, "' for '", write.path,
                     "'; create it with CreateGroup first"));
  }
  if (key == kChannelKey || key == kCreateTimeKey) {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", write.path,
        "' changes only through UpdateGroup (channels must stay unique)"));
  }
  const bool is_setting = key == kCacheTypeKey || key == kTimeoutKey ||
                          key == kNearCacheKey || key == kSegmentationWaitKey;
  if (!is_setting) return absl::OkStatus();
  if (!write.value.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", write.path,
                     "' is a group setting and cannot be deleted; set it "
                     "to another value or delete the group"));
  }
  const std::string& value = *write.value;
  uint32_t number = 0;
  if (key == kCacheTypeKey) {
    v1::CacheType type = v1::CACHE_TYPE_UNSPECIFIED;
    if (!v1::CacheType_Parse(value, &type) || !CheckCacheType(type).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", write.path, "' must be LOCAL or DISTRIBUTED, not '",
                       value, "'"));
    }
    return absl::OkStatus();
  }
  if (key == kTimeoutKey) {
    return ParseUint(write.path, value, 1, kMaxSessionTimeoutSeconds, &number);
  }
  if (key == kNearCacheKey) {
    return ParseUint(write.path, value, 0, kMaxNearCacheEntries, &number);
  }
  return ParseUint(write.path, value, 0, kMaxSegmentationWaitMs, &number);
}

}  // namespace parley::coordinator
