#include "services/runtime/history/history_key.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/time_util.h"

namespace parley::history {

absl::Status ValidateHistoryRecord(const v1::HistoryRecord& record) {
  if (record.kind() == v1::HISTORY_KIND_UNSPECIFIED ||
      !v1::HistoryKind_IsValid(record.kind())) {
    return absl::InvalidArgumentError(
        "the history record has no kind; set CONTACT, ACCEPTANCE or "
        "REJECTION");
  }
  if (record.treatment_code().empty()) {
    return absl::InvalidArgumentError(
        "the history record has no treatment_code; every presentation has "
        "one");
  }
  if (record.treatment_code().size() > kMaxTreatmentCodeBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the history record's treatment_code has ",
                     record.treatment_code().size(), " bytes; at most ",
                     kMaxTreatmentCodeBytes, " are allowed"));
  }
  if (!record.has_time()) {
    return absl::InvalidArgumentError("the history record has no time");
  }
  const google::protobuf::Timestamp& time = record.time();
  if (time.seconds() < 0 ||
      time.seconds() > google::protobuf::util::TimeUtil::kTimestampMaxSeconds ||
      time.nanos() < 0 || time.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the history record's time (", time.seconds(), " s, ", time.nanos(),
        " ns) is not a valid time at or after 1970-01-01T00:00:00Z"));
  }
  return absl::OkStatus();
}

int64_t RecordMillis(const v1::HistoryRecord& record) {
  return record.time().seconds() * 1000 + record.time().nanos() / 1000000;
}

std::string HistoryKey(const v1::HistoryRecord& record) {
  return absl::StrCat(
      absl::StrFormat("%0*d", kKeyTimeDigits, RecordMillis(record)), "/",
      static_cast<int>(record.kind()), "/", record.treatment_code());
}

absl::optional<int64_t> HistoryKeyMillis(absl::string_view key) {
  if (key.size() < kKeyTimeDigits + 4 || key[kKeyTimeDigits] != '/') {
    return absl::nullopt;
  }
  int64_t millis = 0;
  for (int i = 0; i < kKeyTimeDigits; ++i) {
    if (!absl::ascii_isdigit(key[i])) return absl::nullopt;
    millis = millis * 10 + (key[i] - '0');
  }
  return millis;
}

}  // namespace parley::history
