#ifndef PARLEY_TOOLS_PARLEYCTL_CHANNEL_FILE_H_
#define PARLEY_TOOLS_PARLEYCTL_CHANNEL_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "proto/parley/v1/channel.pb.h"
#include "tools/parleyctl/json.h"

namespace parley::parleyctl {

// A channel read from a deploy file, with the file's document tree, whose
// values remember their lines and columns.
struct ChannelFile {
  // As given on the command line; messages name it.
  std::string path;
  v1::InteractiveChannel channel;
  Json document;
};

// Whether `path` is YAML by its name (.yaml, .yml), else by its content
// (text that does not start with '{' is YAML).
bool LooksLikeYaml(absl::string_view path, absl::string_view text);

// Parses a channel in the protobuf JSON mapping (field names in camelCase
// or as in the .proto), written as JSON or YAML. Syntax errors and fields
// protobuf refuses come back as InvalidArgument "PATH:LINE:COLUMN: ...".
absl::StatusOr<ChannelFile> ParseChannelFile(const std::string& path,
                                             absl::string_view text, bool yaml);

// Reads and parses a channel file; a file that cannot be read is a usage
// error.
absl::StatusOr<ChannelFile> ReadChannelFile(const std::string& path);

// A YAML document as JSON, shaped by `type` when given: scalars become
// strings, numbers or booleans as the message's fields want them (YAML's own
// typing would turn a name like `2026` or `yes` into a number or boolean).
// Values keep their YAML lines and columns.
absl::StatusOr<Json> YamlToJson(absl::string_view text,
                                const google::protobuf::Descriptor* type);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_CHANNEL_FILE_H_
