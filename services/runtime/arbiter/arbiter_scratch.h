#ifndef PARLEY_SERVICES_RUNTIME_ARBITER_ARBITER_SCRATCH_H_
#define PARLEY_SERVICES_RUNTIME_ARBITER_ARBITER_SCRATCH_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "services/runtime/expression/scratch.h"

namespace parley::channel {
class CompiledChannel;
}  // namespace parley::channel

namespace parley::arbiter {

struct ArbitrationInput;
struct RankedOffer;
struct ArbitrationStats;
class ArbiterScratch;

absl::Status Arbitrate(const channel::CompiledChannel& channel,
                       const ArbitrationInput& input, ArbiterScratch& scratch,
                       std::vector<RankedOffer>* out, ArbitrationStats* stats);

namespace internal {

// An offer that passed the filters, with its best score so far.
struct Candidate {
  int offer = -1;
  double score = 0;
  int rule = -1;
  // Ordering key among equal scores; smaller first.
  uint64_t tie_key = 0;
  int64_t effective_millis = 0;
};

}  // namespace internal

// Working memory for Arbitrate: candidate buffers and the expression
// scratch. Keep one per thread and reuse it; after the first call on a
// channel it stops allocating. Not thread-safe.
class ArbiterScratch {
 public:
  ArbiterScratch() = default;
  ArbiterScratch(const ArbiterScratch&) = delete;
  ArbiterScratch& operator=(const ArbiterScratch&) = delete;

 private:
  friend absl::Status Arbitrate(const channel::CompiledChannel& channel,
                                const ArbitrationInput& input,
                                ArbiterScratch& scratch,
                                std::vector<RankedOffer>* out,
                                ArbitrationStats* stats);

  std::vector<internal::Candidate> candidates_;
  // Per offer index: the position in candidates_, kNone or kExcluded.
  // Entries are restored to kNone after each call.
  std::vector<int> slot_by_offer_;
  expression::EvaluationScratch evaluation_;
};

}  // namespace parley::arbiter

#endif  // PARLEY_SERVICES_RUNTIME_ARBITER_ARBITER_SCRATCH_H_
