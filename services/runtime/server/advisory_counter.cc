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
  // Every command's response has advisory_messages, whichever it is (its
  // BatchResult.result); reflection finds them without listing the calls.
  const google::protobuf::OneofDescriptor* oneof =
      v1::BatchResult::descriptor()->FindOneofByName("result");
  for (const v1::BatchResult& result : response.results()) {
    Count(result.advisory_messages());
    const google::protobuf::Reflection* reflection = result.GetReflection();
    const google::protobuf::FieldDescriptor* set =
        reflection->GetOneofFieldDescriptor(result, oneof);
    if (set == nullptr) continue;
    const google::protobuf::Message& command =
        reflection->GetMessage(result, set);
    const google::protobuf::FieldDescriptor* advisories =
        command.GetDescriptor()->FindFieldByName("advisory_messages");
    if (advisories == nullptr ||
        advisories->message_type() != v1::AdvisoryMessage::descriptor()) {
      continue;
    }
    const google::protobuf::Reflection* command_reflection =
        command.GetReflection();
    const int count = command_reflection->FieldSize(command, advisories);
    for (int i = 0; i < count; ++i) {
      CountOne(static_cast<const v1::AdvisoryMessage&>(
          command_reflection->GetRepeatedMessage(command, advisories, i)));
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
