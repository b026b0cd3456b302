#include "services/runtime/expression/string_arena.h"

#include <algorithm>
#include <cstring>

namespace parley::expression {
namespace {

constexpr size_t kMinBlockSize = 4096;

}  // namespace

char* StringArena::Allocate(size_t size) {
  if (size == 0) size = 1;
  while (block_ < blocks_.size()) {
    Block& block = blocks_[block_];
    if (block.size - offset_ >= size) {
      char* data = block.data.get() + offset_;
      offset_ += size;
      return data;
    }
    ++block_;
    offset_ = 0;
  }
  const size_t previous = blocks_.empty() ? 0 : blocks_.back().size;
  Block block;
  block.size = std::max({size, kMinBlockSize, 2 * previous});
  block.data = std::make_unique<char[]>(block.size);
  blocks_.push_back(std::move(block));
  block_ = blocks_.size() - 1;
  offset_ = size;
  return blocks_.back().data.get();
}

absl::string_view StringArena::Copy(absl::string_view text) {
  char* data = Allocate(text.size());
  if (!text.empty()) std::memcpy(data, text.data(), text.size());
  return absl::string_view(data, text.size());
}

void StringArena::Reset() {
  block_ = 0;
  offset_ = 0;
}

size_t StringArena::capacity() const {
  size_t total = 0;
  for (const Block& block : blocks_) total += block.size;
  return total;
}

}  // namespace parley::expression
