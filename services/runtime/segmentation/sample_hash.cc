#include "services/runtime/segmentation/sample_hash.h"

#include <cmath>

namespace parley::segmentation {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// SplitMix64's finalizer: spreads every input bit over the output.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t SampleHash(uint64_t seed, absl::string_view visitor_key) {
  uint64_t hash = kFnvOffset ^ Mix(seed);
  for (const char c : visitor_key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return Mix(hash ^ visitor_key.size());
}

double SamplePoint(uint64_t seed, absl::string_view visitor_key) {
  // The top 53 bits as a fraction in [0, 1), exact in a double.
  const double fraction =
      static_cast<double>(SampleHash(seed, visitor_key) >> 11) * 0x1.0p-53;
  const double point = fraction * 100.0;
  // Rounding must not reach 100.
  return point < 100.0 ? point : std::nextafter(100.0, 0.0);
}

int ChooseCell(const std::vector<channel::CompiledSampleCell>& cells,
               double point) {
  double end = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    end += cells[i].percent;
    if (point < end) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace parley::segmentation
