#include "services/runtime/profiles/load_report.h"

#include <utility>

namespace parley::profiles {

void LoadReport::Reject(RowError error, int max_kept_errors) {
  ++rows_rejected;
  if (static_cast<int64_t>(errors.size()) < max_kept_errors) {
    errors.push_back(std::move(error));
  } else {
    ++errors_not_kept;
  }
}

}  // namespace parley::profiles
