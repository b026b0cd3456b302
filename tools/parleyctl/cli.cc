#include "tools/parleyctl/cli.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/json.h"

namespace parley::parleyctl {
namespace {

constexpr char kExitCodesHelp[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  the operation failed: the server refused it (NOT_FOUND,\n"
    "     ALREADY_EXISTS, ABORTED, INVALID_ARGUMENT, ...) or refused the\n"
    "     caller (UNAUTHENTICATED, PERMISSION_DENIED), or its outcome is a\n"
    "     failure (rejected rows, unhealthy members)\n"
    "  2  usage error: unknown command or option, missing or malformed\n"
    "     argument, a file that cannot be read\n"
    "  3  a server cannot be reached (UNAVAILABLE, DEADLINE_EXCEEDED)\n";

// `text` in lines of at most kHelpWidth columns, each after `indent`
// spaces but the first, which continues the current line.
constexpr size_t kHelpWidth = 79;

std::string Wrap(const std::string& text, size_t indent) {
  std::string out;
  size_t column = indent;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (column > indent && column + 1 + word.size() > kHelpWidth) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    absl::StrAppend(&out, word);
    column += word.size();
  }
  return out;
}

std::string OptionLabel(const OptionSpec& spec) {
  return spec.value_name.empty()
             ? absl::StrCat("--", spec.name)
             : absl::StrCat("--", spec.name, "=", spec.value_name);
}

std::string OptionsHelp(const std::vector<OptionSpec>& specs) {
  size_t width = 0;
  for (const OptionSpec& spec : specs) {
    width = std::max(width, OptionLabel(spec).size());
  }
  std::string out;
  for (const OptionSpec& spec : specs) {
    const std::string label = OptionLabel(spec);
    std::string help = spec.help;
    if (!spec.default_text.empty()) {
      absl::StrAppend(&help, " (default ", spec.default_text, ")");
    }
    absl::StrAppend(&out, "  ", label, std::string(width - label.size(), ' '),
                    "  ", Wrap(help, width + 4), "\n");
  }
  return out;
}

std::string Usage(const Command& command) {
  std::string usage = absl::StrCat("parleyctl ", command.name);
  if (!command.options.empty()) usage += " [options]";
  if (!command.arguments.empty())
    absl::StrAppend(&usage, " ", command.arguments);
  return usage;
}

std::string CommandList(const std::vector<const Command*>& commands) {
  size_t width = 0;
  for (const Command* command : commands) {
    width = std::max(width, command->name.size());
  }
  std::string out;
  for (const Command* command : commands) {
    absl::StrAppend(&out, "  ", command->name,
                    std::string(width - command->name.size(), ' '), "  ",
                    Wrap(command->summary, width + 4), "\n");
  }
  return out;
}

bool IsFamily(const std::string& word, const std::vector<Command>& commands) {
  for (const Command& command : commands) {
    if (absl::StartsWith(command.name, word + " ")) return true;
  }
  return false;
}

const Command* FindCommand(const std::string& name,
                           const std::vector<Command>& commands) {
  for (const Command& command : commands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

bool TakesValue(const std::string& arg) {
  if (!absl::StartsWith(arg, "-") || absl::StrContains(arg, "=")) return false;
  const absl::string_view name = absl::StripLeadingAsciiWhitespace(
      absl::StripPrefix(absl::StripPrefix(arg, "-"), "-"));
  for (const OptionSpec& spec : GlobalOptionSpecs()) {
    if (spec.name == name) return !spec.value_name.empty();
  }
  return false;
}

bool WantsHelp(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--") return false;
    if (arg == "--help" || arg == "-h" || arg == "-help" ||
        arg == "--help=true") {
      return true;
    }
  }
  return false;
}

// A call refused for its caller gets a hint on the token to pass.
absl::Status WithAuthHint(absl::Status status, const GlobalOptions& options) {
  const bool unauthenticated = absl::IsUnauthenticated(status);
  if (!unauthenticated && !absl::IsPermissionDenied(status)) return status;
  constexpr char kUseAdmin[] =
      "pass --auth_token_file with a token of role admin (docs/security.md "
      "lists what each call needs)";
  std::string hint;
  if (options.auth_token_file.empty()) {
    hint = unauthenticated
               ? absl::StrCat("the server has authorization on: ", kUseAdmin,
                              "; over mutual TLS, a client certificate named "
                              "in its --auth_admin_cert_names also does")
               : kUseAdmin;
  } else if (unauthenticated) {
    hint = absl::StrCat(
        "the server does not know the token in "
        "--auth_token_file (",
        options.auth_token_file, "); ", kUseAdmin);
  } else {
    hint = absl::StrCat("the token in --auth_token_file (",
                        options.auth_token_file,
                        ") lacks the role this call needs; ", kUseAdmin);
  }
  return WithHint(std::move(status), hint);
}

int Fail(const absl::Status& status, bool json, std::ostream& out,
         std::ostream& err) {
  PrintError(status, json, out, err);
  return ExitCodeFor(status);
}

}  // namespace

std::string TopLevelHelp(const std::vector<Command>& commands) {
  std::vector<const Command*> all;
  for (const Command& command : commands) all.push_back(&command);
  return absl::StrCat(
      "parleyctl administers a Parley cluster: its coordinator, server "
      "groups,\nconfiguration, deployments, runtime servers and cache "
      "nodes.\n\n"
      "Usage: parleyctl COMMAND [options] [arguments]\n\n"
      "Commands:\n",
      CommandList(all),
      "\nGlobal options (every command takes them, anywhere on the line):\n",
      OptionsHelp(GlobalOptionSpecs()), "\n", kExitCodesHelp,
      "\nRun `parleyctl COMMAND --help` for a command's options and "
      "arguments;\ndocs/parleyctl.md has examples.\n");
}

std::string FamilyHelp(const std::string& family,
                       const std::vector<Command>& commands) {
  std::vector<const Command*> members;
  for (const Command& command : commands) {
    if (absl::StartsWith(command.name, family + " ")) {
      members.push_back(&command);
    }
  }
  return absl::StrCat("Usage: parleyctl ", family,
                      " SUBCOMMAND [options] [arguments]\n\nSubcommands:\n",
                      CommandList(members), "\nRun `parleyctl ", family,
                      " SUBCOMMAND --help` for a subcommand's options.\n");
}

std::string CommandHelp(const Command& command) {
  std::string out =
      absl::StrCat("Usage: ", Usage(command), "\n\n", command.summary, ".\n");
  if (!command.details.empty()) absl::StrAppend(&out, "\n", command.details);
  if (!command.options.empty()) {
    absl::StrAppend(&out, "\nOptions:\n", OptionsHelp(command.options));
  }
  absl::StrAppend(&out, "\nGlobal options:\n", OptionsHelp(GlobalOptionSpecs()),
                  "\n", kExitCodesHelp);
  return out;
}

void PrintError(const absl::Status& status, bool json, std::ostream& out,
                std::ostream& err) {
  const std::string hint = HintOf(status);
  err << "parleyctl: " << status.message() << "\n";
  if (!hint.empty()) err << "hint: " << hint << "\n";
  if (!json || IsAlreadyReported(status)) return;
  std::vector<std::string> lines = absl::StrSplit(status.message(), '\n');
  Json error = Json::Object();
  error.Set("code", Json::String(CodeName(status.code())));
  error.Set("exit_code", Json::Number(static_cast<int>(ExitCodeFor(status))));
  error.Set("message", Json::String(lines.front()));
  if (lines.size() > 1) {
    Json& details = error.Set("details", Json::Array());
    for (size_t i = 1; i < lines.size(); ++i) {
      details.Append(
          Json::String(std::string(absl::StripAsciiWhitespace(lines[i]))));
    }
  }
  if (!hint.empty()) error.Set("hint", Json::String(hint));
  Json top = Json::Object();
  top.Set("error", std::move(error));
  out << top.Serialize(true);
}

int RunCli(const std::vector<std::string>& args,
           const std::vector<Command>& commands, std::ostream& out,
           std::ostream& err, bool stderr_is_tty) {
  // The command words are the first arguments that are not options.
  std::vector<size_t> word_indices;
  for (size_t i = 0; i < args.size() && word_indices.size() < 2; ++i) {
    if (args[i] == "--") break;
    if (absl::StartsWith(args[i], "-") && args[i].size() > 1) {
      if (TakesValue(args[i])) ++i;
      continue;
    }
    word_indices.push_back(i);
  }
  const bool help = WantsHelp(args);
  bool json = false;
  for (const std::string& arg : args) {
    if (arg == "--json" || arg == "--json=true") json = true;
  }
  if (word_indices.empty()) {
    if (help) {
      out << TopLevelHelp(commands);
      return kExitOk;
    }
    err << TopLevelHelp(commands);
    return kExitUsage;
  }
  const std::string first = args[word_indices[0]];
  const Command* command = nullptr;
  size_t words = 1;
  if (word_indices.size() > 1) {
    command =
        FindCommand(absl::StrCat(first, " ", args[word_indices[1]]), commands);
    words = 2;
  }
  if (command == nullptr) {
    command = FindCommand(first, commands);
    words = 1;
  }
  if (command == nullptr) {
    if (IsFamily(first, commands)) {
      if (help) {
        out << FamilyHelp(first, commands);
        return kExitOk;
      }
      const std::string message =
          word_indices.size() > 1
              ? absl::StrCat("unknown command '", first, " ",
                             args[word_indices[1]], "'")
              : absl::StrCat("'", first, "' needs a subcommand");
      err << FamilyHelp(first, commands) << "\n";
      return Fail(WithHint(UsageError(message),
                           absl::StrCat("see `parleyctl ", first, " --help`")),
                  json, out, err);
    }
    return Fail(
        WithHint(UsageError(absl::StrCat("unknown command '", first, "'")),
                 "`parleyctl --help` lists the commands"),
        json, out, err);
  }
  if (help) {
    out << CommandHelp(*command);
    return kExitOk;
  }
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (std::find(word_indices.begin(), word_indices.begin() + words, i) ==
        word_indices.begin() + words) {
      rest.push_back(args[i]);
    }
  }
  std::vector<OptionSpec> specs = GlobalOptionSpecs();
  specs.insert(specs.end(), command->options.begin(), command->options.end());
  const std::string see_help =
      absl::StrCat("see `parleyctl ", command->name, " --help`");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(rest, specs);
  if (!parsed.ok()) {
    return Fail(WithHint(parsed.status(), see_help), json, out, err);
  }
  const size_t count = parsed->positional().size();
  if (count < command->min_args || count > command->max_args) {
    const std::string message =
        count < command->min_args
            ? absl::StrCat("missing arguments; usage: ", Usage(*command))
            : absl::StrCat("unexpected argument '",
                           parsed->positional()[command->max_args],
                           "'; usage: ", Usage(*command));
    return Fail(WithHint(UsageError(message), see_help), json, out, err);
  }
  absl::StatusOr<GlobalOptions> options = GlobalOptionsFromArgs(*parsed);
  if (!options.ok()) {
    return Fail(WithHint(options.status(), see_help), json, out, err);
  }
  json = options->json;
  Context context(*std::move(options), *std::move(parsed), out, err,
                  stderr_is_tty);
  absl::Status status = command->run(context);
  if (!status.ok()) {
    if (IsUsageError(status) && HintOf(status).empty()) {
      status = WithHint(status, see_help);
    }
    status = WithAuthHint(std::move(status), context.options());
    return Fail(status, json, out, err);
  }
  return kExitOk;
}

std::vector<Command> AllCommands() {
  std::vector<Command> commands;
  AddStatusCommands(commands);
  AddGroupsCommands(commands);
  AddConfigCommands(commands);
  AddDeployCommands(commands);
  AddDeploymentsCommands(commands);
  AddTestRunCommands(commands);
  AddProfilesCommands(commands);
  AddHistoryCommands(commands);
  AddSessionCommands(commands);
  AddCacheCommands(commands);
  return commands;
}

}  // namespace parley::parleyctl
