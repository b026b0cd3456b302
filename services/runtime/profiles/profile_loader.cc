#include "services/runtime/profiles/profile_loader.h"

#include <utility>

namespace parley::profiles {

ProfileLoader::ProfileLoader(v1::AudienceLevel level, RowSink sink,
                             LoadOptions options)
    : level_(std::move(level)), sink_(std::move(sink)), options_(options) {}

absl::Status ProfileLoader::Feed(absl::string_view chunk) {
  if (!status_.ok()) return status_;
  reader_.Feed(chunk, &pending_);
  report_.bytes_processed = reader_.bytes_consumed();
  return status_ = Process();
}

absl::Status ProfileLoader::Finish() {
  if (!status_.ok()) return status_;
  reader_.Finish(&pending_);
  status_ = Process();
  if (status_.ok() && !parser_.has_value()) {
    status_ = absl::InvalidArgumentError("the file has no header row");
  }
  return status_;
}

absl::Status ProfileLoader::Process() {
  std::vector<CsvRecord> records = std::move(pending_);
  pending_.clear();
  for (const CsvRecord& record : records) {
    if (!parser_.has_value()) {
      absl::StatusOr<ProfileRowParser> parser =
          ProfileRowParser::Create(level_, record);
      if (!parser.ok()) return parser.status();
      parser_.emplace(*std::move(parser));
      continue;
    }
    ++report_.rows_read;
    std::variant<ProfileRow, RowError> result = parser_->ParseRow(record);
    if (auto* error = std::get_if<RowError>(&result)) {
      report_.Reject(std::move(*error), options_.max_kept_errors);
      continue;
    }
    if (absl::Status status = sink_(std::get<ProfileRow>(result));
        !status.ok()) {
      return status;
    }
    ++report_.rows_accepted;
  }
  return absl::OkStatus();
}

}  // namespace parley::profiles
