#include "tools/parleyctl/cli.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tools/parleyctl/errors.h"
#include "tools/parleyctl/json.h"

namespace parley::parleyctl {
namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result Cli(std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = RunCli(args, AllCommands(), out, err, false);
  return {code, out.str(), err.str()};
}

TEST(CliTest, TopLevelHelpListsEveryCommandAndTheExitCodes) {
  const Result result = Cli({"--help"});
  EXPECT_EQ(result.code, kExitOk);
  for (const Command& command : AllCommands()) {
    EXPECT_TRUE(absl::StrContains(result.out, "  " + command.name + "  "))
        << command.name;
    EXPECT_FALSE(command.summary.empty()) << command.name;
  }
  EXPECT_TRUE(absl::StrContains(result.out, "Exit codes:"));
  EXPECT_TRUE(absl::StrContains(result.out, "--coordinator=HOST:PORT"));
  EXPECT_EQ(Cli({"-h"}).out, result.out);
}

TEST(CliTest, EveryCommandHasItsOwnHelp) {
  for (const Command& command : AllCommands()) {
    std::vector<std::string> args = absl::StrSplit(command.name, ' ');
    args.push_back("--help");
    const Result result = Cli(args);
    EXPECT_EQ(result.code, kExitOk) << command.name;
    EXPECT_TRUE(
        absl::StartsWith(result.out, "Usage: parleyctl " + command.name))
        << result.out;
    for (const OptionSpec& option : command.options) {
      EXPECT_TRUE(absl::StrContains(result.out, "--" + option.name))
          << command.name << " --" << option.name;
    }
    EXPECT_TRUE(absl::StrContains(result.out, "Exit codes:"));
  }
  // Help wins wherever it is and whatever else is wrong.
  EXPECT_EQ(Cli({"groups", "create", "--bogus", "--help"}).code, kExitOk);
}

TEST(CliTest, AFamilyListsItsSubcommands) {
  const Result result = Cli({"groups", "--help"});
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_TRUE(absl::StrContains(result.out, "groups create"));
  EXPECT_TRUE(absl::StrContains(result.out, "groups delete"));
  EXPECT_FALSE(absl::StrContains(result.out, "config set"));
  const Result missing = Cli({"groups"});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(missing.err, "'groups' needs a subcommand"));
}

TEST(CliTest, UsageErrorsExitTwoAndSayWhatToDo) {
  Result result = Cli({});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(result.err, "Commands:"));

  result = Cli({"frobnicate"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_EQ(result.err,
            "parleyctl: unknown command 'frobnicate'\n"
            "hint: `parleyctl --help` lists the commands\n");

  result = Cli({"groups", "explode"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(
      absl::StrContains(result.err, "unknown command 'groups explode'"));

  result = Cli({"groups", "list", "--colour=blue"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(result.err, "unknown option --colour"));
  EXPECT_TRUE(
      absl::StrContains(result.err, "see `parleyctl groups list --help`"));

  result = Cli({"groups", "create"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(
      absl::StrContains(result.err,
                        "missing arguments; usage: parleyctl groups create "
                        "[options] NAME"));

  result = Cli({"status", "extra"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(result.err, "unexpected argument 'extra'"));

  result = Cli({"--timeout=soon", "status"});
  EXPECT_EQ(result.code, kExitUsage);

  // Checked before any call: no server is needed.
  result = Cli({"groups", "set", "web"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(result.err, "nothing to change"));
  result = Cli({"groups", "create", "web", "--cache_type=SHARED"});
  EXPECT_EQ(result.code, kExitUsage);
  result = Cli({"deploy", "/nonexistent/channel.json"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(result.err, "cannot read"));
}

TEST(CliTest, JsonErrorsGoToStdoutAsAnObject) {
  const Result result = Cli({"--json", "frobnicate"});
  EXPECT_EQ(result.code, kExitUsage);
  absl::StatusOr<Json> json = ParseJson(result.out);
  ASSERT_TRUE(json.ok()) << result.out;
  const Json* error = json->Find("error");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->Find("code")->text(), "INVALID_ARGUMENT");
  EXPECT_EQ(error->Find("exit_code")->text(), "2");
  EXPECT_EQ(error->Find("message")->text(), "unknown command 'frobnicate'");
}

TEST(CliTest, GlobalOptionsMayComeBeforeTheCommand) {
  // --group takes a value that must not be read as the command.
  const Result result = Cli({"--group", "web", "groups", "set", "web"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(result.err, "nothing to change"));
}

TEST(CliTest, AnUnreachableServerExitsThree) {
  // Port 1 on the loopback refuses connections.
  const Result result =
      Cli({"--coordinator=127.0.0.1:1", "--timeout=5s", "groups", "list"});
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_TRUE(absl::StrContains(result.err,
                                "cannot reach the coordinator at 127.0.0.1:1"));
  EXPECT_TRUE(
      absl::StrContains(result.err, "hint: check that the coordinator"));
}

// --auth_token_file is read before any call: a file that cannot be read,
// is empty or holds more than one word is a usage error naming the file,
// and never shows the token.
TEST(CliTest, AnUnusableTokenFileIsAUsageError) {
  const std::string dir = ::testing::TempDir();
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  };
  const std::string missing = dir + "/no-such-token";
  Result result = Cli({"--coordinator=127.0.0.1:1", "groups", "list",
                       "--auth_token_file=" + missing});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(
      result.err, "cannot read --auth_token_file '" + missing + "'"))
      << result.err;

  const std::string empty = write("empty.token", "\n");
  result = Cli({"--coordinator=127.0.0.1:1", "--auth_token_file", empty,
                "groups", "list"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(result.err, "'" + empty + "' is empty"))
      << result.err;

  const std::string two = write("two.token", "s3cret-one\ns3cret-two\n");
  result = Cli({"--coordinator=127.0.0.1:1", "--auth_token_file=" + two,
                "groups", "list"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(result.err, "line break")) << result.err;
  EXPECT_FALSE(absl::StrContains(result.err, "s3cret")) << result.err;

  result = Cli({"--auth_token_file=", "groups", "list"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(result.err, "--auth_token_file is empty"))
      << result.err;
}

// A good token file changes nothing about an unreachable server.
TEST(CliTest, ATokenFileIsReadAndSent) {
  const std::string path = ::testing::TempDir() + "/good.token";
  std::ofstream(path, std::ios::trunc) << "t0ken\n";
  const Result result = Cli({"--coordinator=127.0.0.1:1", "--timeout=5s",
                             "--auth_token_file=" + path, "groups", "list"});
  EXPECT_EQ(result.code, kExitUnreachable) << result.err;
  EXPECT_TRUE(absl::StrContains(Cli({"--help"}).out, "--auth_token_file=FILE"));
}

}  // namespace
}  // namespace parley::parleyctl
