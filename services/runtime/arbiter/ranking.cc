#include "services/runtime/arbiter/ranking.h"

#include <algorithm>

namespace parley::arbiter::internal {
namespace {

// SplitMix64's finalizer.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t RandomTieKey(uint64_t seed, int offer) {
  return Mix(Mix(seed) ^ Mix(static_cast<uint64_t>(offer) + 1));
}

void RankCandidates(v1::TieBreak tie_break, int count,
                    std::vector<Candidate>& candidates) {
  const bool newer = tie_break == v1::TIE_BREAK_NEWER_OFFER;
  auto before = [newer](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    if (newer) {
      if (a.effective_millis != b.effective_millis) {
        return a.effective_millis > b.effective_millis;
      }
      return a.offer > b.offer;
    }
    if (a.tie_key != b.tie_key) return a.tie_key < b.tie_key;
    return a.offer < b.offer;
  };
  if (count >= static_cast<int>(candidates.size())) {
    std::sort(candidates.begin(), candidates.end(), before);
  } else {
    std::partial_sort(candidates.begin(), candidates.begin() + count,
                      candidates.end(), before);
  }
}

}  // namespace parley::arbiter::internal
