#ifndef PARLEY_TOOLS_PARLEYCTL_COMMAND_H_
#define PARLEY_TOOLS_PARLEYCTL_COMMAND_H_

#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/parleyctl/args.h"
#include "tools/parleyctl/context.h"

namespace parley::parleyctl {

inline constexpr size_t kAnyNumber = std::numeric_limits<size_t>::max();

// One leaf command, e.g. "groups list".
struct Command {
  // Words after "parleyctl": "status", "groups list".
  std::string name;
  // Positional arguments for the usage line, e.g. "NAME".
  std::string arguments;
  // One line for the command list.
  std::string summary;
  // More text for the command's own help (optional; lines end in '\n').
  std::string details;
  std::vector<OptionSpec> options;
  size_t min_args = 0;
  size_t max_args = 0;
  // Runs the command; its status decides the exit code (see errors.h).
  std::function<absl::Status(Context&)> run;
};

// Every command, in the order help lists them. Each file adds its own.
std::vector<Command> AllCommands();
void AddStatusCommands(std::vector<Command>& commands);
void AddGroupsCommands(std::vector<Command>& commands);
void AddConfigCommands(std::vector<Command>& commands);
void AddDeployCommands(std::vector<Command>& commands);
void AddDeploymentsCommands(std::vector<Command>& commands);
void AddTestRunCommands(std::vector<Command>& commands);
void AddProfilesCommands(std::vector<Command>& commands);
void AddHistoryCommands(std::vector<Command>& commands);
void AddSessionCommands(std::vector<Command>& commands);
void AddCacheCommands(std::vector<Command>& commands);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_COMMAND_H_
