#include "services/runtime/segmentation/test_channel.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/runtime/channel/channel.h"

namespace parley::segmentation::testing {

std::shared_ptr<const channel::CompiledChannel> CompileOrDie(
    absl::string_view flowcharts_json) {
  const std::string json = absl::StrCat(R"json({
    "name": "test",
    "audienceLevels": [
      {"name": "Customer",
       "audienceIdFields": [{"name": "CustomerID", "type": "NUMBER"}],
       "profileAttributes": [{"name": "Age", "type": "NUMBER"},
                             {"name": "Tier", "type": "STRING"}]},
      {"name": "Household",
       "audienceIdFields": [{"name": "HouseholdID", "type": "NUMBER"}]}
    ],
    "sessionParameters": [{"name": "Device", "type": "STRING"}],
    "zones": [{"name": "Hero"}],
    "segments": [{"name": "A"}, {"name": "B"}, {"name": "C"}, {"name": "D"},
                 {"name": "Gold"}],
    "flowcharts": )json",
                                        flowcharts_json, "}");
  v1::InteractiveChannel proto;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &proto);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n%s\n", parsed.ToString().c_str(), json.c_str());
    std::abort();
  }
  auto compiled = channel::CompileChannel(proto);
  if (!compiled.ok()) {
    std::fprintf(stderr, "%s\n", compiled.status().ToString().c_str());
    std::abort();
  }
  return *std::move(compiled);
}

}  // namespace parley::segmentation::testing
