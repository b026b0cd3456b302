#include "services/runtime/engine/offer_filter.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace parley::engine {
namespace {

bool SameValue(const v1::OfferAttribute& attribute,
               const v1::NameValue& wanted) {
  switch (wanted.value_case()) {
    case v1::NameValue::kStringValue:
      return attribute.value_case() == v1::OfferAttribute::kStringValue &&
             attribute.string_value() == wanted.string_value();
    case v1::NameValue::kNumberValue:
      return attribute.value_case() == v1::OfferAttribute::kNumberValue &&
             attribute.number_value() == wanted.number_value();
    case v1::NameValue::kDatetimeValue:
      return attribute.value_case() == v1::OfferAttribute::kDatetimeValue &&
             attribute.datetime_value().seconds() ==
                 wanted.datetime_value().seconds() &&
             attribute.datetime_value().nanos() ==
                 wanted.datetime_value().nanos();
    case v1::NameValue::VALUE_NOT_SET:
      break;
  }
  return false;
}

}  // namespace

absl::Status CheckOfferFilter(
    const google::protobuf::RepeatedPtrField<v1::NameValue>& filter) {
  for (int i = 0; i < filter.size(); ++i) {
    if (filter[i].name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("offer attribute filter ", i, " has no name"));
    }
    if (filter[i].value_case() == v1::NameValue::VALUE_NOT_SET) {
      return absl::InvalidArgumentError(absl::StrCat("offer attribute filter ",
                                                     i, " ('", filter[i].name(),
                                                     "') has no value"));
    }
  }
  return absl::OkStatus();
}

bool MatchesOfferFilter(
    const channel::CompiledOffer& offer,
    const google::protobuf::RepeatedPtrField<v1::NameValue>& filter) {
  for (const v1::NameValue& wanted : filter) {
    bool found = false;
    for (const v1::OfferAttribute& attribute : offer.attributes) {
      if (absl::EqualsIgnoreCase(attribute.name(), wanted.name()) &&
          SameValue(attribute, wanted)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace parley::engine
