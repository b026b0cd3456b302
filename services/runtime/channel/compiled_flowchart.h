#ifndef PARLEY_SERVICES_RUNTIME_CHANNEL_COMPILED_FLOWCHART_H_
#define PARLEY_SERVICES_RUNTIME_CHANNEL_COMPILED_FLOWCHART_H_

#include <cstdint>
#include <string>
#include <vector>

#include "services/runtime/expression/expression.h"
#include "services/runtime/expression/schema.h"

namespace parley::channel {

// A typed name: an audience-ID field, profile attribute, session parameter
// or derived field.
struct CompiledField {
  std::string name;
  expression::Type type = expression::Type::kNull;
};

// A Decision box branch: when `condition` holds, go to box `next`.
struct CompiledBranch {
  expression::CompiledExpression condition;
  int next = -1;  // Box index; -1: the path ends here.
};

// A Select box field: `expression` evaluated into bindings slot `slot`.
struct CompiledDerivedField {
  std::string name;
  expression::Type type = expression::Type::kNull;
  int slot = -1;
  expression::CompiledExpression expression;
};

// A Sample box cell taking `percent` of visitors to box `next`.
struct CompiledSampleCell {
  double percent = 0;
  int next = -1;  // -1: the path ends here.
};

// One flowchart box; which members apply depends on `kind`.
struct CompiledBox {
  // Which box kind this is.
  enum class Kind { kDecision, kSelect, kSample, kPopulateSegments };

  std::string name;
  Kind kind = Kind::kDecision;
  // kDecision.
  std::vector<CompiledBranch> branches;
  int otherwise = -1;
  bool all_matching = false;
  // kSelect, then continue to `next`.
  std::vector<CompiledDerivedField> derived_fields;
  int next = -1;
  // kSample.
  uint64_t seed = 0;
  std::vector<CompiledSampleCell> cells;
  // kPopulateSegments: segment indices.
  std::vector<int> segments;
};

// A validated flowchart: an acyclic graph of boxes by index whose
// expressions are all compiled against `schema`.
struct CompiledFlowchart {
  std::string name;
  int audience_level = -1;
  int start_box = -1;
  std::vector<CompiledBox> boxes;
  // The variables its expressions read: the audience level's audience-ID
  // fields and profile attributes, the channel's session parameters, then
  // every derived field of the flowchart. Bindings for a run come from it.
  expression::Schema schema;
};

}  // namespace parley::channel

#endif  // PARLEY_SERVICES_RUNTIME_CHANNEL_COMPILED_FLOWCHART_H_
