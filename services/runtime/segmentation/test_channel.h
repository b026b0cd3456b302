#ifndef PARLEY_SERVICES_RUNTIME_SEGMENTATION_TEST_CHANNEL_H_
#define PARLEY_SERVICES_RUNTIME_SEGMENTATION_TEST_CHANNEL_H_

#include <memory>

#include "absl/strings/string_view.h"
#include "services/runtime/channel/compiled_channel.h"

namespace parley::segmentation::testing {

// Compiles a channel named "test" with audience levels Customer
// (CustomerID NUMBER; profile Age NUMBER, Tier STRING) and Household
// (HouseholdID NUMBER), session parameter Device STRING, segments A, B, C,
// D and Gold, and the flowcharts in `flowcharts_json` (a JSON array of
// parley.v1.Flowchart). Aborts with the error on failure.
std::shared_ptr<const channel::CompiledChannel> CompileOrDie(
    absl::string_view flowcharts_json);

}  // namespace parley::segmentation::testing

#endif  // PARLEY_SERVICES_RUNTIME_SEGMENTATION_TEST_CHANNEL_H_
