#include "services/runtime/engine/test_run.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/runtime/channel/channel.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/audience_id.h"
#include "services/runtime/engine/visitor_values.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/value.h"
#include "services/runtime/segmentation/segmentation.h"
#include "services/runtime/segmentation/segmentation_scratch.h"
#include "services/runtime/segmentation/segmentation_trace.h"

namespace parley::engine {
namespace {

// Adds derived field `name` with `value` as a NameValue (see
// TestRowResult.derived_fields).
void AddDerivedField(absl::string_view name, const expression::Value& value,
                     v1::NameValue* out) {
  out->set_name(std::string(name));
  if (value.is_null()) return;
  switch (value.type()) {
    case expression::Type::kNumber:
      out->set_number_value(value.number());
      break;
    case expression::Type::kString:
      out->set_string_value(std::string(value.string()));
      break;
    case expression::Type::kBoolean:
      out->set_string_value(value.boolean() ? "true" : "false");
      break;
    case expression::Type::kDateTime:
      SetTimestampMillis(value.datetime_millis(),
                         out->mutable_datetime_value());
      break;
    case expression::Type::kNull:
      break;
  }
}

using ::parley::channel::CompiledBox;
using ::parley::channel::CompiledChannel;
using ::parley::channel::CompiledFlowchart;

absl::Status CheckRequest(const v1::TestRunRequest& request) {
  if (request.flowchart().empty()) {
    return absl::InvalidArgumentError("test run needs a flowchart name");
  }
  const bool deployed = !request.interactive_channel().empty();
  const bool supplied = !request.supplied_channel().empty();
  if (deployed == supplied) {
    return absl::InvalidArgumentError(
        "test run needs exactly one of interactive_channel and "
        "supplied_channel");
  }
  if (request.rows_size() > kMaxTestRunRows) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxTestRunRows,
                                                   " rows per test run, got ",
                                                   request.rows_size()));
  }
  return absl::OkStatus();
}

// The channel the request names or supplies; null after adding an
// advisory to `response` when there is none.
absl::StatusOr<std::shared_ptr<const CompiledChannel>> FindChannel(
    const v1::TestRunRequest& request, const ChannelRegistry& channels,
    v1::TestRunResponse& response) {
  if (request.supplied_channel().empty()) {
    ActiveChannel active = channels.Find(request.interactive_channel());
    if (active.channel == nullptr) {
      AddAdvisory(response, v1::INVALID_INTERACTIVE_CHANNEL, v1::ERROR,
                  "unknown interactive channel", request.interactive_channel());
    }
    return std::move(active.channel);
  }
  v1::InteractiveChannel proto;
  if (!proto.ParseFromString(request.supplied_channel())) {
    return absl::InvalidArgumentError(
        "supplied_channel is not a serialized parley.v1.InteractiveChannel");
  }
  absl::StatusOr<std::shared_ptr<const CompiledChannel>> compiled =
      channel::CompileChannel(proto);
  if (absl::IsInvalidArgument(compiled.status())) {
    AddAdvisory(response, v1::INVALID_INTERACTIVE_CHANNEL, v1::ERROR,
                "supplied channel does not compile",
                compiled.status().message());
    return std::shared_ptr<const CompiledChannel>();
  }
  return compiled;
}

// Runs one flowchart over rows, reusing its working memory between them.
class RowRunner {
 public:
  RowRunner(const CompiledChannel& channel, const CompiledFlowchart& flowchart,
            int64_t now_millis)
      : flowchart_(flowchart),
        level_(channel.audience_levels()[flowchart.audience_level]),
        input_slots_(static_cast<int>(level_.audience_id_fields.size() +
                                      level_.profile_attributes.size() +
                                      channel.session_parameters().size())),
        now_millis_(now_millis),
        bindings_(flowchart.schema),
        given_(input_slots_) {}

  // Binds the row's values and checks them; the problems go to `out`'s
  // errors. Whether the row can run.
  bool Bind(const v1::TestRow& row, v1::TestRowResult& out) {
    bindings_.Clear();
    bindings_.SetNow(now_millis_);
    given_.assign(given_.size(), false);
    for (const v1::NameValue& value : row.values()) {
      const absl::optional<int> slot = flowchart_.schema.Find(value.name());
      if (!slot.has_value() || *slot >= input_slots_) {
        out.add_errors(absl::StrCat("'", value.name(),
                                    "' is not an input of flowchart '",
                                    flowchart_.name, "'"));
        continue;
      }
      const std::string& name = flowchart_.schema.name(*slot);
      if (given_[*slot]) {
        out.add_errors(absl::StrCat("'", name, "' is given twice"));
        continue;
      }
      given_[*slot] = true;
      const expression::Type type = flowchart_.schema.type(*slot);
      const absl::optional<expression::Value> typed = ValueAs(value, type);
      if (!typed.has_value()) {
        out.add_errors(
            absl::StrCat("'", name, "' must be ", TypeExpected(type)));
        continue;
      }
      if (!bindings_.Set(*slot, *typed).ok()) {
        out.add_errors(absl::StrCat("'", name, "' could not be set"));
      }
    }
    if (out.errors_size() > 0) return false;
    const absl::Status id =
        NormalizeAudienceId(level_, row.values(), &audience_id_);
    if (!id.ok()) {
      out.add_errors(std::string(id.message()));
      return false;
    }
    return true;
  }

