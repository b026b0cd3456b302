#include "services/runtime/session/treatment_code.h"

#include <cstdint>
#include <string>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace parley::session {
namespace {

constexpr absl::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
// Characters per 64-bit half: 13 * 5 = 65 bits, the top one always 0.
constexpr int kHalfLength = kTreatmentCodeLength / 2;

void AppendBase32(uint64_t value, std::string* out) {
  char digits[kHalfLength];
  for (int i = kHalfLength - 1; i >= 0; --i) {
    digits[i] = kAlphabet[value & 31];
    value >>= 5;
  }
  out->append(digits, kHalfLength);
}

uint64_t RandomInstanceId() {
  absl::BitGen random;
  return absl::Uniform<uint64_t>(random);
}

}  // namespace

TreatmentCodeGenerator::TreatmentCodeGenerator()
    : TreatmentCodeGenerator(RandomInstanceId()) {}

TreatmentCodeGenerator::TreatmentCodeGenerator(uint64_t instance_id)
    : instance_id_(instance_id) {}

std::string TreatmentCodeGenerator::Next() {
  const uint64_t count = counter_.fetch_add(1, std::memory_order_relaxed);
  std::string code;
  code.reserve(kTreatmentCodeLength);
  AppendBase32(instance_id_, &code);
  AppendBase32(count, &code);
  return code;
}

absl::Status ValidateTreatmentCode(absl::string_view code) {
  if (code.size() != kTreatmentCodeLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("treatment code must have ", kTreatmentCodeLength,
                     " characters, has ", code.size()));
  }
  for (size_t i = 0; i < code.size(); ++i) {
    const size_t digit = kAlphabet.find(code[i]);
    if (digit == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("treatment code has an invalid character at ", i));
    }
    // Each half encodes 64 bits in 65, so its first digit is below 16.
    if (i % kHalfLength == 0 && digit >= 16) {
      return absl::InvalidArgumentError(
          absl::StrCat("treatment code is out of range at ", i));
    }
  }
  return absl::OkStatus();
}

}  // namespace parley::session
