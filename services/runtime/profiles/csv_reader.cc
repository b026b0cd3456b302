#include "services/runtime/profiles/csv_reader.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace parley::profiles {
namespace {

constexpr char kByteOrderMark[] = "\xEF\xBB\xBF";
constexpr int kByteOrderMarkSize = 3;

bool IsLineEnd(char c) { return c == '\n' || c == '\r'; }

}  // namespace

void CsvReader::Feed(absl::string_view chunk, std::vector<CsvRecord>* out) {
  bytes_consumed_ += static_cast<int64_t>(chunk.size());
  for (char c : chunk) {
    if (bom_matched_ >= 0) {
      if (c == kByteOrderMark[bom_matched_]) {
        if (++bom_matched_ == kByteOrderMarkSize) bom_matched_ = -1;
        continue;
      }
      // Not a byte order mark after all: the bytes held back are data.
      const int held = bom_matched_;
      bom_matched_ = -1;
      for (int i = 0; i < held; ++i) ProcessByte(kByteOrderMark[i], out);
    }
    ProcessByte(c, out);
  }
}

void CsvReader::Finish(std::vector<CsvRecord>* out) {
  if (bom_matched_ > 0) {
    const int held = bom_matched_;
    bom_matched_ = -1;
    for (int i = 0; i < held; ++i) ProcessByte(kByteOrderMark[i], out);
  }
  bom_matched_ = -1;
  after_cr_ = false;
  switch (state_) {
    case State::kQuoted:
      record_.status = absl::InvalidArgumentError(
          "unterminated quoted field at the end of the input");
      EndField();
      EndRecord(out);
      break;
    case State::kSkipToLineEnd:
      EndRecord(out);
      break;
    default:
      if (in_record_) {
        EndField();
        EndRecord(out);
      }
      break;
  }
}

void CsvReader::ProcessByte(char c, std::vector<CsvRecord>* out) {
  if (after_cr_) {
    after_cr_ = false;
    if (c == '\n') return;  // The LF of a CRLF already counted.
  }
  if (IsLineEnd(c) && state_ != State::kQuoted) {
    if (in_record_) {
      if (state_ != State::kSkipToLineEnd) EndField();
      EndRecord(out);
    }  // Else a blank line: skipped.
    ++line_;
    after_cr_ = c == '\r';
    return;
  }
  StartRecordIfNeeded();
  if (state_ != State::kSkipToLineEnd && ++record_bytes_ > kMaxCsvRecordBytes) {
    record_.fields.clear();
    Fail(absl::StrCat("the record is longer than ", kMaxCsvRecordBytes,
                      " bytes; is a quote never closed?"));
    return;
  }
  switch (state_) {
    case State::kFieldStart:
      if (c == '"') {
        state_ = State::kQuoted;
      } else if (c == ',') {
        EndField();
      } else {
        field_.push_back(c);
        state_ = State::kUnquoted;
      }
      break;
    case State::kUnquoted:
      if (c == ',') {
        EndField();
      } else if (c == '"') {
        Fail("quote inside an unquoted field");
      } else {
        field_.push_back(c);
      }
      break;
    case State::kQuoted:
      if (c == '"') {
        state_ = State::kQuoteInQuoted;
      } else {
        field_.push_back(c);
        if (c == '\n') ++line_;
      }
      break;
    case State::kQuoteInQuoted:
      if (c == '"') {
        field_.push_back('"');
        state_ = State::kQuoted;
      } else if (c == ',') {
        EndField();
      } else {
        Fail("unexpected character after the closing quote of a field");
      }
      break;
    case State::kSkipToLineEnd:
      break;
  }
}

void CsvReader::StartRecordIfNeeded() {
  if (in_record_) return;
  in_record_ = true;
  record_.line = line_;
}

void CsvReader::EndField() {
  record_.fields.push_back(std::move(field_));
  field_.clear();
  state_ = State::kFieldStart;
}

void CsvReader::EndRecord(std::vector<CsvRecord>* out) {
  out->push_back(std::move(record_));
  record_ = CsvRecord();
  field_.clear();
  in_record_ = false;
  record_bytes_ = 0;
  state_ = State::kFieldStart;
}

void CsvReader::Fail(absl::string_view message) {
  record_.status = absl::InvalidArgumentError(message);
  field_.clear();
  state_ = State::kSkipToLineEnd;
}

}  // namespace parley::profiles
