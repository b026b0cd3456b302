#ifndef PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_KEY_H_
#define PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_KEY_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "proto/parley/v1/history.pb.h"

namespace parley::history {

// Digits of the zero-padded time at the start of a key (enough until the
// year 33658).
inline constexpr int kKeyTimeDigits = 15;

// The longest treatment code a stored record may have (the cache tier's
// key limit less the rest of the key).
inline constexpr size_t kMaxTreatmentCodeBytes = 1024 - kKeyTimeDigits - 3;

// Checks that `record` can be stored: a kind, a treatment code (at most
// kMaxTreatmentCodeBytes) and a valid time at or after the Unix epoch.
// INVALID_ARGUMENT naming the problem otherwise.
absl::Status ValidateHistoryRecord(const v1::HistoryRecord& record);

// The record's time in milliseconds since the Unix epoch (rounded down).
int64_t RecordMillis(const v1::HistoryRecord& record);

// The cache key of a valid record: "<time millis, kKeyTimeDigits digits>/
// <kind number>/<treatment code>", e.g. "001706692800123/1/TC-9". The same
// event always has the same key (a retried write overwrites itself), and
// keys sort by time first, so a partition's keys are oldest first.
std::string HistoryKey(const v1::HistoryRecord& record);

// The time in a key HistoryKey made; nullopt for any other key.
absl::optional<int64_t> HistoryKeyMillis(absl::string_view key);

}  // namespace parley::history

#endif  // PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_KEY_H_
