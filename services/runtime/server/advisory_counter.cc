#include "services/runtime/server/advisory_counter.h"

#include "google/protobuf/descriptor.h"

namespace parley::runtime {
namespace {

// The index of `number` among `type`'s values; -1 when it has none.
int IndexOf(const google::protobuf::EnumDescriptor* type, int number) {
  const google::protobuf::EnumValueDescriptor* value =
      type->FindValueByNumber(number);
  return value == nullptr ? -1 : value->index();
}

}  // namespace

AdvisoryCounter::AdvisoryCounter()
    : codes_(v1::AdvisoryCode_descriptor()->value_count()),
      levels_(v1::ResponseStatus_descriptor()->value_count()),
      counts_(new std::atomic<uint64_t>[codes_ * levels_]) {
  for (int i = 0; i < codes_ * levels_; ++i) {
    counts_[i].store(0, std::memory_order_relaxed);
  }
}

void AdvisoryCounter::CountOne(const v1::AdvisoryMessage& advisory) {
  const int code = IndexOf(v1::AdvisoryCode_descriptor(), advisory.code());
  const int level = IndexOf(v1::ResponseStatus_descriptor(), advisory.level());
  if (code < 0 || level < 0) return;
  counts_[code * levels_ + level].fetch_add(1, std::memory_order_relaxed);
}

void AdvisoryCounter::Count(
    const google::protobuf::RepeatedPtrField<v1::AdvisoryMessage>& advisories) {
  for (const v1::AdvisoryMessage& advisory : advisories) CountOne(advisory);
}

void AdvisoryCounter::CountBatch(const v1::ExecuteBatchResponse& response) {
  for (const v1::BatchResult& result : response.results()) {
    Count(result.advisory_messages());
    switch (result.result_case()) {
      case v1::BatchResult::kStartSession:
        Count(result.start_session().advisory_messages());
        break;
      case v1::BatchResult::kGetOffers:
        Count(result.get_offers().advisory_messages());
        break;
      case v1::BatchResult::kGetOffersForMultipleInteractionPoints:
        Count(result.get_offers_for_multiple_interaction_points()
                  .advisory_messages());
        break;
      case v1::BatchResult::kPostEvent:
        Count(result.post_event().advisory_messages());
        break;
      case v1::BatchResult::kSetAudience:
        Count(result.set_audience().advisory_messages());
        break;
      case v1::BatchResult::kGetProfile:
        Count(result.get_profile().advisory_messages());
        break;
      case v1::BatchResult::kEndSession:
        Count(result.end_session().advisory_messages());
        break;
      case v1::BatchResult::kSetDebug:
        Count(result.set_debug().advisory_messages());
        break;
      case v1::BatchResult::kGetVersion:
      case v1::BatchResult::RESULT_NOT_SET:
        break;
    }
  }
}

void AdvisoryCounter::ForEach(
    const std::function<void(absl::string_view, absl::string_view, uint64_t)>&
        visit) const {
  for (int code = 0; code < codes_; ++code) {
    for (int level = 0; level < levels_; ++level) {
      const uint64_t count =
          counts_[code * levels_ + level].load(std::memory_order_relaxed);
      if (count == 0) continue;
      visit(v1::AdvisoryCode_descriptor()->value(code)->name(),
            v1::ResponseStatus_descriptor()->value(level)->name(), count);
    }
  }
}

}  // namespace parley::runtime
