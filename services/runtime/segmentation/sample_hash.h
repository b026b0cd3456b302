#ifndef PARLEY_SERVICES_RUNTIME_SEGMENTATION_SAMPLE_HASH_H_
#define PARLEY_SERVICES_RUNTIME_SEGMENTATION_SAMPLE_HASH_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/runtime/channel/compiled_flowchart.h"

namespace parley::segmentation {

// A 64-bit hash of (seed, visitor key) that never changes across processes,
// platforms or releases: changing it would move visitors between Sample
// cells. FNV-1a over the key bytes, started from the mixed seed, then the
// key length mixed in with the SplitMix64 finalizer.
uint64_t SampleHash(uint64_t seed, absl::string_view visitor_key);

// Where the visitor falls in a Sample box with `seed`: a point in [0, 100)
// derived from SampleHash, spread uniformly over visitor keys.
double SamplePoint(uint64_t seed, absl::string_view visitor_key);

// The cell, by index, that `point` falls in: cells are laid out in order by
// cumulative percent, so cell i takes [sum of earlier cells, that + its
// percent). -1 when `point` lies beyond the cells' total.
int ChooseCell(const std::vector<channel::CompiledSampleCell>& cells,
               double point);

}  // namespace parley::segmentation

#endif  // PARLEY_SERVICES_RUNTIME_SEGMENTATION_SAMPLE_HASH_H_
