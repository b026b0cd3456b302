#include "tools/parleyctl/table.h"

#include "gtest/gtest.h"

namespace parley::parleyctl {
namespace {

TEST(TableTest, PadsColumnsAndAlignsNumbersRight) {
  Table table({"name", "members", "note"});
  table.AddRow({"default", "2", "ok"});
  table.AddRow({"web-shop", "10"});
  EXPECT_EQ(table.Render(),
            "NAME      MEMBERS  NOTE\n"
            "default         2  ok\n"
            "web-shop       10\n");
}

TEST(TableTest, CountsCharactersNotBytes) {
  Table table({"a", "b"});
  table.AddRow({"\xc3\xa9t\xc3\xa9", "x"});
  table.AddRow({"abcd", "y"});
  EXPECT_EQ(table.Render(),
            "A     B\n"
            "\xc3\xa9t\xc3\xa9   x\n"
            "abcd  y\n");
}

TEST(TableTest, AnEmptyTableIsItsHeader) {
  Table table({"x", "y"});
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.Render(), "X  Y\n");
}

TEST(TableTest, HumanBytesAndProgressBar) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(3.0 * 1024 * 1024), "3.0 MiB");
  EXPECT_EQ(ProgressBar(0.5, 10), "[#####.....]");
  EXPECT_EQ(ProgressBar(2, 4), "[####]");
  EXPECT_EQ(ProgressBar(-1, 4), "[....]");
}

}  // namespace
}  // namespace parley::parleyctl
