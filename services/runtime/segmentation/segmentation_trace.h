#ifndef PARLEY_SERVICES_RUNTIME_SEGMENTATION_SEGMENTATION_TRACE_H_
#define PARLEY_SERVICES_RUNTIME_SEGMENTATION_SEGMENTATION_TRACE_H_

#include <string>
#include <vector>

namespace parley::segmentation {

// Something worth knowing about one box of a run: a condition or derived
// field that came out NULL, a path that ended without reaching a
// PopulateSegments box, the Sample cell chosen.
struct TraceNote {
  // Box index in the flowchart.
  int box = -1;
  // Human-readable, naming the box, e.g. "box 'Split': condition of branch
  // 1 is NULL, counted as false".
  std::string message;
};

// How one flowchart run went, for TestRun and debug sessions.
struct SegmentationTrace {
  // Flowchart index in the channel; -1 when run on its own.
  int flowchart = -1;
  // The boxes visited, by index, in visiting order (depth-first, branches
  // in declaration order; each box at most once).
  std::vector<int> path;
  // Notes in visiting order.
  std::vector<TraceNote> notes;
};

}  // namespace parley::segmentation

#endif  // PARLEY_SERVICES_RUNTIME_SEGMENTATION_SEGMENTATION_TRACE_H_
