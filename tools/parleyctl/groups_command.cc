// parleyctl groups list|get|create|set|delete: server groups.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "tools/parleyctl/command.h"
#include "tools/parleyctl/common.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/table.h"

namespace parley::parleyctl {
namespace {

std::vector<OptionSpec> SettingOptions() {
  return {
      {"cache_type", "LOCAL|DISTRIBUTED",
       "where sessions live: one server's memory or the cache tier", ""},
      {"session_timeout_seconds", "N", "idle session timeout, 1-86400", ""},
      {"near_cache_max_entries", "N",
       "sessions in each runtime server's near cache (0 disables)", ""},
      {"segmentation_max_wait_ms", "N",
       "how long GetOffers waits for segmentation still running", ""},
      {"broadcast_channel", "N", "invalidation broadcast channel, 1-65535", ""},
  };
}

// Reads the setting options into `settings` and `channel`.
absl::Status ReadSettings(const ParsedArgs& args, v1::GroupSettings& settings,
                          uint32_t& channel) {
  if (args.Has("cache_type")) {
    const std::string type = absl::AsciiStrToUpper(args.Get("cache_type", ""));
    v1::CacheType parsed;
    if (!v1::CacheType_Parse(type, &parsed) ||
        parsed == v1::CACHE_TYPE_UNSPECIFIED) {
      return UsageError(
          absl::StrCat("--cache_type is LOCAL or DISTRIBUTED, not '",
                       args.Get("cache_type", ""), "'"));
    }
    settings.set_cache_type(parsed);
  }
  struct Wrapper {
    const char* name;
    google::protobuf::UInt32Value* (v1::GroupSettings::*field)();
  };
  for (const Wrapper& wrapper :
       {Wrapper{"session_timeout_seconds",
                &v1::GroupSettings::mutable_session_timeout_seconds},
        Wrapper{"near_cache_max_entries",
                &v1::GroupSettings::mutable_near_cache_max_entries},
        Wrapper{"segmentation_max_wait_ms",
                &v1::GroupSettings::mutable_segmentation_max_wait_ms}}) {
    if (!args.Has(wrapper.name)) continue;
    absl::StatusOr<uint64_t> value = args.GetUint(wrapper.name, 0);
    if (!value.ok()) return value.status();
    if (*value > UINT32_MAX) {
      return UsageError(absl::StrCat("--", wrapper.name, " is too large"));
    }
    (settings.*wrapper.field)()->set_value(static_cast<uint32_t>(*value));
  }
  absl::StatusOr<uint64_t> broadcast = args.GetUint("broadcast_channel", 0);
  if (!broadcast.ok()) return broadcast.status();
  if (*broadcast > 65535) {
    return UsageError("--broadcast_channel is 1-65535");
  }
  channel = static_cast<uint32_t>(*broadcast);
  return absl::OkStatus();
}

std::vector<std::string> GroupRow(const v1::ServerGroup& group) {
  const v1::GroupSettings& s = group.settings();
  return {group.name(),
          CacheTypeName(s.cache_type()),
          absl::StrCat(s.session_timeout_seconds().value(), "s"),
          absl::StrCat(s.near_cache_max_entries().value()),
          absl::StrCat(s.segmentation_max_wait_ms().value(), "ms"),
          absl::StrCat(group.broadcast_channel()),
          absl::StrCat(group.live_members()),
          absl::StrCat(group.version())};
}

Table GroupTable() {
  return Table({"name", "cache type", "session timeout", "near cache",
                "segmentation wait", "broadcast", "members", "version"});
}

void PrintGroup(Context& context, const v1::ServerGroup& group) {
  if (context.json()) {
    context.PrintJson(ProtoToJson(group));
    return;
  }
  Table table = GroupTable();
  table.AddRow(GroupRow(group));
  context.out() << table.Render();
}

absl::Status NotFoundHint(absl::Status status, const std::string& name) {
  if (!absl::IsNotFound(status)) return status;
  return WithHint(std::move(status),
                  absl::StrCat("group '", name,
                               "' does not exist; list the groups with "
                               "`parleyctl groups list`"));
}

absl::Status RunList(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  absl::StatusOr<v1::ListGroupsResponse> groups = coordinator->Call(
      &v1::Coordinator::Stub::ListGroups, v1::ListGroupsRequest());
  if (!groups.ok()) return groups.status();
  if (context.json()) {
    context.PrintJson(ProtoToJson(*groups));
    return absl::OkStatus();
  }
  if (groups->groups().empty()) {
    context.out() << "No server groups; create one with `parleyctl groups "
                     "create NAME`.\n";
    return absl::OkStatus();
  }
  Table table = GroupTable();
  for (const v1::ServerGroup& group : groups->groups()) {
    table.AddRow(GroupRow(group));
  }
  context.out() << table.Render();
  return absl::OkStatus();
}

absl::Status RunGet(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::GetGroupRequest request;
  request.set_name(context.positional()[0]);
  absl::StatusOr<v1::ServerGroup> group =
      coordinator->Call(&v1::Coordinator::Stub::GetGroup, request);
  if (!group.ok()) return NotFoundHint(group.status(), request.name());
  PrintGroup(context, *group);
  return absl::OkStatus();
}

absl::Status RunCreate(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::CreateGroupRequest request;
  request.set_name(context.positional()[0]);
  uint32_t channel = 0;
  if (absl::Status s =
          ReadSettings(context.args(), *request.mutable_settings(), channel);
      !s.ok()) {
    return s;
  }
  request.set_broadcast_channel(channel);
  absl::StatusOr<v1::ServerGroup> group =
      coordinator->Call(&v1::Coordinator::Stub::CreateGroup, request);
  if (!group.ok()) {
    if (absl::IsAlreadyExists(group.status())) {
      return WithHint(
          group.status(),
          absl::StrCat("change its settings with `parleyctl groups "
                       "set ",
                       request.name(), "`, or choose another name"));
    }
    return group.status();
  }
  PrintGroup(context, *group);
  return absl::OkStatus();
}

absl::Status RunSet(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::UpdateGroupRequest request;
  request.set_name(context.positional()[0]);
  uint32_t channel = 0;
  if (absl::Status s =
          ReadSettings(context.args(), *request.mutable_settings(), channel);
      !s.ok()) {
    return s;
  }
  request.set_broadcast_channel(channel);
  absl::StatusOr<uint64_t> expected =
      context.args().GetUint("expected_version", 0);
  if (!expected.ok()) return expected.status();
  request.set_expected_version(*expected);
  if (request.settings().ByteSizeLong() == 0 && channel == 0) {
    return UsageError(
        "nothing to change: give at least one of --cache_type, "
        "--session_timeout_seconds, --near_cache_max_entries, "
        "--segmentation_max_wait_ms, --broadcast_channel");
  }
  absl::StatusOr<v1::ServerGroup> group =
      coordinator->Call(&v1::Coordinator::Stub::UpdateGroup, request);
  if (!group.ok()) {
    if (absl::IsAborted(group.status())) {
      return WithHint(
          group.status(),
          absl::StrCat("the group changed since version ", *expected,
                       "; read it again with `parleyctl "
                       "groups get ",
                       request.name(), "` and retry with its version"));
    }
    return NotFoundHint(group.status(), request.name());
  }
  PrintGroup(context, *group);
  return absl::OkStatus();
}

absl::Status RunDelete(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::DeleteGroupRequest request;
  request.set_name(context.positional()[0]);
  absl::StatusOr<v1::DeleteGroupResponse> deleted =
      coordinator->Call(&v1::Coordinator::Stub::DeleteGroup, request);
  if (!deleted.ok()) {
    if (absl::IsFailedPrecondition(deleted.status())) {
      return WithHint(deleted.status(),
                      "stop the group's runtime servers first; `parleyctl "
                      "status` lists them");
    }
    return NotFoundHint(deleted.status(), request.name());
  }
  if (context.json()) {
    Json out = Json::Object();
    out.Set("deleted", Json::String(request.name()));
    context.PrintJson(out);
  } else {
    context.out() << "Deleted group '" << request.name() << "'.\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddGroupsCommands(std::vector<Command>& commands) {
  Command list;
  list.name = "groups list";
  list.summary = "List the server groups and their settings";
  list.run = RunList;
  commands.push_back(std::move(list));

  Command get;
  get.name = "groups get";
  get.arguments = "NAME";
  get.summary = "Show one server group";
  get.min_args = get.max_args = 1;
  get.run = RunGet;
  commands.push_back(std::move(get));

  Command create;
  create.name = "groups create";
  create.arguments = "NAME";
  create.summary = "Create a server group";
  create.details =
      "NAME: 1-63 lower-case letters, digits and '-', starting with a\n"
      "letter. Unset settings take their defaults (DISTRIBUTED, 300 s,\n"
      "10000 entries, 5000 ms, the lowest free broadcast channel).\n";
  create.options = SettingOptions();
  create.min_args = create.max_args = 1;
  create.run = RunCreate;
  commands.push_back(std::move(create));

  Command set;
  set.name = "groups set";
  set.arguments = "NAME";
  set.summary = "Change a server group's settings";
  set.details =
      "Only the settings given change. With --expected_version the change\n"
      "applies only if the group is still at that version (the VERSION\n"
      "column of `parleyctl groups list`); otherwise it fails with ABORTED.\n";
  set.options = SettingOptions();
  set.options.push_back({"expected_version", "N",
                         "apply only if the group is at this version", ""});
  set.min_args = set.max_args = 1;
  set.run = RunSet;
  commands.push_back(std::move(set));

  Command remove;
  remove.name = "groups delete";
  remove.arguments = "NAME";
  remove.summary = "Delete a server group that has no live members";
  remove.min_args = remove.max_args = 1;
  remove.run = RunDelete;
  commands.push_back(std::move(remove));
}

}  // namespace parley::parleyctl
