#ifndef PARLEY_TOOLS_PARLEYCTL_CSV_ROWS_H_
#define PARLEY_TOOLS_PARLEYCTL_CSV_ROWS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/runtime.pb.h"

namespace parley::parleyctl {

// Column types by lower-case column name.
using ColumnTypes = std::map<std::string, v1::FieldType>;

// The inputs of a flowchart: its audience level's audience-ID fields and
// profile attributes, and the channel's session parameters. NotFound
// (naming the flowcharts there are) when the channel has no such
// flowchart.
absl::StatusOr<ColumnTypes> FlowchartInputs(
    const v1::InteractiveChannel& channel, const std::string& flowchart);

// Test-run rows from CSV text: a header row of column names, then one
// visitor per row. Each cell is typed by its column (as profile loads type
// them: NUMBER, DATETIME, BOOLEAN as 1/0); an empty cell of a typed column
// is left out (NULL); columns not in `types` go as strings, for the server
// to report. Bad cells fail the whole file with every problem listed
// ("line 4, column 'Age': 'old' is not a NUMBER").
struct TestRunRows {
  std::vector<v1::TestRow> rows;
  // The line each row starts on, for messages.
  std::vector<int64_t> lines;
};
absl::StatusOr<TestRunRows> ParseTestRunCsv(absl::string_view text,
                                            const ColumnTypes& types);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_CSV_ROWS_H_
