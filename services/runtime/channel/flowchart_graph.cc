#include "services/runtime/channel/flowchart_graph.h"

#include <algorithm>
#include <utility>

namespace parley::channel {

GraphAnalysis AnalyzeGraph(const std::vector<std::vector<int>>& successors,
                           int start) {
  enum Color { kWhite, kGray, kBlack };
  const int n = static_cast<int>(successors.size());
  GraphAnalysis result;
  result.reachable.assign(n, false);
  std::vector<Color> color(n, kWhite);
  std::vector<int> post_order;
  // Depth-first search without recursion: (box, next successor to visit).
  std::vector<std::pair<int, size_t>> stack;
  color[start] = kGray;
  result.reachable[start] = true;
  stack.emplace_back(start, 0);
  while (!stack.empty()) {
    auto& [box, next] = stack.back();
    if (next == successors[box].size()) {
      color[box] = kBlack;
      post_order.push_back(box);
      stack.pop_back();
      continue;
    }
    const int successor = successors[box][next++];
    if (color[successor] == kGray) {
      if (result.cycle.empty()) {
        auto it = std::find_if(stack.begin(), stack.end(), [&](const auto& e) {
          return e.first == successor;
        });
        for (; it != stack.end(); ++it) result.cycle.push_back(it->first);
        result.cycle.push_back(successor);
      }
    } else if (color[successor] == kWhite) {
      color[successor] = kGray;
      result.reachable[successor] = true;
      stack.emplace_back(successor, 0);
    }
  }
  if (result.cycle.empty()) {
    result.topological_order.assign(post_order.rbegin(), post_order.rend());
  }
  return result;
}

}  // namespace parley::channel
