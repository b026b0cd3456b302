// parleyctl config get|set|list|watch|delete: the coordinator's versioned
// configuration store.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "services/runtime/profiles/field_value.h"
#include "tools/parleyctl/command.h"
#include "tools/parleyctl/common.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/table.h"

namespace parley::parleyctl {
namespace {

// Values print as text when they are UTF-8, else as base64.
Json EntryJson(const v1::ConfigEntry& entry) {
  Json out = Json::Object();
  out.Set("path", Json::String(entry.path()));
  out.Set("version", Json::Number(entry.version()));
  if (profiles::IsValidUtf8(entry.value())) {
    out.Set("value", Json::String(entry.value()));
  } else {
    out.Set("value_base64", Json::String(absl::Base64Escape(entry.value())));
  }
  return out;
}

std::string ValueText(const std::string& value) {
  if (!profiles::IsValidUtf8(value)) {
    return absl::StrCat("base64:", absl::Base64Escape(value));
  }
  std::string text = value;
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text;
}

Table EntryTable() { return Table({"path", "version", "value"}); }

void AddEntry(Table& table, const v1::ConfigEntry& entry) {
  table.AddRow(
      {entry.path(), absl::StrCat(entry.version()), ValueText(entry.value())});
}

absl::Status Hint(absl::Status status, const std::string& path) {
  if (absl::IsNotFound(status)) {
    return WithHint(std::move(status),
                    "list what exists with `parleyctl config list PREFIX`");
  }
  if (absl::IsAborted(status)) {
    return WithHint(
        std::move(status),
        absl::StrCat("someone changed '", path,
                     "' first; read its version with `parleyctl config get ",
                     path, "`, then retry with --expected_version=VERSION"));
  }
  return status;
}

absl::StatusOr<google::protobuf::UInt64Value> ExpectedVersion(
    Context& context) {
  google::protobuf::UInt64Value expected;
  absl::StatusOr<uint64_t> value =
      context.args().GetUint("expected_version", 0);
  if (!value.ok()) return value.status();
  expected.set_value(*value);
  return expected;
}

absl::Status RunGet(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::GetConfigRequest request;
  request.set_path(context.positional()[0]);
  absl::StatusOr<v1::ConfigEntry> entry =
      coordinator->Call(&v1::Coordinator::Stub::GetConfig, request);
  if (!entry.ok()) return Hint(entry.status(), request.path());
  if (context.json()) {
    context.PrintJson(EntryJson(*entry));
  } else if (context.args().GetBool("raw")) {
    context.out() << entry->value();
  } else {
    Table table = EntryTable();
    AddEntry(table, *entry);
    context.out() << table.Render();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadValue(Context& context) {
  const bool has_file = context.args().Has("value_file");
  const bool has_value = context.positional().size() > 1;
  if (has_file == has_value) {
    return UsageError("give the value as VALUE or with --value_file=FILE");
  }
  if (has_value) return context.positional()[1];
  const std::string file = context.args().Get("value_file", "");
  std::stringstream buffer;
  if (file == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return UsageError(absl::StrCat("cannot read ", file));
    buffer << in.rdbuf();
  }
  return buffer.str();
}

absl::Status RunSet(Context& context) {
  absl::StatusOr<std::string> value = ReadValue(context);
  if (!value.ok()) return value.status();
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::SetConfigRequest request;
  request.set_path(context.positional()[0]);
  request.set_value(*std::move(value));
  if (context.args().Has("expected_version")) {
    absl::StatusOr<google::protobuf::UInt64Value> expected =
        ExpectedVersion(context);
    if (!expected.ok()) return expected.status();
    *request.mutable_expected_version() = *expected;
  }
  absl::StatusOr<v1::ConfigEntry> entry =
      coordinator->Call(&v1::Coordinator::Stub::SetConfig, request);
  if (!entry.ok()) return Hint(entry.status(), request.path());
  if (context.json()) {
    context.PrintJson(EntryJson(*entry));
  } else {
    context.out() << "Set '" << entry->path() << "' (version "
                  << entry->version() << ").\n";
  }
  return absl::OkStatus();
}

absl::Status RunDelete(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::DeleteConfigRequest request;
  request.set_path(context.positional()[0]);
  if (context.args().Has("expected_version")) {
    absl::StatusOr<google::protobuf::UInt64Value> expected =
        ExpectedVersion(context);
    if (!expected.ok()) return expected.status();
    *request.mutable_expected_version() = *expected;
  }
  absl::StatusOr<v1::DeleteConfigResponse> deleted =
      coordinator->Call(&v1::Coordinator::Stub::DeleteConfig, request);
  if (!deleted.ok()) return Hint(deleted.status(), request.path());
  if (context.json()) {
    Json out = Json::Object();
    out.Set("deleted", Json::String(request.path()));
    out.Set("revision", Json::Number(deleted->revision()));
    context.PrintJson(out);
  } else {
    context.out() << "Deleted '" << request.path() << "'.\n";
  }
  return absl::OkStatus();
}

absl::Status RunList(Context& context) {
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::ListConfigRequest request;
  if (!context.positional().empty())
    request.set_prefix(context.positional()[0]);
  absl::StatusOr<v1::ListConfigResponse> listed =
      coordinator->Call(&v1::Coordinator::Stub::ListConfig, request);
  if (!listed.ok()) return listed.status();
  if (context.json()) {
    Json out = Json::Object();
    out.Set("revision", Json::Number(listed->revision()));
    Json& entries = out.Set("entries", Json::Array());
    for (const v1::ConfigEntry& entry : listed->entries()) {
      entries.Append(EntryJson(entry));
    }
    context.PrintJson(out);
    return absl::OkStatus();
  }
  if (listed->entries().empty()) {
    context.out() << "No entries under '" << request.prefix() << "'.\n";
    return absl::OkStatus();
  }
  Table table = EntryTable();
  for (const v1::ConfigEntry& entry : listed->entries()) AddEntry(table, entry);
  context.out() << table.Render();
  return absl::OkStatus();
}

absl::Status RunWatch(Context& context) {
  absl::StatusOr<uint64_t> count = context.args().GetUint("count", 0);
  if (!count.ok()) return count.status();
  absl::StatusOr<absl::Duration> duration =
      context.args().GetDuration("duration", absl::InfiniteDuration());
  if (!duration.ok()) return duration.status();
  absl::StatusOr<Endpoint> coordinator = context.Coordinator();
  if (!coordinator.ok()) return coordinator.status();
  v1::WatchConfigRequest request;
  if (!context.positional().empty())
    request.set_prefix(context.positional()[0]);
  v1::Coordinator::Stub stub(coordinator->channel());
  grpc::ClientContext call;
  Endpoint::SetDeadline(call, *duration);
  std::unique_ptr<grpc::ClientReader<v1::ConfigEvent>> reader =
      stub.WatchConfig(&call, request);
  v1::ConfigEvent event;
  uint64_t seen = 0;
  while ((*count == 0 || seen < *count) && reader->Read(&event)) {
    ++seen;
    const std::string kind = v1::ConfigEvent::Kind_Name(event.kind());
    if (context.json()) {
      Json out = Json::Object();
      out.Set("kind", Json::String(kind));
      out.Set("revision", Json::Number(event.revision()));
      Json& entries = out.Set("entries", Json::Array());
      for (const v1::ConfigEntry& entry : event.entries()) {
        entries.Append(EntryJson(entry));
      }
      // One event per line (JSON lines), as events arrive.
      context.out() << out.Serialize(false) << "\n";
    } else {
      context.out() << kind << " at revision " << event.revision() << "\n";
      for (const v1::ConfigEntry& entry : event.entries()) {
        context.out() << "  " << entry.path() << " (version " << entry.version()
                      << ")"
                      << (event.kind() == v1::ConfigEvent::DELETE
                              ? ""
                              : absl::StrCat(" = ", ValueText(entry.value())))
                      << "\n";
      }
    }
    context.out().flush();
  }
  if (*count > 0 && seen >= *count) {
    call.TryCancel();
    return absl::OkStatus();
  }
  const grpc::Status status = reader->Finish();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      *duration != absl::InfiniteDuration()) {
    return absl::OkStatus();  // --duration ended the watch.
  }
  if (!status.ok()) return coordinator->Describe(status);
  return absl::OkStatus();
}

std::vector<OptionSpec> CasOption(const char* what) {
  return {{"expected_version", "N",
           absl::StrCat(what,
                        " only if the entry is at this version (0: only if it "
                        "does not exist); ABORTED otherwise"),
           ""}};
}

}  // namespace

void AddConfigCommands(std::vector<Command>& commands) {
  Command get;
  get.name = "config get";
  get.arguments = "PATH";
  get.summary = "Show a configuration entry and its version";
  get.options = {{"raw", "", "print only the value, as stored", ""}};
  get.min_args = get.max_args = 1;
  get.run = RunGet;
  commands.push_back(std::move(get));

  Command set;
  set.name = "config set";
  set.arguments = "PATH [VALUE]";
  set.summary =
      "Write a configuration entry (compare-and-set with "
      "--expected_version)";
  set.details =
      "PATH: segments of letters, digits, '_', '.' and '-' joined by '/'.\n"
      "The value is VALUE or the content of --value_file (- reads standard\n"
      "input). Prints the entry's new version.\n";
  set.options = CasOption("write");
  set.options.push_back(
      {"value_file", "FILE", "read the value from FILE (- for stdin)", ""});
  set.min_args = 1;
  set.max_args = 2;
  set.run = RunSet;
  commands.push_back(std::move(set));

  Command list;
  list.name = "config list";
  list.arguments = "[PREFIX]";
  list.summary = "List configuration entries at or under a path";
  list.details =
      "PREFIX \"a/b\" matches a/b and a/b/c, not a/bc; none lists all.\n";
  list.max_args = 1;
  list.run = RunList;
  commands.push_back(std::move(list));

  Command watch;
  watch.name = "config watch";
  watch.arguments = "[PREFIX]";
  watch.summary = "Print the entries under a path, then every change";
  watch.details =
      "The first event is a SNAPSHOT of the current entries; PUT and DELETE\n"
      "follow as they happen. Runs until interrupted, --count events or\n"
      "--duration. With --json, one JSON object per line.\n";
  watch.options = {
      {"count", "N", "stop after N events", ""},
      {"duration", "DURATION", "stop after this long (e.g. 30s)", ""},
  };
  watch.max_args = 1;
  watch.run = RunWatch;
  commands.push_back(std::move(watch));

  Command remove;
  remove.name = "config delete";
  remove.arguments = "PATH";
  remove.summary = "Delete a configuration entry";
  remove.options = CasOption("delete");
  remove.min_args = remove.max_args = 1;
  remove.run = RunDelete;
  commands.push_back(std::move(remove));
}

}  // namespace parley::parleyctl
