#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_OFFER_FILTER_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_OFFER_FILTER_H_

#include "absl/status/status.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/runtime/channel/compiled_channel.h"

namespace parley::engine {

// INVALID_ARGUMENT, naming the entry's index, unless every entry of an
// offer attribute filter has a name and a value.
absl::Status CheckOfferFilter(
    const google::protobuf::RepeatedPtrField<v1::NameValue>& filter);

// Whether `offer` has, for every entry of `filter`, an attribute of that
// name (ignoring case) holding an equal value of the same type (STRING
// compared exactly, NUMBER and DATETIME by value). An empty filter matches
// every offer.
bool MatchesOfferFilter(
    const channel::CompiledOffer& offer,
    const google::protobuf::RepeatedPtrField<v1::NameValue>& filter);

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_OFFER_FILTER_H_
