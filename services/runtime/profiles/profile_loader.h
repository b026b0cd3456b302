#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_LOADER_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_LOADER_H_

#include <functional>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/runtime/profiles/csv_reader.h"
#include "services/runtime/profiles/load_report.h"
#include "services/runtime/profiles/profile_row_parser.h"

namespace parley::profiles {

struct LoadOptions {
  // Row errors kept in the report; later ones are only counted.
  int max_kept_errors = 100;
};

// The domain side of the profile bulk load: CSV with a header row, fed in
// chunks, for one audience level. Good rows go to a sink in input order
// (e.g. a cache-tier writer putting row.key -> EncodeProfile(attributes));
// bad rows are skipped and reported with their line numbers.
class ProfileLoader {
 public:
  // Takes each accepted row; an error stops the load and is returned by
  // Feed or Finish.
  using RowSink = std::function<absl::Status(const ProfileRow& row)>;

  ProfileLoader(v1::AudienceLevel level, RowSink sink,
                LoadOptions options = LoadOptions());
  ProfileLoader(const ProfileLoader&) = delete;
  ProfileLoader& operator=(const ProfileLoader&) = delete;

  // Consumes the next chunk of the file. Returns InvalidArgument for a bad
  // header and the sink's error if it fails; once failed, keeps failing.
  absl::Status Feed(absl::string_view chunk);

  // Ends the input. Also fails with InvalidArgument if there was no header.
  absl::Status Finish();

  // Counts and row errors so far.
  const LoadReport& report() const { return report_; }

 private:
  absl::Status Process();

  v1::AudienceLevel level_;
  RowSink sink_;
  LoadOptions options_;
  CsvReader reader_;
  std::optional<ProfileRowParser> parser_;
  std::vector<CsvRecord> pending_;
  absl::Status status_;
  LoadReport report_;
};

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_PROFILE_LOADER_H_
