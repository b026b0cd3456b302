#ifndef PARLEY_SERVICES_RUNTIME_EXPRESSION_STRING_ARENA_H_
#define PARLEY_SERVICES_RUNTIME_EXPRESSION_STRING_ARENA_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"

namespace parley::expression {

// Memory for the text an evaluation builds (UPPER, ||, TO_STRING...). Blocks
// are never moved, so earlier text stays valid while more is added; Reset()
// reuses them, so once warmed up, evaluations allocate nothing.
class StringArena {
 public:
  StringArena() = default;
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;

  // `size` writable bytes valid until Reset().
  char* Allocate(size_t size);

  // A copy of `text` valid until Reset().
  absl::string_view Copy(absl::string_view text);

  // Forgets all text, keeping the blocks for reuse.
  void Reset();

  // Total bytes held in blocks.
  size_t capacity() const;

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };

  std::vector<Block> blocks_;
  size_t block_ = 0;   // Block being filled.
  size_t offset_ = 0;  // Bytes used in it.
};

}  // namespace parley::expression

#endif  // PARLEY_SERVICES_RUNTIME_EXPRESSION_STRING_ARENA_H_
