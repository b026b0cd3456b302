#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_EVALUATOR_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_EVALUATOR_H_

#include "services/runtime/expression/bindings.h"
#include "services/runtime/expression/program.h"
#include "services/runtime/expression/scratch.h"
#include "services/runtime/expression/value.h"

namespace parley::expression::internal {

// Runs `program` over `bindings` and returns the value it leaves on the
// stack; NULL if the bindings have too few slots. Allocates only while
// `scratch` is still growing.
Value Run(const Program& program, const Bindings& bindings,
          EvaluationScratch& scratch);

}  // namespace parley::expression::internal

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_EVALUATOR_H_
