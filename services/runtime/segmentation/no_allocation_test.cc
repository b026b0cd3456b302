// Proves that segmentation does not touch the heap once the scratch, the
// bindings and the output vector are warmed up: this binary replaces the
// global operator new and counts every allocation.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/testing/allocation_counter.h"
#include "services/runtime/channel/compiled_channel.h"
#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/value.h"
#include "services/runtime/segmentation/segmentation.h"
#include "services/runtime/segmentation/test_channel.h"

namespace parley::segmentation {
namespace {

using ::parley::expression::Bindings;
using ::parley::expression::Value;

constexpr char kFlowcharts[] = R"json([
  {"name": "Main", "audienceLevel": "Customer", "startBox": "Compute",
   "boxes": [
     {"name": "Compute", "select": {"derivedFields": [
       {"name": "Label", "type": "STRING",
        "expression": "UPPER(Tier) || ' member of the loyalty programme'"},
       {"name": "Older", "type": "BOOLEAN", "expression": "Age > 40"}],
       "nextBox": "Route"}},
     {"name": "Route", "decision": {
       "allMatching": true,
       "branches": [
         {"condition": "Older AND Label LIKE 'GOLD%'", "nextBox": "PopGold"},
         {"condition": "Device = 'web'", "nextBox": "Sample"},
         {"condition": "Age < 30", "nextBox": "PopD"}],
       "otherwiseBox": "PopD"}},
     {"name": "Sample", "sample": {"seed": "9", "cells": [
       {"percent": 20, "nextBox": "PopA"},
       {"percent": 30, "nextBox": "PopB"},
       {"percent": 40, "nextBox": "PopC"}]}},
     {"name": "PopGold", "populateSegments": {"segments": ["Gold", "A"]}},
     {"name": "PopA", "populateSegments": {"segments": ["A"]}},
     {"name": "PopB", "populateSegments": {"segments": ["B"]}},
     {"name": "PopC", "populateSegments": {"segments": ["C"]}},
     {"name": "PopD", "populateSegments": {"segments": ["D"]}}]},
  {"name": "Second", "audienceLevel": "Customer", "startBox": "S",
   "boxes": [
     {"name": "S", "select": {"derivedFields": [
       {"name": "Shout", "type": "STRING", "expression": "UPPER(Device)"}],
       "nextBox": "D"}},
     {"name": "D", "decision": {
       "branches": [{"condition": "Shout = 'WEB'", "nextBox": "P"}]}},
     {"name": "P", "populateSegments": {"segments": ["C"]}}]}
])json";

TEST(NoAllocationTest, CounterSeesAllocations) {
  const long before = ::parley::testing::AllocationCount();
  auto* text = new std::string(100, 'x');
  delete text;
  EXPECT_GT(::parley::testing::AllocationCount(), before);
}

TEST(NoAllocationTest, SegmentationDoesNotAllocateAfterWarmUp) {
  const auto channel = testing::CompileOrDie(kFlowcharts);
  const channel::CompiledFlowchart& main = channel->flowcharts()[0];
  const int customer = channel->FindAudienceLevel("Customer");
  Bindings bindings(main.schema);
  const int age = *main.schema.Find("Age");
  const int tier = *main.schema.Find("Tier");
  const int device = *main.schema.Find("Device");
  const char* const kTiers[] = {"gold", "silver", "platinum and beyond"};
  const char* const kDevices[] = {"web", "app"};
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back(absl::StrCat("visitor-", i));
  const std::vector<int> only_second = {channel->FindFlowchart("Second")};

  SegmentationScratch scratch;
  std::vector<int> segments;
  size_t total = 0;
  auto segment = [&](int round) {
    if (!bindings.Set(age, Value::Number(round % 70)).ok() ||
        !bindings.Set(tier, Value::String(kTiers[round % 3])).ok() ||
        !bindings.Set(device, Value::String(kDevices[round % 2])).ok()) {
      std::abort();
    }
    const std::string& key = keys[round % keys.size()];
    if (!RunFlowchart(main, key, bindings, scratch, &segments).ok()) {
      std::abort();
    }
    total += segments.size();
    const absl::Span<const int> flowcharts =
        round % 2 == 0 ? absl::Span<const int>() : only_second;
    if (!SegmentVisitor(*channel, customer, flowcharts, bindings, key, scratch,
                        &segments)
             .ok()) {
      std::abort();
    }
    total += segments.size();
  };

  for (int round = 0; round < 30; ++round) segment(round);  // Warm-up.

  total = 0;
  const long before = ::parley::testing::AllocationCount();
  for (int round = 0; round < 3000; ++round) segment(round);
  const long after = ::parley::testing::AllocationCount();
  EXPECT_EQ(after - before, 0);
  EXPECT_GT(total, 0u);
}

}  // namespace
}  // namespace parley::segmentation