  // Runs the bound row; segment indices go to `segments`, the path and a
  // failure to `out`. Whether the run succeeded.
  bool Run(const CompiledChannel& channel, v1::TestRowResult& out,
           std::vector<int>& segments, std::vector<uint64_t>& box_visits) {
    const absl::Status status =
        segmentation::RunFlowchart(flowchart_, AudienceIdText(audience_id_),
                                   bindings_, scratch_, &segments, &trace_);
    for (const int box : trace_.path) {
      out.add_path(flowchart_.boxes[box].name);
      ++box_visits[box];
    }
    if (!status.ok()) {
      out.add_errors(std::string(status.message()));
      return false;
    }
    for (const int segment : segments) {
      out.add_segments(channel.segments()[segment].name);
    }
    for (int slot = input_slots_; slot < flowchart_.schema.size(); ++slot) {
      AddDerivedField(flowchart_.schema.name(slot), bindings_.Get(slot),
                      out.add_derived_fields());
    }
    return true;
  }

 private:
  const CompiledFlowchart& flowchart_;
  const channel::CompiledAudienceLevel& level_;
  // Audience-ID fields, profile attributes and session parameters come
  // first in the flowchart's schema; derived fields follow.
  const int input_slots_;
  const int64_t now_millis_;
  expression::Bindings bindings_;
  // Per input slot: whether the row gave it.
  std::vector<bool> given_;
  google::protobuf::RepeatedPtrField<v1::NameValue> audience_id_;
  segmentation::SegmentationScratch scratch_;
  segmentation::SegmentationTrace trace_;
};

}  // namespace

absl::StatusOr<v1::TestRunResponse> RunFlowchartTest(
    const v1::TestRunRequest& request, const ChannelRegistry& channels,
    int64_t now_millis) {
  if (absl::Status s = CheckRequest(request); !s.ok()) return s;
  v1::TestRunResponse response;
  absl::StatusOr<std::shared_ptr<const CompiledChannel>> found =
      FindChannel(request, channels, response);
  if (!found.ok()) return found.status();
  if (*found == nullptr) return response;
  const CompiledChannel& channel = **found;
  const int flowchart_index = channel.FindFlowchart(request.flowchart());
  if (flowchart_index < 0) {
    AddAdvisory(response, v1::INVALID_PARAMETER, v1::ERROR, "unknown flowchart",
                request.flowchart());
    return response;
  }
  const CompiledFlowchart& flowchart = channel.flowcharts()[flowchart_index];

  // Per segment index: rows put in it, or -1 if no box can populate it.
  std::vector<int64_t> counts(channel.segments().size(), -1);
  for (const CompiledBox& box : flowchart.boxes) {
    if (box.kind != CompiledBox::Kind::kPopulateSegments) continue;
    for (const int segment : box.segments) counts[segment] = 0;
  }

  RowRunner runner(channel, flowchart, now_millis);
  std::vector<int> segments;
  std::vector<uint64_t> box_visits(flowchart.boxes.size(), 0);
  int bad_inputs = 0;
  int failed_runs = 0;
  for (int i = 0; i < request.rows_size(); ++i) {
    v1::TestRowResult& out = *response.add_rows();
    out.set_row(static_cast<uint32_t>(i + 1));
    if (!runner.Bind(request.rows(i), out)) {
      ++bad_inputs;
      continue;
    }
    if (!runner.Run(channel, out, segments, box_visits)) {
      ++failed_runs;
      continue;
    }
    for (const int segment : segments) ++counts[segment];
  }

  for (size_t segment = 0; segment < counts.size(); ++segment) {
    if (counts[segment] < 0) continue;
    v1::SegmentCount& count = *response.add_segment_counts();
    count.set_segment(channel.segments()[segment].name);
    count.set_visitors(static_cast<uint64_t>(counts[segment]));
  }
  for (size_t box = 0; box < flowchart.boxes.size(); ++box) {
    v1::BoxCount& count = *response.add_box_counts();
    count.set_box(flowchart.boxes[box].name);
    count.set_visitors(box_visits[box]);
  }
  if (bad_inputs > 0) {
    AddAdvisory(response, v1::INVALID_PARAMETER, v1::WARNING,
                "rows with invalid inputs were not run",
                absl::StrCat(bad_inputs, " of ", request.rows_size(), " rows"));
  }
  if (failed_runs > 0) {
    AddAdvisory(
        response, v1::SEGMENTATION_RUN_FAILED, v1::WARNING,
        "flowchart runs failed",
        absl::StrCat(failed_runs, " of ", request.rows_size(), " rows"));
  }
  return response;
}

}  // namespace parley::engine
