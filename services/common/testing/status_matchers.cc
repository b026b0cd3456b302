#include "services/common/testing/status_matchers.h"

#include <stdlib.h>

#include <filesystem>

#include "gtest/gtest.h"

namespace parley::testing {

std::string MakeTempDir(const std::string& name) {
  std::string pattern =
      (std::filesystem::path(::testing::TempDir()) / (name + "_XXXXXX"))
          .string();
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << pattern;
  return pattern;
}

}  // namespace parley::testing
