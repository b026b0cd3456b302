#ifndef PARLEY_SERVICES_RUNTIME_SESSION_TREATMENT_CODE_H_
#define PARLEY_SERVICES_RUNTIME_SESSION_TREATMENT_CODE_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace parley::session {

// Length of every treatment code.
inline constexpr int kTreatmentCodeLength = 26;

// Makes treatment codes: unique per offer presentation across the servers of
// every group and across restarts, so contact and response events name
// exactly one presentation.
//
// A code is the generator's instance id (random 64 bits, drawn once per
// generator, i.e. per server start) followed by the generator's presentation
// counter (64 bits), each as 13 characters of Crockford base32 (digits and
// upper-case letters without I, L, O and U). Two generators collide only if
// their random instance ids are equal (about n^2 / 2^65 for n server starts).
// Thread-safe.
class TreatmentCodeGenerator {
 public:
  // Draws a random instance id.
  TreatmentCodeGenerator();
  // A fixed instance id, for tests.
  explicit TreatmentCodeGenerator(uint64_t instance_id);

  TreatmentCodeGenerator(const TreatmentCodeGenerator&) = delete;
  TreatmentCodeGenerator& operator=(const TreatmentCodeGenerator&) = delete;

  // A code never returned before by any generator (see above).
  std::string Next();

  uint64_t instance_id() const { return instance_id_; }

 private:
  const uint64_t instance_id_;
  std::atomic<uint64_t> counter_{0};
};

// Checks that `code` has the form of a code made by TreatmentCodeGenerator
// (INVALID_ARGUMENT otherwise); whether it was ever issued is not checked.
absl::Status ValidateTreatmentCode(absl::string_view code);

}  // namespace parley::session

#endif  // PARLEY_SERVICES_RUNTIME_SESSION_TREATMENT_CODE_H_
