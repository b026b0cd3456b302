#ifndef PARLEY_SERVICES_RUNTIME_CHANNEL_FLOWCHART_GRAPH_H_
#define PARLEY_SERVICES_RUNTIME_CHANNEL_FLOWCHART_GRAPH_H_

#include <vector>

namespace parley::channel {

// The shape of a flowchart's box graph as seen from its start box.
struct GraphAnalysis {
  // Per box: whether a path from the start box reaches it.
  std::vector<bool> reachable;
  // The reachable boxes, each before all of its successors; empty if there
  // is a cycle.
  std::vector<int> topological_order;
  // A cycle reachable from the start, e.g. {A, B, A}; empty if none.
  std::vector<int> cycle;
};

// Analyzes the graph whose box i leads to `successors[i]`, from `start`.
GraphAnalysis AnalyzeGraph(const std::vector<std::vector<int>>& successors,
                           int start);

}  // namespace parley::channel

#endif  // PARLEY_SERVICES_RUNTIME_CHANNEL_FLOWCHART_GRAPH_H_
