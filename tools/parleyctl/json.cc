#include "tools/parleyctl/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace parley::parleyctl {
namespace {

void AppendUtf8(uint32_t code, std::string& out) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

// A recursive-descent parser that tracks line and column (in characters).
class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<Json> ParseDocument() {
    SkipSpace();
    absl::StatusOr<Json> value = ParseValue(0);
    if (!value.ok()) return value;
    SkipSpace();
    if (pos_ < text_.size()) return Error("unexpected text after the value");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 200;

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line_, ", column ", column_, ": ", what));
  }

  // Moves past one byte, counting lines and characters.
  void Advance() {
    const char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++column_;
    }
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      Advance();
    }
  }

  bool Consume(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    for (size_t i = 0; i < word.size(); ++i) Advance();
    return true;
  }

  absl::StatusOr<Json> ParseValue(int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    if (pos_ >= text_.size()) return Error("unexpected end of text");
    const int line = line_;
    const int column = column_;
    absl::StatusOr<Json> value = ParseBare(depth);
    if (value.ok()) value->set_position(line, column);
    return value;
  }

  absl::StatusOr<Json> ParseBare(int depth) {
    const char c = text_[pos_];
    if (c == '{') return ParseObject(depth);
    if (c == '[') return ParseArray(depth);
    if (c == '"') {
      absl::StatusOr<std::string> text = ParseString();
      if (!text.ok()) return text.status();
      return Json::String(*std::move(text));
    }
    if (Consume("true")) return Json::Bool(true);
    if (Consume("false")) return Json::Bool(false);
    if (Consume("null")) return Json::Null();
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
    return Error(
        absl::StrCat("unexpected character '", text_.substr(pos_, 1), "'"));
  }

  absl::StatusOr<Json> ParseNumber() {
    const size_t start = pos_;
    auto digits = [&] {
      size_t n = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        Advance();
        ++n;
      }
      return n;
    };
    if (text_[pos_] == '-') Advance();
    if (digits() == 0) return Error("malformed number");
    if (pos_ < text_.size() && text_[pos_] == '.') {
      Advance();
      if (digits() == 0) return Error("malformed number");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      Advance();
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        Advance();
      }
      if (digits() == 0) return Error("malformed number");
    }
    return Json::RawNumber(std::string(text_.substr(start, pos_ - start)));
  }

  absl::StatusOr<uint32_t> ParseHex4() {
    if (pos_ + 4 > text_.size()) return Error("short \\u escape");
    uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_];
      code <<= 4;
      if (c >= '0' && c <= '9') {
        code |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        code |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        code |= c - 'A' + 10;
      } else {
        return Error("malformed \\u escape");
      }
      Advance();
    }
    return code;
  }

  absl::StatusOr<std::string> ParseString() {
    Advance();  // The opening quote.
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        Advance();
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return Error("control character in string (escape it)");
      }
      if (c != '\\') {
        out.push_back(c);
        Advance();
        continue;
      }
      Advance();
      if (pos_ >= text_.size()) return Error("unterminated string");
      const char e = text_[pos_];
      Advance();
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          absl::StatusOr<uint32_t> code = ParseHex4();
          if (!code.ok()) return code.status();
          uint32_t value = *code;
          if (value >= 0xD800 && value <= 0xDBFF) {
            if (!Consume("\\u")) return Error("unpaired surrogate");
            absl::StatusOr<uint32_t> low = ParseHex4();
            if (!low.ok()) return low.status();
            if (*low < 0xDC00 || *low > 0xDFFF) {
              return Error("unpaired surrogate");
            }
            value = 0x10000 + ((value - 0xD800) << 10) + (*low - 0xDC00);
          } else if (value >= 0xDC00 && value <= 0xDFFF) {
            return Error("unpaired surrogate");
          }
          AppendUtf8(value, out);
          break;
        }
        default:
          return Error(absl::StrCat("unknown escape \\", std::string(1, e)));
      }
    }
  }

  absl::StatusOr<Json> ParseArray(int depth) {
    Advance();
    Json array = Json::Array();
    SkipSpace();
    if (Consume("]")) return array;
    while (true) {
      SkipSpace();
      absl::StatusOr<Json> item = ParseValue(depth + 1);
      if (!item.ok()) return item;
      array.Append(*std::move(item));
      SkipSpace();
      if (Consume(",")) continue;
      if (Consume("]")) return array;
      return Error("expected ',' or ']'");
    }
  }

  absl::StatusOr<Json> ParseObject(int depth) {
    Advance();
    Json object = Json::Object();
    SkipSpace();
    if (Consume("}")) return object;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return Error("expected a quoted member name");
      }
      absl::StatusOr<std::string> key = ParseString();
      if (!key.ok()) return key.status();
      SkipSpace();
      if (!Consume(":")) return Error("expected ':' after a member name");
      SkipSpace();
      absl::StatusOr<Json> value = ParseValue(depth + 1);
      if (!value.ok()) return value;
      object.Set(*key, *std::move(value));
      SkipSpace();
      if (Consume(",")) continue;
      if (Consume("}")) return object;
      return Error("expected ',' or '}'");
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

