#include "services/runtime/server/advisory_counter.h"

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/runtime.pb.h"

namespace parley::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

void Add(google::protobuf::RepeatedPtrField<v1::AdvisoryMessage>* advisories,
         v1::AdvisoryCode code, v1::ResponseStatus level) {
  v1::AdvisoryMessage* advisory = advisories->Add();
  advisory->set_code(code);
  advisory->set_level(level);
}

std::vector<std::string> Counted(const AdvisoryCounter& counter) {
  std::vector<std::string> out;
  counter.ForEach(
      [&](absl::string_view code, absl::string_view level, uint64_t count) {
        out.push_back(absl::StrCat(code, "/", level, "=", count));
      });
  return out;
}

TEST(AdvisoryCounterTest, CountsByCodeAndLevel) {
  AdvisoryCounter counter;
  EXPECT_THAT(Counted(counter), IsEmpty());
  v1::GetOffersResponse response;
  Add(response.mutable_advisory_messages(), v1::INVALID_INTERACTION_POINT,
      v1::ERROR);
  counter.Count(response.advisory_messages());
  counter.Count(response.advisory_messages());
  Add(response.mutable_advisory_messages(), v1::PROFILE_NOT_FOUND, v1::WARNING);
  counter.Count(response.advisory_messages());
  EXPECT_THAT(Counted(counter), ElementsAre("INVALID_INTERACTION_POINT/ERROR=3",
                                            "PROFILE_NOT_FOUND/WARNING=1"));
}

TEST(AdvisoryCounterTest, IgnoresValuesOutsideTheEnums) {
  AdvisoryCounter counter;
  google::protobuf::RepeatedPtrField<v1::AdvisoryMessage> advisories;
  Add(&advisories, static_cast<v1::AdvisoryCode>(9999), v1::ERROR);
  Add(&advisories, v1::INVALID_SESSION_ID, static_cast<v1::ResponseStatus>(77));
  counter.Count(advisories);
  EXPECT_THAT(Counted(counter), IsEmpty());
}

TEST(AdvisoryCounterTest, CountsEveryCommandOfABatch) {
  AdvisoryCounter counter;
  v1::ExecuteBatchResponse batch;
  Add(batch.add_results()->mutable_advisory_messages(),
      v1::COMMAND_METHOD_UNRECOGNIZED, v1::ERROR);
  Add(batch.add_results()->mutable_get_offers()->mutable_advisory_messages(),
      v1::INVALID_SESSION_ID, v1::ERROR);
  Add(batch.add_results()->mutable_post_event()->mutable_advisory_messages(),
      v1::INVALID_SESSION_ID, v1::ERROR);
  batch.add_results()->mutable_get_version();
  counter.CountBatch(batch);
  EXPECT_THAT(Counted(counter),
              ElementsAre("INVALID_SESSION_ID/ERROR=2",
                          "COMMAND_METHOD_UNRECOGNIZED/ERROR=1"));
}

TEST(AdvisoryCounterTest, ConcurrentCountsAddUp) {
  AdvisoryCounter counter;
  google::protobuf::RepeatedPtrField<v1::AdvisoryMessage> advisories;
  Add(&advisories, v1::INVALID_EVENT_NAME, v1::ERROR);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) counter.Count(advisories);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(Counted(counter), ElementsAre("INVALID_EVENT_NAME/ERROR=4000"));
}

}  // namespace
}  // namespace parley::runtime
