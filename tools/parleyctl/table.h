#ifndef PARLEY_TOOLS_PARLEYCTL_TABLE_H_
#define PARLEY_TOOLS_PARLEYCTL_TABLE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace parley::parleyctl {

// A plain-text table for people: a header row in capitals, columns padded
// to their widest cell (counted in characters), two spaces between them,
// no trailing spaces. Columns whose every body cell is a number are aligned
// right.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Adds a row; missing cells are empty, extra ones are dropped.
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }

  // The table, one line per row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Characters (UTF-8 code points) in `text`.
size_t DisplayWidth(absl::string_view text);

// "12.3 KiB" style byte counts.
std::string HumanBytes(double bytes);

// A progress bar `width` characters wide for `fraction` (0 to 1), e.g.
// "[#########.........]".
std::string ProgressBar(double fraction, int width);

}  // namespace parley::parleyctl

#endif  // PARLEY_TOOLS_PARLEYCTL_TABLE_H_
