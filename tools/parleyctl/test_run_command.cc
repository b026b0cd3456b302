// parleyctl test-run: runs a deployed flowchart over visitors from a CSV
// file on a runtime server.
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/parley/v1/runtime.grpc.pb.h"
#include "tools/parleyctl/command.h"
#include "tools/parleyctl/common.h"
#include "tools/parleyctl/csv_rows.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/table.h"

namespace parley::parleyctl {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return UsageError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Advisories(const v1::TestRunResponse& response) {
  std::vector<std::string> lines;
  for (const v1::AdvisoryMessage& advisory : response.advisory_messages()) {
    lines.push_back(absl::StrCat(advisory.message(),
                                 advisory.detail().empty() ? "" : ": ",
                                 advisory.detail()));
  }
  return absl::StrJoin(lines, "; ");
}

absl::Status RunTestRun(Context& context) {
  const std::string path = context.positional()[0];
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::string> channel_name =
      ResolveChannel(context, context.args().Get("channel", ""));
  if (!channel_name.ok()) return channel_name.status();
  absl::StatusOr<v1::InteractiveChannel> channel =
      ActiveChannel(context, *channel_name);
  if (!channel.ok()) return channel.status();
  std::string flowchart = context.args().Get("flowchart", "");
  if (flowchart.empty()) {
    if (channel->flowcharts_size() != 1) {
      std::vector<std::string> names;
      for (const v1::Flowchart& f : channel->flowcharts()) {
        names.push_back(f.name());
      }
      return UsageError(absl::StrCat("choose a flowchart with --flowchart (",
                                     absl::StrJoin(names, ", "), ")"));
    }
    flowchart = channel->flowcharts(0).name();
  }
  absl::StatusOr<ColumnTypes> types = FlowchartInputs(*channel, flowchart);
  if (!types.ok())
    return WithHint(UsageError(types.status().message()),
                    "choose one with --flowchart");
  absl::StatusOr<TestRunRows> rows = ParseTestRunCsv(*text, *types);
  if (!rows.ok()) {
    return WithHint(
        absl::InvalidArgumentError(
            absl::StrCat(path, ": ", rows.status().message())),
        absl::StrCat("fix ", path,
                     "; its header names the flowchart's inputs (audience-ID "
                     "fields, profile attributes, session parameters)"));
  }

  absl::StatusOr<Endpoint> runtime = context.Runtime();
  if (!runtime.ok()) return runtime.status();
  v1::TestRunRequest request;
  request.set_interactive_channel(*channel_name);
  request.set_flowchart(flowchart);
  for (v1::TestRow& row : rows->rows) *request.add_rows() = std::move(row);
  absl::StatusOr<v1::TestRunResponse> response =
      runtime->Call(&v1::InteractRuntime::Stub::TestRun, request);
  if (!response.ok()) return response.status();
  if (response->status() == v1::ERROR && response->segment_counts().empty() &&
      response->rows().empty()) {
    return WithHint(
        absl::FailedPreconditionError(absl::StrCat("the test run failed on ",
                                                   runtime->address(), ": ",
                                                   Advisories(*response))),
        "a channel deployed a moment ago may still be loading; `parleyctl "
        "deployments list` shows what the group serves");
  }

  int failed = 0;
  for (const v1::TestRowResult& row : response->rows()) {
    if (!row.errors().empty()) ++failed;
  }
  if (context.json()) {
    context.PrintJson(ProtoToJson(*response));
  } else {
    std::ostream& out = context.out();
    out << "Flowchart '" << flowchart << "' of channel '" << *channel_name
        << "' over " << response->rows_size() << " rows of " << path << ":\n\n";
    Table counts({"segment", "visitors"});
    for (const v1::SegmentCount& count : response->segment_counts()) {
      counts.AddRow({count.segment(), absl::StrCat(count.visitors())});
    }
    out << counts.Render();
    Table boxes({"box", "visitors"});
    for (const v1::BoxCount& count : response->box_counts()) {
      boxes.AddRow({count.box(), absl::StrCat(count.visitors())});
    }
    out << "\n" << boxes.Render();
    const bool all_rows = context.args().GetBool("rows");
    if (failed > 0 || all_rows) {
      Table table({"line", "row", "segments", "path", "derived", "errors"});
      for (const v1::TestRowResult& row : response->rows()) {
        if (row.errors().empty() && !all_rows) continue;
        const size_t index = row.row() - 1;
        table.AddRow(
            {index < rows->lines.size() ? absl::StrCat(rows->lines[index]) : "",
             absl::StrCat(row.row()), absl::StrJoin(row.segments(), ","),
             absl::StrJoin(row.path(), ">"),
             absl::StrJoin(row.derived_fields(), ",",
                           [](std::string* text, const v1::NameValue& field) {
                             absl::StrAppend(text, field.name(), "=",
                                             NameValueText(field));
                           }),
             absl::StrJoin(row.errors(), "; ")});
      }
      out << "\n" << table.Render();
    }
    if (!response->advisory_messages().empty()) {
      out << "\nAdvisories: " << Advisories(*response) << "\n";
    }
  }
  if (failed > 0) {
    return AlreadyReported(
        WithHint(absl::FailedPreconditionError(
                     absl::StrCat(failed, failed == 1 ? " row" : " rows",
                                  " of ", path, " could not run")),
                 "see each row's errors above; the CSV header must name the "
                 "flowchart's inputs with their types"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddTestRunCommands(std::vector<Command>& commands) {
  Command run;
  run.name = "test-run";
  run.arguments = "FILE.csv";
  run.summary = "Run a deployed flowchart over visitors from a CSV file";
  run.details =
      "FILE.csv has a header row naming the flowchart's inputs (the audience\n"
      "level's audience-ID fields and profile attributes, and session\n"
      "parameters), then one visitor per row; cells are typed by the\n"
      "deployed channel (empty cells of typed columns are NULL). Prints the\n"
      "visitors per segment and per box (cell counts) and each row that\n"
      "could not run; --rows prints every row's segments, path and derived\n"
      "fields. Exits 1 when a row could not run.\n";
  run.options = {
      {"channel", "NAME", "the deployed channel",
       "the only channel deployed on the group"},
      {"flowchart", "NAME", "the flowchart", "the channel's only flowchart"},
      {"rows", "", "print every row's segments, path and derived fields", ""},
  };
  run.min_args = run.max_args = 1;
  run.run = RunTestRun;
  commands.push_back(std::move(run));
}

}  // namespace parley::parleyctl
