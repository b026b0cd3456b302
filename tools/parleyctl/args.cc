#include "tools/parleyctl/args.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/parleyctl/errors.h"

namespace parley::parleyctl {
namespace {

const OptionSpec* FindSpec(const std::vector<OptionSpec>& specs,
                           absl::string_view name) {
  for (const OptionSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

absl::StatusOr<bool> ParseSwitch(absl::string_view name,
                                 absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  return UsageError(
      absl::StrCat("--", name, " takes true or false, not '", text, "'"));
}

}  // namespace

bool ParsedArgs::Has(absl::string_view name) const {
  return values_.find(name) != values_.end();
}

std::string ParsedArgs::Get(absl::string_view name,
                            absl::string_view fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::string(fallback) : it->second;
}

bool ParsedArgs::GetBool(absl::string_view name) const {
  return Get(name, "false") == "true";
}

absl::StatusOr<uint64_t> ParsedArgs::GetUint(absl::string_view name,
                                             uint64_t fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  uint64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || it->second.empty() ||
      it->second[0] == '-' || it->second[0] == '+') {
    return UsageError(absl::StrCat("--", name, " takes a whole number, not '",
                                   it->second, "'"));
  }
  return value;
}

absl::StatusOr<absl::Duration> ParsedArgs::GetDuration(
    absl::string_view name, absl::Duration fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  absl::StatusOr<absl::Duration> duration = ParseDurationText(it->second);
  if (!duration.ok()) {
    return UsageError(
        absl::StrCat("--", name, ": ", duration.status().message()));
  }
  return duration;
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<OptionSpec>& specs) {
  ParsedArgs parsed;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      parsed.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h") {
      parsed.values_["help"] = "true";
      continue;
    }
    // Accept -name as well as --name, as Abseil-style tools do.
    absl::string_view body = arg;
    body.remove_prefix(absl::StartsWith(body, "--") ? 2 : 1);
    absl::string_view name = body;
    absl::string_view value;
    bool has_value = false;
    if (const size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    const OptionSpec* spec = FindSpec(specs, name);
    if (spec == nullptr && !has_value && absl::StartsWith(name, "no")) {
      const OptionSpec* negated = FindSpec(specs, name.substr(2));
      if (negated != nullptr && negated->value_name.empty()) {
        parsed.values_[negated->name] = "false";
        continue;
      }
    }
    if (spec == nullptr) {
      return UsageError(absl::StrCat("unknown option --", name));
    }
    if (spec->value_name.empty()) {
      bool on = true;
      if (has_value) {
        absl::StatusOr<bool> parsed_switch = ParseSwitch(name, value);
        if (!parsed_switch.ok()) return parsed_switch.status();
        on = *parsed_switch;
      }
      parsed.values_[spec->name] = on ? "true" : "false";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return UsageError(absl::StrCat("--", name, " needs a value (--", name,
                                       "=", spec->value_name, ")"));
      }
      value = args[++i];
    }
    parsed.values_[spec->name] = std::string(value);
  }
  return parsed;
}

absl::StatusOr<absl::Duration> ParseDurationText(absl::string_view text) {
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    if (seconds < 0) return UsageError("a duration cannot be negative");
    return absl::Seconds(seconds);
  }
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) ||
      duration < absl::ZeroDuration()) {
    return UsageError(
        absl::StrCat("'", text, "' is not a duration (e.g. 10s, 500ms, 2m)"));
  }
  return duration;
}

}  // namespace parley::parleyctl
