#include <fstream>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "services/common/auth/principal.h"
#include "services/common/auth/tokens.h"

namespace parley::auth {
namespace {

TEST(TokensTest, ParsesLinesAndRoles) {
  absl::StatusOr<TokenTable> table = ParseTokens(
      "# comment\n\ns3cr3t ops admin\nt-web web-runtime runtime:web\n"
      "t-node nodes node\n");
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->size(), 3u);
  EXPECT_TRUE(table->at("s3cr3t")->admin);
  EXPECT_EQ(table->at("t-web")->name, "web-runtime");
  EXPECT_TRUE(table->at("t-web")->member());
  EXPECT_FALSE(table->at("t-web")->admin);
  EXPECT_TRUE(table->at("t-node")->node);
}

TEST(TokensTest, RejectsShortLinesAndDuplicates) {
  EXPECT_FALSE(ParseTokens("only-token principal\n").ok());
  EXPECT_FALSE(ParseTokens("a p admin\na q admin\n").ok());
}

TEST(TokensTest, BearerTokensAreOneWordOfPrintableAscii) {
  EXPECT_TRUE(CheckBearerToken("4f1c-e9_A.b~").ok());
  for (absl::string_view bad :
       {absl::string_view(""), absl::string_view("two words"),
        absl::string_view("line\nbreak"), absl::string_view("cr\r"),
        absl::string_view("tab\t"), absl::string_view("bell\a"),
        absl::string_view("del\x7f"), absl::string_view("caf\xc3\xa9")}) {
    absl::Status status = CheckBearerToken(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << bad;
  }
  EXPECT_NE(CheckBearerToken("a\nb").message().find("line break"),
            absl::string_view::npos);
}

TEST(TokensTest, ReadTokenFileDropsSurroundingWhitespaceOnly) {
  const std::string dir = ::testing::TempDir();
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  };
  absl::StatusOr<std::string> token = ReadTokenFile(write("good", " t0k\n"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "t0k");
  EXPECT_FALSE(ReadTokenFile(write("empty", "\n")).ok());
  EXPECT_FALSE(ReadTokenFile(write("two", "one\ntwo\n")).ok());
  EXPECT_FALSE(ReadTokenFile(dir + "/missing").ok());
}

TEST(PrincipalTest, RuntimeTouchesOnlyItsGroup) {
  Principal web = Principal::Make("web", {"runtime:web"});
  EXPECT_TRUE(web.MayAccessNamespace("sessions/web", true));
  EXPECT_TRUE(web.MayAccessNamespace("history.web", false));
  EXPECT_TRUE(web.MayAccessNamespace("profiles.customer", true));
  EXPECT_FALSE(web.MayAccessNamespace("sessions/app", false));
  EXPECT_FALSE(web.MayAccessNamespace("sessions/webx", false));
  EXPECT_FALSE(web.MayAccessNamespace("history.app", true));
  EXPECT_FALSE(web.MayAccessNamespace("demo", false));
  EXPECT_TRUE(Principal::Make("n", {"node"}).MayAccessNamespace("demo", true));
  EXPECT_TRUE(Principal::Make("a", {"admin"}).MayAccessNamespace("x", true));
  Principal reader = Principal::Make("r", {"reader"});
  EXPECT_FALSE(reader.member());
  EXPECT_FALSE(reader.MayAccessNamespace("profiles.customer", false));
}

TEST(PrincipalTest, MembershipIsScopedToTheRuntimeGroup) {
  Principal web = Principal::Make("web", {"runtime:web"});
  EXPECT_TRUE(web.MemberOf("web"));
  EXPECT_FALSE(web.MemberOf("app"));
  EXPECT_FALSE(web.MemberOf("webx"));
  EXPECT_FALSE(web.MemberOf(""));
  EXPECT_TRUE(Principal::Make("n", {"node"}).MemberOf("app"));
  EXPECT_TRUE(Principal::Make("a", {"admin"}).MemberOf("app"));
  EXPECT_FALSE(Principal::Make("c", {"client:web"}).MemberOf("web"));
}

TEST(PrincipalTest, ClientsReachTheirGroupsRuntimeServers) {
  Principal web = Principal::Make("site", {"client:web"});
  EXPECT_TRUE(web.ClientOf("web"));
  EXPECT_FALSE(web.ClientOf("app"));
  EXPECT_FALSE(web.member());
  EXPECT_FALSE(web.MayAccessNamespace("sessions/web", false));
  EXPECT_TRUE(Principal::Make("lb", {"client"}).ClientOf("app"));
  EXPECT_TRUE(Principal::Make("a", {"admin"}).ClientOf("app"));
  EXPECT_FALSE(Principal::Make("r", {"runtime:web"}).ClientOf("web"));
  EXPECT_FALSE(Principal::Make("n", {"node"}).ClientOf("web"));
  EXPECT_FALSE(Principal::Make("x", {"client:"}).ClientOf(""));
}

}  // namespace
}  // namespace parley::auth
