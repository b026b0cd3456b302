#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_LOAD_REPORT_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_LOAD_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace parley::profiles {

// Why one CSV row was not loaded.
struct RowError {
  // 1-based line on which the row starts.
  int64_t line = 0;
  // The column at fault as written in the header; empty when the problem is
  // the row as a whole (malformed quotes, wrong number of fields).
  std::string column;
  std::string message;
};

// The outcome of a bulk load so far; readable during the load for progress.
struct LoadReport {
  // Counts a rejected row; keeps its error while fewer than `max_kept_errors`
  // are kept, else only counts it in `errors_not_kept`.
  void Reject(RowError error, int max_kept_errors);

  // Data rows seen (the header and blank lines excluded).
  int64_t rows_read = 0;
  int64_t rows_accepted = 0;
  int64_t rows_rejected = 0;
  // The first errors, in input order.
  std::vector<RowError> errors;
  // Rejected rows whose errors were not kept.
  int64_t errors_not_kept = 0;
  // Input bytes consumed.
  int64_t bytes_processed = 0;
};

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_LOAD_REPORT_H_
