#ifndef PARLEY_FUZZ_HISTORY_CHECKS_H_
#define PARLEY_FUZZ_HISTORY_CHECKS_H_

#include "proto/parley/v1/history.pb.h"

namespace parley::fuzz {

// Runs a history record through key making and both export formats.
// For a record ValidateHistoryRecord accepts, checks that HistoryKeyMillis
// reads back RecordMillis from HistoryKey, that the CSV row reads back (with
// the profile loader's CSV reader) as the header's ten fields holding the
// record's text, and that the JSON line parses back to the record. With
// `from_engine`, also requires the record to be valid and its JSON export
// to succeed: what the engine logs must be storable and exportable.
void CheckHistoryRecord(const v1::HistoryRecord& record, bool from_engine);

}  // namespace parley::fuzz

#endif  // PARLEY_FUZZ_HISTORY_CHECKS_H_
