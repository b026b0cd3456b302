#ifndef PARLEY_TOOLS_PARLEYCTL_ARGS_H_
#define PARLEY_TOOLS_PARLEYCTL_ARGS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace parley::parleyctl {

// One --option a command accepts.
struct OptionSpec {
  std::string name;
  // What the value is called in help ("N", "FILE"); empty for a switch
  // (--json, --json=true|false).
  std::string value_name;
  std::string help;
  // Shown in help; the parser does not apply it.
  std::string default_text;
};

// A command line split into options and positional arguments.
class ParsedArgs {
 public:
  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(absl::string_view name) const;
  // The option's value, or `fallback` when it was not given.
  std::string Get(absl::string_view name, absl::string_view fallback) const;
  bool GetBool(absl::string_view name) const;
  // Typed values; a usage error when the value does not parse.
  absl::StatusOr<uint64_t> GetUint(absl::string_view name,
                                   uint64_t fallback) const;
  absl::StatusOr<absl::Duration> GetDuration(absl::string_view name,
                                             absl::Duration fallback) const;

  void SetForTest(const std::string& name, const std::string& value) {
    values_[name] = value;
  }

 private:
  friend absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>&,
                                              const std::vector<OptionSpec>&);
  std::map<std::string, std::string, std::less<>> values_;
  std::vector<std::string> positional_;
};

// Parses `args` (options and positionals in any order) against `specs`:
// `--name=value`, `--name value`, `--switch`, `--switch=false`, `--noswitch`,
// and `--` before positionals that start with '-'. A lone `-` is
// positional (standard input). Returns a usage error (see UsageError) for
// an unknown option or a missing value, naming the option.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<OptionSpec>& specs);

// A duration: "10s", "1.5m", "500ms", or plain seconds ("10").
absl::StatusOr<absl::Duration> ParseDurationText(absl::string_view text);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_ARGS_H_
