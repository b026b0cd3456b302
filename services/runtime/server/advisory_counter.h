#ifndef PARLEY_SERVICES_RUNTIME_SERVER_ADVISORY_COUNTER_H_
#define PARLEY_SERVICES_RUNTIME_SERVER_ADVISORY_COUNTER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/runtime.pb.h"

namespace parley::runtime {

// Counts the advisories the interaction API answers with, by code and
// level, for the metrics (business outcomes travel with gRPC status OK, so
// the per-call metrics do not show them). Thread-safe and lock-free.
class AdvisoryCounter {
 public:
  AdvisoryCounter();

  // Counts each advisory of `advisories`.
  void Count(const google::protobuf::RepeatedPtrField<v1::AdvisoryMessage>&
                 advisories);
  // Counts the advisories of a batch: its own and those of every command.
  void CountBatch(const v1::ExecuteBatchResponse& response);

  // Calls `visit` with the code's and level's enum names and the count, for
  // every pair counted at least once.
  void ForEach(
      const std::function<void(absl::string_view code, absl::string_view level,
                               uint64_t count)>& visit) const;

 private:
  void CountOne(const v1::AdvisoryMessage& advisory);

  int codes_ = 0;
  int levels_ = 0;
  // Index: code's index in its enum * levels_ + level's index.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
};

}  // namespace parley::runtime

#endif  // PARLEY_SERVICES_RUNTIME_SERVER_ADVISORY_COUNTER_H_
