#include "services/runtime/engine/offer_output.h"

#include "services/runtime/engine/visitor_values.h"

namespace parley::engine {

void FillOffer(const channel::CompiledOffer& offer,
               const std::string& treatment_code, double score,
               v1::Offer* out) {
  out->set_name(offer.name);
  for (const std::string& part : offer.code) out->add_code(part);
  out->set_treatment_code(treatment_code);
  out->set_score(score);
  out->set_description(offer.description);
  if (offer.effective_millis.has_value()) {
    SetTimestampMillis(*offer.effective_millis, out->mutable_effective_time());
  }
  if (offer.expiration_millis.has_value()) {
    SetTimestampMillis(*offer.expiration_millis,
                       out->mutable_expiration_time());
  }
  for (const v1::OfferAttribute& attribute : offer.attributes) {
    v1::NameValue* value = out->add_attributes();
    value->set_name(attribute.name());
    switch (attribute.value_case()) {
      case v1::OfferAttribute::kStringValue:
        value->set_string_value(attribute.string_value());
        break;
      case v1::OfferAttribute::kNumberValue:
        value->set_number_value(attribute.number_value());
        break;
      case v1::OfferAttribute::kDatetimeValue:
        *value->mutable_datetime_value() = attribute.datetime_value();
        break;
      case v1::OfferAttribute::VALUE_NOT_SET:
        break;
    }
  }
}

}  // namespace parley::engine
