#ifndef PARLEY_TOOLS_PARLEYCTL_JSON_H_
#define PARLEY_TOOLS_PARLEYCTL_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace parley::parleyctl {

// A JSON value whose objects keep their members in insertion order, so
// that parleyctl's --json output is stable enough to compare with golden
// files. Parsed values remember where they start (1-based line and column),
// which lets deploy point at the element a validation problem names.
class Json {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  Json() = default;
  static Json Null() { return Json(); }
  static Json Bool(bool value);
  static Json Number(int64_t value);
  static Json Number(uint64_t value);
  static Json Number(int value) { return Number(static_cast<int64_t>(value)); }
  static Json Number(double value);
  // A number written exactly as `text` (which must be a JSON number).
  static Json RawNumber(std::string text);
  static Json String(std::string value);
  static Json Array();
  static Json Object();

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_string() const { return kind_ == Kind::kString; }

  // The text of a string, the digits of a number, "true"/"false".
  const std::string& text() const { return text_; }
  bool bool_value() const { return text_ == "true"; }

  // Arrays.
  const std::vector<Json>& items() const { return items_; }
  Json& Append(Json value);

  // Objects: members in insertion order; Set replaces an existing member.
  const std::vector<std::pair<std::string, Json>>& members() const {
    return members_;
  }
  Json& Set(absl::string_view key, Json value);
  // The member called `key`, or null when there is none.
  const Json* Find(absl::string_view key) const;
  Json* FindMutable(absl::string_view key);

  // Where a parsed value starts (1-based); 0 when not parsed from text.
  int line() const { return line_; }
  int column() const { return column_; }
  void set_position(int line, int column) {
    line_ = line;
    column_ = column;
  }

  // Two-space indented text with a trailing newline (when `pretty`), or
  // compact text without one.
  std::string Serialize(bool pretty = true) const;

 private:
  void Write(std::string& out, bool pretty, int indent) const;

  Kind kind_ = Kind::kNull;
  std::string text_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
  int line_ = 0;
  int column_ = 0;
};

// Parses RFC 8259 JSON text. Errors name the line and column.
absl::StatusOr<Json> ParseJson(absl::string_view text);

// A message as protobuf JSON with the .proto field names, every field
// printed (zeros and empty lists included) so the shape does not vary.
Json ProtoToJson(const google::protobuf::Message& message);

// `text` quoted as a JSON string.
std::string QuoteJson(absl::string_view text);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_JSON_H_
