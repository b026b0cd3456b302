// parleyctl profiles load: streams a CSV file to Profiles.LoadProfiles with
// a progress bar and a bad-row report.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "grpcpp/client_context.h"
#include "proto/parley/v1/profiles.grpc.pb.h"
#include "tools/parleyctl/command.h"
#include "tools/parleyctl/common.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/table.h"

namespace parley::parleyctl {
namespace {

constexpr int kBarWidth = 30;

// The progress line, redrawn in place on a terminal.
std::string ProgressLine(const v1::LoadProfilesProgress& progress,
                         int64_t total_bytes) {
  std::string line;
  if (total_bytes > 0) {
    const double fraction =
        static_cast<double>(progress.bytes_processed()) / total_bytes;
    line = absl::StrFormat("%s %3.0f%% ", ProgressBar(fraction, kBarWidth),
                           fraction * 100 > 100 ? 100 : fraction * 100);
  }
  absl::StrAppend(&line, progress.rows_stored(), " rows stored, ",
                  progress.rows_rejected(), " rejected (",
                  HumanBytes(static_cast<double>(progress.bytes_processed())),
                  ")");
  return line;
}

absl::StatusOr<std::string> ResolveLevel(Context& context,
                                         const std::string& channel) {
  std::string level = context.args().Get("level", "");
  if (!level.empty()) return level;
  absl::StatusOr<v1::InteractiveChannel> active =
      ActiveChannel(context, channel);
  if (!active.ok()) return active.status();
  if (active->audience_levels_size() == 1) {
    return active->audience_levels(0).name();
  }
  std::vector<std::string> names;
  for (const v1::AudienceLevel& l : active->audience_levels()) {
    names.push_back(l.name());
  }
  return UsageError(absl::StrCat("choose an audience level with --level (",
                                 absl::StrJoin(names, ", "), ")"));
}

absl::Status RunLoad(Context& context) {
  const std::string path = context.positional()[0];
  std::ifstream file;
  int64_t total_bytes = 0;
  if (path != "-") {
    file.open(path, std::ios::binary | std::ios::ate);
    if (!file) return UsageError(absl::StrCat("cannot read ", path));
    total_bytes = static_cast<int64_t>(file.tellg());
    file.seekg(0);
  }
  std::istream& in = path == "-" ? std::cin : file;
  absl::StatusOr<uint64_t> chunk_kb = context.args().GetUint("chunk_kb", 256);
  if (!chunk_kb.ok()) return chunk_kb.status();
  if (*chunk_kb == 0 || *chunk_kb > 1024) {
    return UsageError("--chunk_kb is 1-1024");
  }
  absl::StatusOr<std::string> channel =
      ResolveChannel(context, context.args().Get("channel", ""));
  if (!channel.ok()) return channel.status();
  absl::StatusOr<std::string> level = ResolveLevel(context, *channel);
  if (!level.ok()) return level.status();
  absl::StatusOr<Endpoint> runtime = context.Runtime();
  if (!runtime.ok()) return runtime.status();

  v1::Profiles::Stub stub(runtime->channel());
  grpc::ClientContext call;
  if (context.args().Has("timeout")) {
    Endpoint::SetDeadline(call, context.options().timeout);
  }
  auto stream = stub.LoadProfiles(&call);
  // Chunks go out from their own thread while progress comes back here.
  std::thread writer([&] {
    std::string buffer(static_cast<size_t>(*chunk_kb) * 1024, '\0');
    bool first = true;
    while (true) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const std::streamsize got = in.gcount();
      if (got <= 0 && !first) break;
      v1::LoadProfilesRequest request;
      if (first) {
        request.set_interactive_channel(*channel);
        request.set_audience_level(*level);
        first = false;
      }
      request.set_csv_chunk(buffer.data(), static_cast<size_t>(got));
      if (!stream->Write(request)) break;  // The server ended the call.
      if (got <= 0) break;
    }
    stream->WritesDone();
  });
  const bool draw = context.stderr_is_tty() && !context.json();
  v1::LoadProfilesProgress progress;
  v1::LoadProfilesProgress last;
  while (stream->Read(&progress)) {
    last = progress;
    if (draw)
      context.err() << "\r" << ProgressLine(progress, total_bytes) << "\033[K"
                    << std::flush;
  }
  writer.join();
  const grpc::Status status = stream->Finish();
  if (draw) context.err() << "\n";
  if (!status.ok()) {
    absl::Status failed = runtime->Describe(status);
    if (absl::IsNotFound(failed) || absl::IsInvalidArgument(failed)) {
      return WithHint(
          failed,
          absl::StrCat("the channel must be deployed on the runtime server's "
                       "group (`parleyctl deployments list`) and the level one "
                       "of its audience levels; the file needs a header row "
                       "with the level's audience-ID fields"));
    }
    return failed;
  }
  if (!last.done()) {
    return absl::UnavailableError(
        "the load ended without a final report; run it again (loading the "
        "same rows again changes nothing)");
  }
  if (context.json()) {
    context.PrintJson(ProtoToJson(last));
  } else {
    std::ostream& out = context.out();
    out << "Loaded " << path << " into channel '" << *channel << "' level '"
        << *level << "' through " << runtime->address() << ": "
        << last.rows_read() << " rows read, " << last.rows_stored()
        << " stored, " << last.rows_rejected() << " rejected.\n";
    if (last.errors_size() > 0) {
      Table table({"line", "column", "problem"});
      for (const v1::ProfileRowError& error : last.errors()) {
        table.AddRow(
            {absl::StrCat(error.line()), error.column(), error.message()});
      }
      out << "\nRejected rows:\n" << table.Render();
      if (last.errors_not_listed() > 0) {
        out << "... and " << last.errors_not_listed()
            << " more rejected rows not listed.\n";
      }
    }
  }
  if (last.rows_rejected() > 0) {
    return AlreadyReported(WithHint(
        absl::FailedPreconditionError(absl::StrCat(
            last.rows_rejected(), " of ", last.rows_read(), " rows of ", path,
            " were rejected; the other rows are stored")),
        absl::StrCat("fix the lines listed and load ", path,
                     " again: rows already stored are keyed by their audience "
                     "ID, so loading them again changes nothing")));
  }
  return absl::OkStatus();
}

}  // namespace

void AddProfilesCommands(std::vector<Command>& commands) {
  Command load;
  load.name = "profiles load";
  load.arguments = "FILE.csv";
  load.summary = "Load visitor profiles from a CSV file";
  load.details =
      "FILE.csv (- for standard input) has a header row with the audience\n"
      "level's audience-ID fields and profile attributes, then one visitor\n"
      "per row; the deployed channel's schema types the cells. The file is\n"
      "streamed to a runtime server of the group in chunks; on a terminal a\n"
      "progress bar shows the bytes processed and rows stored. Bad rows are\n"
      "skipped and listed at the end with their line and column, and the\n"
      "command then exits 1 (the good rows are stored; loading a file again\n"
      "changes nothing for rows already stored).\n";
  load.options = {
      {"channel", "NAME", "the deployed channel whose schema types the columns",
       "the only channel deployed on the group"},
      {"level", "NAME", "the audience level",
       "the channel's only audience level"},
      {"chunk_kb", "N", "size of each streamed chunk in KiB, 1-1024", "256"},
  };
  load.min_args = load.max_args = 1;
  load.run = RunLoad;
  commands.push_back(std::move(load));
}

}  // namespace parley::parleyctl
