#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_ADVISORIES_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_ADVISORIES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "proto/parley/v1/runtime.pb.h"

namespace parley::engine {

// Adds an advisory message of `level` to `response` (any runtime response
// with `status` and `advisory_messages`) and raises the response's status
// to at least `level`.
template <typename Response>
void AddAdvisory(Response& response, v1::AdvisoryCode code,
                 v1::ResponseStatus level, absl::string_view message,
                 absl::string_view detail = "") {
  v1::AdvisoryMessage* advisory = response.add_advisory_messages();
  advisory->set_code(code);
  advisory->set_level(level);
  advisory->set_message(std::string(message));
  advisory->set_detail(std::string(detail));
  if (level > response.status()) response.set_status(level);
}

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_ADVISORIES_H_
