#ifndef PARLEY_SERVICES_RUNTIME_ARBITER_RANKING_H_
#define PARLEY_SERVICES_RUNTIME_ARBITER_RANKING_H_

#include <cstdint>
#include <vector>

#include "proto/parley/v1/channel.pb.h"
#include "services/runtime/arbiter/arbiter_scratch.h"

namespace parley::arbiter::internal {

// A well-mixed 64-bit hash of `seed` and `offer`: the random tie-break key,
// reproducible for a seed and independent across offers.
uint64_t RandomTieKey(uint64_t seed, int offer);

// Puts the best `count` of `candidates` first, in order: score descending,
// then by `tie_break` (RANDOM: tie_key ascending; NEWER_OFFER: later
// effective time, then later offer index), then offer index. The rest is
// left in unspecified order. Does not allocate.
void RankCandidates(v1::TieBreak tie_break, int count,
                    std::vector<Candidate>& candidates);

}  // namespace parley::arbiter::internal

#endif  // PARLEY_SERVICES_RUNTIME_ARBITER_RANKING_H_
