#include "tools/parleyctl/args.h"

#include "gtest/gtest.h"
#include "tools/parleyctl/errors.h"

namespace parley::parleyctl {
namespace {

const std::vector<OptionSpec>& Specs() {
  static const auto* specs = new std::vector<OptionSpec>{
      {"json", "", "", ""},
      {"group", "NAME", "", ""},
      {"expected_version", "N", "", ""},
      {"timeout", "DURATION", "", ""},
  };
  return *specs;
}

TEST(ArgsTest, SplitsOptionsAndPositionalsInAnyOrder) {
  absl::StatusOr<ParsedArgs> args =
      ParseArgs({"a", "--group", "web", "b", "--json", "--expected_version=3",
                 "-", "--", "--not-an-option"},
                Specs());
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->positional(),
            (std::vector<std::string>{"a", "b", "-", "--not-an-option"}));
  EXPECT_EQ(args->Get("group", ""), "web");
  EXPECT_TRUE(args->GetBool("json"));
  EXPECT_EQ(*args->GetUint("expected_version", 0), 3u);
  EXPECT_EQ(*args->GetUint("missing", 9), 9u);
}

TEST(ArgsTest, SwitchesTakeExplicitValuesAndNegation) {
  absl::StatusOr<ParsedArgs> args = ParseArgs({"--json=false"}, Specs());
  ASSERT_TRUE(args.ok());
  EXPECT_FALSE(args->GetBool("json"));
  args = ParseArgs({"--json", "--nojson"}, Specs());
  ASSERT_TRUE(args.ok());
  EXPECT_FALSE(args->GetBool("json"));
  args = ParseArgs({"-json"}, Specs());
  ASSERT_TRUE(args.ok());
  EXPECT_TRUE(args->GetBool("json"));
  EXPECT_TRUE(IsUsageError(ParseArgs({"--json=maybe"}, Specs()).status()));
}

TEST(ArgsTest, UnknownOptionsAndMissingValuesAreUsageErrors) {
  absl::StatusOr<ParsedArgs> args = ParseArgs({"--colour"}, Specs());
  ASSERT_FALSE(args.ok());
  EXPECT_TRUE(IsUsageError(args.status()));
  EXPECT_EQ(args.status().message(), "unknown option --colour");
  args = ParseArgs({"--group"}, Specs());
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().message(), "--group needs a value (--group=NAME)");
  EXPECT_EQ(ExitCodeFor(args.status()), kExitUsage);
}

TEST(ArgsTest, TypedValuesAreChecked) {
  absl::StatusOr<ParsedArgs> args =
      ParseArgs({"--expected_version=-1", "--timeout=abc"}, Specs());
  ASSERT_TRUE(args.ok());
  EXPECT_TRUE(IsUsageError(args->GetUint("expected_version", 0).status()));
  EXPECT_TRUE(
      IsUsageError(args->GetDuration("timeout", absl::Seconds(1)).status()));
}

TEST(ArgsTest, DurationsTakeUnitsOrSeconds) {
  EXPECT_EQ(*ParseDurationText("10"), absl::Seconds(10));
  EXPECT_EQ(*ParseDurationText("1.5"), absl::Milliseconds(1500));
  EXPECT_EQ(*ParseDurationText("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseDurationText("2m"), absl::Minutes(2));
  EXPECT_FALSE(ParseDurationText("-3s").ok());
  EXPECT_FALSE(ParseDurationText("soon").ok());
}

TEST(ErrorsTest, ExitCodesFollowTheStatus) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitOk);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), kExitFailed);
  EXPECT_EQ(ExitCodeFor(absl::AbortedError("x")), kExitFailed);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), kExitFailed);
  EXPECT_EQ(ExitCodeFor(UsageError("x")), kExitUsage);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), kExitUnreachable);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("x")), kExitUnreachable);
}

TEST(ErrorsTest, HintsAndMarksTravelWithTheStatus) {
  absl::Status status = WithHint(absl::NotFoundError("gone"), "do this");
  EXPECT_EQ(HintOf(status), "do this");
  EXPECT_EQ(HintOf(absl::NotFoundError("gone")), "");
  EXPECT_TRUE(IsAlreadyReported(AlreadyReported(status)));
  EXPECT_FALSE(IsAlreadyReported(status));
  EXPECT_EQ(CodeName(absl::StatusCode::kFailedPrecondition),
            "FAILED_PRECONDITION");
}

}  // namespace
}  // namespace parley::parleyctl
