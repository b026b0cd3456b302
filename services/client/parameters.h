#ifndef PARLEY_SERVICES_CLIENT_PARAMETERS_H_
#define PARLEY_SERVICES_CLIENT_PARAMETERS_H_

#include <string>

#include "proto/parley/v1/runtime.pb.h"

namespace parley {

// Builders of the name-value pairs that InteractRuntime calls take as
// audience IDs and parameters.

// `name` = `value` as a number.
inline v1::NameValue NumberParameter(const std::string& name, double value) {
  v1::NameValue field;
  field.set_name(name);
  field.set_number_value(value);
  return field;
}

// `name` = `value` as a string.
inline v1::NameValue TextParameter(const std::string& name,
                                   const std::string& value) {
  v1::NameValue field;
  field.set_name(name);
  field.set_string_value(value);
  return field;
}

}  // namespace parley

#endif  // PARLEY_SERVICES_CLIENT_PARAMETERS_H_