void Indent(std::string& out, int indent) {
  out.push_back('\n');
  out.append(static_cast<size_t>(indent) * 2, ' ');
}

}  // namespace

Json Json::Bool(bool value) {
  Json json;
  json.kind_ = Kind::kBool;
  json.text_ = value ? "true" : "false";
  return json;
}

Json Json::Number(int64_t value) { return RawNumber(absl::StrCat(value)); }

Json Json::Number(uint64_t value) { return RawNumber(absl::StrCat(value)); }

Json Json::Number(double value) {
  if (!std::isfinite(value)) return Null();
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return RawNumber(absl::StrCat(static_cast<int64_t>(value)));
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  // The shortest form that reads back the same.
  for (int precision = 1; precision <= 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof(shorter), "%.*g", precision, value);
    if (std::strtod(shorter, nullptr) == value) {
      return RawNumber(shorter);
    }
  }
  return RawNumber(buffer);
}

Json Json::RawNumber(std::string text) {
  Json json;
  json.kind_ = Kind::kNumber;
  json.text_ = std::move(text);
  return json;
}

Json Json::String(std::string value) {
  Json json;
  json.kind_ = Kind::kString;
  json.text_ = std::move(value);
  return json;
}

Json Json::Array() {
  Json json;
  json.kind_ = Kind::kArray;
  return json;
}

Json Json::Object() {
  Json json;
  json.kind_ = Kind::kObject;
  return json;
}

Json& Json::Append(Json value) {
  items_.push_back(std::move(value));
  return items_.back();
}

Json& Json::Set(absl::string_view key, Json value) {
  for (auto& member : members_) {
    if (member.first == key) {
      member.second = std::move(value);
      return member.second;
    }
  }
  members_.emplace_back(std::string(key), std::move(value));
  return members_.back().second;
}

const Json* Json::Find(absl::string_view key) const {
  for (const auto& member : members_) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

Json* Json::FindMutable(absl::string_view key) {
  for (auto& member : members_) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

std::string Json::Serialize(bool pretty) const {
  std::string out;
  Write(out, pretty, 0);
  if (pretty) out.push_back('\n');
  return out;
}

void Json::Write(std::string& out, bool pretty, int indent) const {
  switch (kind_) {
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kBool:
    case Kind::kNumber:
      out += text_;
      return;
    case Kind::kString:
      out += QuoteJson(text_);
      return;
    case Kind::kArray:
      if (items_.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i > 0) out.push_back(',');
        if (pretty) Indent(out, indent + 1);
        items_[i].Write(out, pretty, indent + 1);
      }
      if (pretty) Indent(out, indent);
      out.push_back(']');
      return;
    case Kind::kObject:
      if (members_.empty()) {
        out += "{}";
        return;
      }
      out.push_back('{');
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i > 0) out.push_back(',');
        if (pretty) Indent(out, indent + 1);
        out += QuoteJson(members_[i].first);
        out += pretty ? ": " : ":";
        members_[i].second.Write(out, pretty, indent + 1);
      }
      if (pretty) Indent(out, indent);
      out.push_back('}');
      return;
  }
}

absl::StatusOr<Json> ParseJson(absl::string_view text) {
  return Parser(text).ParseDocument();
}

Json ProtoToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options)
           .ok()) {
    return Json::Null();
  }
  absl::StatusOr<Json> json = ParseJson(text);
  return json.ok() ? *std::move(json) : Json::Null();
}

std::string QuoteJson(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
          out += buffer;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace parley::parleyctl
