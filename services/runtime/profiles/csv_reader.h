#ifndef PARLEY_SERVICES_RUNTIME_PROFILES_CSV_READER_H_
#define PARLEY_SERVICES_RUNTIME_PROFILES_CSV_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace parley::profiles {

// The longest record CsvReader holds; a longer one (e.g. after a quote
// that is never closed) is reported malformed instead of growing memory.
inline constexpr int64_t kMaxCsvRecordBytes = 1 << 20;

// One CSV record and where it starts in the input.
struct CsvRecord {
  // 1-based line on which the record starts.
  int64_t line = 0;
  // The unquoted field values; partial when `status` is not OK.
  std::vector<std::string> fields;
  // InvalidArgument when the record is malformed (stray or unterminated
  // quote); the message names the problem, the line is in `line`.
  absl::Status status;
};

// A streaming RFC 4180 reader: input arrives in chunks of any size, split
// anywhere (even inside a quoted field or a CRLF), and complete records come
// out as soon as they end, so a large file never sits in memory.
//
// Accepts quoted fields with "" escapes and embedded commas and line breaks,
// LF, CRLF or CR line ends and an optional UTF-8 byte order mark. Blank lines
// (no characters at all) between records are skipped. A malformed record
// (including one longer than kMaxCsvRecordBytes) is returned with an error
// status and reading goes on at the next line.
//
// Hand-written: none of Debian's C++ packages offers a streaming CSV parser
// that fits (chunked input, per-record line numbers and errors).
class CsvReader {
 public:
  CsvReader() = default;
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Consumes `chunk` and appends the records it completes to `out`.
  void Feed(absl::string_view chunk, std::vector<CsvRecord>* out);

  // Ends the input and appends the last record, if any, to `out`. The reader
  // must not be fed afterwards.
  void Finish(std::vector<CsvRecord>* out);

  // Bytes consumed so far, for progress.
  int64_t bytes_consumed() const { return bytes_consumed_; }

 private:
  enum class State {
    kFieldStart,     // At the start of a field.
    kUnquoted,       // Inside an unquoted field.
    kQuoted,         // Inside a quoted field.
    kQuoteInQuoted,  // After a quote inside a quoted field.
    kSkipToLineEnd,  // The record is malformed; dropping the rest of it.
  };

  void ProcessByte(char c, std::vector<CsvRecord>* out);
  // Starts a record on the first byte that belongs to it.
  void StartRecordIfNeeded();
  void EndField();
  void EndRecord(std::vector<CsvRecord>* out);
  // Marks the current record malformed and skips to its end.
  void Fail(absl::string_view message);

  State state_ = State::kFieldStart;
  int64_t line_ = 1;
  int64_t bytes_consumed_ = 0;
  // Bytes of a possible byte order mark seen so far; -1 once decided.
  int bom_matched_ = 0;
  // The previous byte ended a line with CR: a following LF belongs to it.
  bool after_cr_ = false;
  bool in_record_ = false;
  // Bytes of the current record so far.
  int64_t record_bytes_ = 0;
  CsvRecord record_;
  std::string field_;
};

}  // namespace parley::profiles

#endif  // PARLEY_SERVICES_RUNTIME_PROFILES_CSV_READER_H_
