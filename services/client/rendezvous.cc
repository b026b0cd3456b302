#include "services/client/rendezvous.h"

#include <algorithm>
#include <numeric>

namespace parley::client {
namespace {

constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t FnvAppend(uint64_t hash, absl::string_view bytes) {
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= kFnvPrime;
  }
  return hash;
}

// MurmurHash3's fmix64: every input bit affects every output bit.
uint64_t Fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

}  // namespace

uint64_t RendezvousWeight(absl::string_view member_id, absl::string_view key) {
  uint64_t hash = FnvAppend(kFnvOffsetBasis, member_id);
  hash = FnvAppend(hash, absl::string_view("\0", 1));
  hash = FnvAppend(hash, key);
  return Fmix64(hash);
}

std::vector<size_t> RendezvousOrder(const std::vector<std::string>& member_ids,
                                    absl::string_view key) {
  std::vector<uint64_t> weights(member_ids.size());
  for (size_t i = 0; i < member_ids.size(); ++i) {
    weights[i] = RendezvousWeight(member_ids[i], key);
  }
  std::vector<size_t> order(member_ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (weights[a] != weights[b]) return weights[a] > weights[b];
    return member_ids[a] < member_ids[b];
  });
  return order;
}

}  // namespace parley::client
