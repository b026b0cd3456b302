// parleyctl session inspect: what a runtime server and the cache tier know
// about one visitor session.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/runtime.grpc.pb.h"
#include "proto/parley/v1/session_state.pb.h"
#include "services/runtime/distributed/session_codec.h"
#include "tools/parleyctl/command.h"
#include "tools/parleyctl/common.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/table.h"

namespace parley::parleyctl {
namespace {

// The session's stored state, read from any cache node (each forwards to
// the partition's primary).
struct StoredSession {
  bool found = false;
  v1::SessionState state;
  int64_t expire_time_ms = 0;
};

absl::StatusOr<StoredSession> ReadStoredSession(Context& context,
                                                const std::string& session_id) {
  absl::StatusOr<std::vector<CacheNodeRef>> nodes = CacheNodes(context);
  if (!nodes.ok()) return nodes.status();
  v1::GetRequest request;
  request.set_namespace_(absl::StrCat("sessions/", context.options().group));
  request.set_key(session_id);
  absl::Status last = absl::UnavailableError("no cache nodes have joined");
  for (const CacheNodeRef& node : *nodes) {
    absl::StatusOr<Endpoint> endpoint =
        context.Server("cache node", node.address);
    if (!endpoint.ok()) return endpoint.status();
    absl::StatusOr<v1::GetResponse> got =
        endpoint->Call(&v1::CacheNode::Stub::Get, request);
    if (!got.ok()) {
      last = got.status();
      continue;
    }
    StoredSession stored;
    stored.found = got->found();
    if (stored.found) {
      absl::StatusOr<v1::SessionState> state =
          distributed::DecodeSession(got->entry().value(), request.key());
      if (!state.ok()) return state.status();
      stored.state = *std::move(state);
      stored.expire_time_ms = got->entry().expire_time_ms();
    }
    return stored;
  }
  return last;
}

std::string TimeFromMillis(int64_t millis) {
  if (millis == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(millis),
                          absl::UTCTimeZone());
}

std::string TypeOf(const v1::NameValue& value) {
  switch (value.value_case()) {
    case v1::NameValue::kStringValue:
      return "STRING";
    case v1::NameValue::kNumberValue:
      return "NUMBER";
    case v1::NameValue::kDatetimeValue:
      return "DATETIME";
    default:
      return "NULL";
  }
}

void PrintText(Context& context, const std::string& session_id,
               const v1::ServerGroup& group, const std::string& runtime,
               const v1::GetProfileResponse& profile,
               const StoredSession* stored) {
  std::ostream& out = context.out();
  out << "Session '" << session_id << "' on group '" << group.name() << "' ("
      << CacheTypeName(group.settings().cache_type()) << "), read through "
      << runtime << "\n";
  if (stored != nullptr && stored->found) {
    const v1::SessionState& s = stored->state;
    std::vector<std::string> id;
    for (const v1::NameValue& value : s.audience_id()) {
      id.push_back(absl::StrCat(value.name(), "=", NameValueText(value)));
    }
    out << "Channel:      " << s.interactive_channel()
        << " (deployment version " << s.deployment_version() << ")\n"
        << "Audience:     " << s.audience_level() << " "
        << absl::StrJoin(id, ", ") << "\n"
        << "Segments:     "
        << (s.segments().empty() ? "(none)" : absl::StrJoin(s.segments(), ", "))
        << " (segmentation "
        << absl::StripPrefix(
               v1::SegmentationStatus_Name(s.segmentation_status()),
               "SEGMENTATION_")
        << ")\n";
    if (!s.segmentation_error().empty()) {
      out << "Segmentation error: " << s.segmentation_error() << "\n";
    }
    out << "Started:      " << FormatTime(s.start_time()) << "\n"
        << "Last access:  " << FormatTime(s.last_access_time()) << "\n"
        << "Expires:      " << TimeFromMillis(stored->expire_time_ms) << "\n"
        << "Debug:        " << (s.debug() ? "on" : "off") << "\n";
  } else if (group.settings().cache_type() == v1::LOCAL) {
    out << "(A LOCAL group keeps the session in one runtime server's memory; "
           "only its profile is shown.)\n";
  }
  out << "\nProfile and session parameters:\n";
  Table values({"name", "value", "type"});
  for (const v1::NameValue& value : profile.profile()) {
    values.AddRow({value.name(), NameValueText(value), TypeOf(value)});
  }
  out << values.Render();
  if (stored == nullptr || !stored->found) return;
  if (!stored->state.offers().empty()) {
    Table offers({"offer", "presented", "accepted", "rejected"});
    std::vector<std::string> names;
    for (const auto& [name, history] : stored->state.offers()) {
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const v1::OfferHistory& history = stored->state.offers().at(name);
      offers.AddRow({name, absl::StrCat(history.presentations()),
                     history.accepted() ? "yes" : "",
                     history.rejected() ? "yes" : ""});
    }
    out << "\nOffers in this session:\n" << offers.Render();
  }
  if (!stored->state.last_recommended().empty()) {
    Table last({"interaction point", "offer", "treatment code", "score"});
    for (const v1::Presentation& p : stored->state.last_recommended()) {
      last.AddRow({p.interaction_point(), p.offer(), p.treatment_code(),
                   Json::Number(p.score()).text()});
    }
    out << "\nLast recommended:\n" << last.Render();
  }
}

absl::Status RunInspect(Context& context) {
  const std::string session_id = context.positional()[0];
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::GetGroupRequest group_request;
  group_request.set_name(context.options().group);
  absl::StatusOr<v1::ServerGroup> group =
      coordinator->Call(&v1::Coordinator::Stub::GetGroup, group_request);
  if (!group.ok()) return GroupHint(group.status(), context.options().group);

  absl::StatusOr<Endpoint> runtime = context.Runtime();
  if (!runtime.ok()) return runtime.status();
  v1::GetProfileRequest request;
  request.set_session_id(session_id);
  absl::StatusOr<v1::GetProfileResponse> profile =
      runtime->Call(&v1::InteractRuntime::Stub::GetProfile, request);
  if (!profile.ok()) return profile.status();
  for (const v1::AdvisoryMessage& advisory : profile->advisory_messages()) {
    if (advisory.code() == v1::INVALID_SESSION_ID) {
      return WithHint(
          absl::NotFoundError(absl::StrCat(
              "no session '", session_id, "' on group '", group->name(),
              "' (asked ", runtime->address(), ")")),
          absl::StrCat(
              "sessions end after ",
              group->settings().session_timeout_seconds().value(),
              " s idle (`parleyctl groups get ", group->name(),
              "`); check the id and --group",
              group->settings().cache_type() == v1::LOCAL
                  ? ", and for a LOCAL group pass the --runtime that holds it"
                  : ""));
    }
  }

  StoredSession stored;
  const bool distributed = group->settings().cache_type() == v1::DISTRIBUTED;
  if (distributed) {
    absl::StatusOr<StoredSession> read = ReadStoredSession(context, session_id);
    if (!read.ok()) return read.status();
    stored = *std::move(read);
  }
  if (context.json()) {
    Json out = Json::Object();
    out.Set("session_id", Json::String(session_id));
    out.Set("group", Json::String(group->name()));
    out.Set("cache_type",
            Json::String(CacheTypeName(group->settings().cache_type())));
    out.Set("status", Json::String(v1::ResponseStatus_Name(profile->status())));
    Json& values = out.Set("profile", Json::Array());
    for (const v1::NameValue& value : profile->profile()) {
      values.Append(ProtoToJson(value));
    }
    if (distributed && stored.found) {
      out.Set("state", ProtoToJson(stored.state));
      out.Set("expire_time",
              Json::String(TimeFromMillis(stored.expire_time_ms)));
    } else {
      out.Set("state", Json::Null());
    }
    context.PrintJson(out);
  } else {
    PrintText(context, session_id, *group, runtime->address(), *profile,
              distributed ? &stored : nullptr);
  }
  return absl::OkStatus();
}

}  // namespace

void AddSessionCommands(std::vector<Command>& commands) {
  Command inspect;
  inspect.name = "session inspect";
  inspect.arguments = "SESSION_ID";
  inspect.summary = "Show a visitor session: profile, segments, offers";
  inspect.details =
      "Asks a runtime server of the group for the session's profile and\n"
      "session parameters (InteractRuntime.GetProfile, which counts as an\n"
      "access) and, for a DISTRIBUTED group, reads the stored session from\n"
      "the cache tier: channel and deployment version, audience, segments,\n"
      "the offers presented, accepted and rejected, the last recommended\n"
      "offers and when it expires.\n";
  inspect.min_args = inspect.max_args = 1;
  inspect.run = RunInspect;
  commands.push_back(std::move(inspect));
}

}  // namespace parley::parleyctl
