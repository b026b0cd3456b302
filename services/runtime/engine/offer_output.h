#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_OFFER_OUTPUT_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_OFFER_OUTPUT_H_

#include <string>

#include "proto/parley/v1/runtime.pb.h"
#include "services/runtime/channel/compiled_channel.h"

namespace parley::engine {

// Writes one presented offer to `out`: the offer's name, code, description,
// dates and attributes, with `treatment_code` and `score`.
void FillOffer(const channel::CompiledOffer& offer,
               const std::string& treatment_code, double score, v1::Offer* out);

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_OFFER_OUTPUT_H_
