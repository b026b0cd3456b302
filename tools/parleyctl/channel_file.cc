#include "tools/parleyctl/channel_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/problem_locator.h"
#include "yaml-cpp/yaml.h"

namespace parley::parleyctl {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;

void Position(const YAML::Node& node, Json& json) {
  const YAML::Mark mark = node.Mark();
  if (!mark.is_null()) json.set_position(mark.line + 1, mark.column + 1);
}

const FieldDescriptor* FindField(const Descriptor* type,
                                 const std::string& key) {
  if (type == nullptr) return nullptr;
  if (const FieldDescriptor* field = type->FindFieldByName(key)) return field;
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == key) return type->field(i);
  }
  return nullptr;
}

bool IsJsonNumber(const std::string& text) {
  absl::StatusOr<Json> parsed = ParseJson(text);
  return parsed.ok() && parsed->kind() == Json::Kind::kNumber;
}

// A plain YAML scalar for a field of `field`'s type (null: unknown type).
Json Scalar(const YAML::Node& node, const FieldDescriptor* field) {
  const std::string& text = node.Scalar();
  const bool plain = node.Tag() != "!";
  if (plain && (text.empty() || text == "~" || text == "null" ||
                text == "Null" || text == "NULL")) {
    return Json::Null();
  }
  if (field == nullptr) return Json::String(text);
  FieldDescriptor::CppType type = field->cpp_type();
  if (type == FieldDescriptor::CPPTYPE_MESSAGE) {
    // Well-known wrappers hold their scalar in "value".
    const FieldDescriptor* value =
        field->message_type()->FindFieldByName("value");
    if (field->message_type()->full_name().rfind("google.protobuf.", 0) == 0 &&
        value != nullptr && field->message_type()->field_count() == 1) {
      type = value->cpp_type();
    } else {
      return Json::String(text);  // Timestamp, Duration: text forms.
    }
  }
  switch (type) {
    case FieldDescriptor::CPPTYPE_BOOL: {
      const std::string lower = absl::AsciiStrToLower(text);
      if (lower == "true" || lower == "yes" || lower == "on") {
        return Json::Bool(true);
      }
      if (lower == "false" || lower == "no" || lower == "off") {
        return Json::Bool(false);
      }
      return Json::String(text);  // Protobuf reports the bad value.
    }
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return IsJsonNumber(text) ? Json::RawNumber(text) : Json::String(text);
    default:
      // Strings, enums, 64-bit integers (strings in protobuf JSON), bytes.
      return Json::String(text);
  }
}

absl::StatusOr<Json> Convert(const YAML::Node& node, const Descriptor* type,
                             const FieldDescriptor* field, int depth) {
  if (depth > 100) return absl::InvalidArgumentError("nested too deeply");
  Json out;
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out = Json::Object();
      for (const auto& member : node) {
        if (!member.first.IsScalar()) {
          Json key;
          Position(member.first, key);
          return absl::InvalidArgumentError(absl::StrCat(
              key.line(), ":", key.column(), ": keys must be plain names"));
        }
        const std::string key = member.first.Scalar();
        const FieldDescriptor* child = FindField(type, key);
        const Descriptor* child_type =
            child != nullptr && child->message_type() != nullptr
                ? child->message_type()
                : nullptr;
        absl::StatusOr<Json> value =
            Convert(member.second, child_type, child, depth + 1);
        if (!value.ok()) return value.status();
        out.Set(key, *std::move(value));
      }
      break;
    }
    case YAML::NodeType::Sequence:
      out = Json::Array();
      for (const auto& item : node) {
        absl::StatusOr<Json> value = Convert(item, type, field, depth + 1);
        if (!value.ok()) return value.status();
        out.Append(*std::move(value));
      }
      break;
    case YAML::NodeType::Scalar:
      out = Scalar(node, field);
      break;
    default:
      out = Json::Null();
      break;
  }
  Position(node, out);
  return out;
}

// "PATH:LINE:COLUMN: " or "PATH: ".
std::string Where(const std::string& path, SourcePosition position) {
  if (!position.known()) return absl::StrCat(path, ": ");
  return absl::StrCat(path, ":", position.line, ":", position.column, ": ");
}

// The protobuf JSON path at the start of a parse error, e.g.
// "audienceLevels[0].profileAttributes[0].type: invalid value ...".
std::string ErrorPath(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos) return "";
  absl::string_view path = message.substr(0, colon);
  if (absl::ConsumePrefix(&path, "(") && !absl::ConsumeSuffix(&path, ")")) {
    return "";
  }
  for (const char c : path) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '[' &&
        c != ']') {
      return "";
    }
  }
  return std::string(path);
}

}  // namespace

bool LooksLikeYaml(absl::string_view path, absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".yaml") || absl::EndsWith(lower, ".yml")) {
    return true;
  }
  if (absl::EndsWith(lower, ".json")) return false;
  const absl::string_view stripped = absl::StripLeadingAsciiWhitespace(text);
  return stripped.empty() || stripped.front() != '{';
}

absl::StatusOr<Json> YamlToJson(absl::string_view text,
                                const google::protobuf::Descriptor* type) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    return Convert(root, type, nullptr, 0);
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(absl::StrCat(
        error.mark.line + 1, ":", error.mark.column + 1, ": ", error.msg));
  }
}

absl::StatusOr<ChannelFile> ParseChannelFile(const std::string& path,
                                             absl::string_view text,
                                             bool yaml) {
  ChannelFile file;
  file.path = path;
  std::string json_text;
  if (yaml) {
    absl::StatusOr<Json> document =
        YamlToJson(text, v1::InteractiveChannel::descriptor());
    if (!document.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", document.status().message(),
                       " (the file is not valid YAML)"));
    }
    file.document = *std::move(document);
    json_text = file.document.Serialize(false);
  } else {
    absl::StatusOr<Json> document = ParseJson(text);
    if (!document.ok()) {
      // "line L, column C: what" -> "PATH:L:C: what".
      int line = 0;
      int column = 0;
      const std::string message(document.status().message());
      char what[2];
      if (std::sscanf(message.c_str(), "line %d, column %d%1[:]", &line,
                      &column, what) == 3) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", line, ":", column, ":",
                         message.substr(message.find(':') + 1),
                         " (the file is not valid "
                         "JSON)"));
      }
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
    }
    file.document = *std::move(document);
    json_text = std::string(text);
  }
  if (!file.document.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(path, {file.document.line(), file.document.column()}),
        "a channel file holds one object (name, audienceLevels, ...)"));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      json_text, &file.channel, options);
  if (!parsed.ok()) {
    const std::string message(parsed.message());
    const std::string error_path = ErrorPath(message);
    SourcePosition position;
    if (!error_path.empty()) position = LocatePath(file.document, error_path);
    return absl::InvalidArgumentError(
        absl::StrCat(Where(path, position), message,
                     " (see proto/parley/v1/channel.proto for the fields)"));
  }
  return file;
}

absl::StatusOr<ChannelFile> ReadChannelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return WithHint(UsageError(absl::StrCat("cannot read ", path, ": ",
                                            std::strerror(errno))),
                    "give the path of a channel file (JSON or YAML)");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  return ParseChannelFile(path, text, LooksLikeYaml(path, text));
}

}  // namespace parley::parleyctl
