// parleyctl history export: the group's contact and response history as CSV
// or JSON lines.
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "proto/parley/v1/history.grpc.pb.h"
#include "tools/parleyctl/command.h"
#include "tools/parleyctl/common.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/table.h"

namespace parley::parleyctl {
namespace {

// --since: RFC 3339, a date (midnight UTC), or a duration back from now.
absl::StatusOr<absl::Time> ParseSince(const std::string& text) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &time, &error)) {
    return time;
  }
  absl::Duration ago;
  if (absl::ParseDuration(text, &ago) && ago >= absl::ZeroDuration()) {
    return absl::Now() - ago;
  }
  return UsageError(absl::StrCat(
      "--since takes an RFC 3339 time (2026-03-01T12:00:00Z), a date "
      "(2026-03-01) or a duration back from now (24h), not '",
      text, "'"));
}

absl::Status RunExport(Context& context) {
  const std::string format = absl::AsciiStrToLower(
      context.args().Get("format", context.json() ? "jsonl" : "csv"));
  v1::ExportHistoryRequest request;
  if (format == "csv") {
    request.set_format(v1::CSV);
  } else if (format == "jsonl" || format == "json_lines") {
    request.set_format(v1::JSON_LINES);
  } else {
    return UsageError(
        absl::StrCat("--format is csv or jsonl, not '", format, "'"));
  }
  if (context.args().Has("since")) {
    absl::StatusOr<absl::Time> since =
        ParseSince(context.args().Get("since", ""));
    if (!since.ok()) return since.status();
    const int64_t nanos = absl::ToUnixNanos(*since);
    request.mutable_since()->set_seconds(nanos / 1000000000);
    request.mutable_since()->set_nanos(
        static_cast<int32_t>(nanos % 1000000000));
  }
  const std::string output = context.args().Get("output", "");
  std::ofstream file;
  const std::string partial = output + ".partial";
  if (!output.empty()) {
    file.open(partial, std::ios::binary | std::ios::trunc);
    if (!file) return UsageError(absl::StrCat("cannot write ", partial));
  }
  std::ostream& sink = output.empty() ? context.out() : file;

  absl::StatusOr<Endpoint> runtime = context.Runtime();
  if (!runtime.ok()) return runtime.status();
  v1::History::Stub stub(runtime->channel());
  grpc::ClientContext call;
  if (context.args().Has("timeout")) {
    Endpoint::SetDeadline(call, context.options().timeout);
  }
  auto reader = stub.ExportHistory(&call, request);
  v1::ExportHistoryChunk chunk;
  uint64_t records = 0;
  uint64_t bytes = 0;
  while (reader->Read(&chunk)) {
    sink << chunk.data();
    records += chunk.records();
    bytes += chunk.data().size();
  }
  const grpc::Status status = reader->Finish();
  sink.flush();
  if (!status.ok()) {
    if (!output.empty()) std::remove(partial.c_str());
    return runtime->Describe(status);
  }
  if (!output.empty()) {
    file.close();
    if (!file || std::rename(partial.c_str(), output.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot write ", output));
    }
    if (context.json()) {
      Json out = Json::Object();
      out.Set("output", Json::String(output));
      out.Set("format", Json::String(v1::ExportFormat_Name(request.format())));
      out.Set("records", Json::Number(records));
      out.Set("bytes", Json::Number(bytes));
      context.PrintJson(out);
    } else {
      context.out() << "Exported " << records << " history records ("
                    << HumanBytes(static_cast<double>(bytes)) << ") of group '"
                    << context.options().group << "' to " << output << ".\n";
    }
  } else if (context.stderr_is_tty()) {
    context.err() << "Exported " << records << " history records.\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddHistoryCommands(std::vector<Command>& commands) {
  Command history;
  history.name = "history export";
  history.summary = "Export the group's contact and response history";
  history.details =
      "Streams every contact, acceptance and rejection the group logged,\n"
      "oldest first, from a runtime server of the group: CSV with a header\n"
      "row, or JSON lines (the default with --json). Written to standard\n"
      "output, or to --output FILE (replaced only when the export is\n"
      "complete; with --json a summary object is printed).\n";
  history.options = {
      {"format", "csv|jsonl", "output format", "csv; jsonl with --json"},
      {"since", "TIME",
       "only records at or after TIME: RFC 3339, a date, or a duration back "
       "from now (24h)",
       ""},
      {"output", "FILE", "write the export to FILE", "standard output"},
  };
  history.run = RunExport;
  commands.push_back(std::move(history));
}

}  // namespace parley::parleyctl
