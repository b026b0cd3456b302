// parleyctl: the command-line tool for a Parley cluster. See
// docs/parleyctl.md.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "tools/parleyctl/cli.h"
#include "tools/parleyctl/command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return parley::parleyctl::RunCli(args, parley::parleyctl::AllCommands(),
                                   std::cout, std::cerr, isatty(2) == 1);
}
