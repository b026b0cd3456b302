#ifndef PARLEY_TOOLS_PARLEYCTL_CLI_H_
#define PARLEY_TOOLS_PARLEYCTL_CLI_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/parleyctl/command.h"

namespace parley::parleyctl {

// Runs parleyctl with `args` (argv without the program name) among
// `commands`; writes to `out` and `err`; returns the exit code.
int RunCli(const std::vector<std::string>& args,
           const std::vector<Command>& commands, std::ostream& out,
           std::ostream& err, bool stderr_is_tty);

// Help text: every command with its summary, the global options and the
// exit codes.
std::string TopLevelHelp(const std::vector<Command>& commands);
// Help for commands whose name starts with `family` (e.g. "groups").
std::string FamilyHelp(const std::string& family,
                       const std::vector<Command>& commands);
// One command's usage, options and details.
std::string CommandHelp(const Command& command);

// Prints a failed command's status on `err` ("parleyctl: message" and the
// hint), and with `json` also {"error": ...} on `out`.
void PrintError(const absl::Status& status, bool json, std::ostream& out,
                std::ostream& err);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_CLI_H_
