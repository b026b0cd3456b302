#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_SCRATCH_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_SCRATCH_H_

#include <cstddef>
#include <vector>

#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/string_arena.h"
#include "services/runtime/expression/value.h"

namespace parley::expression {

class EvaluationScratch;

namespace internal {
struct Program;
Value Run(const Program& program, const Bindings& bindings,
          EvaluationScratch& scratch);
}  // namespace internal

// Working memory for evaluations: the value stack and the text that
// functions build. Keep one per thread and reuse it; it grows during the
// first evaluations and then stops allocating. A result's text stays valid
// until the next evaluation with the same scratch.
class EvaluationScratch {
 public:
  EvaluationScratch() = default;
  EvaluationScratch(const EvaluationScratch&) = delete;
  EvaluationScratch& operator=(const EvaluationScratch&) = delete;

  // Bytes currently reserved for built text.
  size_t text_capacity() const { return arena_.capacity(); }

 private:
  friend Value internal::Run(const internal::Program& program,
                             const Bindings& bindings,
                             EvaluationScratch& scratch);

  std::vector<Value> stack_;
  StringArena arena_;
};

}  // namespace parley::expression

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_SCRATCH_H_
