#ifndef PARLEY_SERVICES_CLIENT_RENDEZVOUS_H_
#define PARLEY_SERVICES_CLIENT_RENDEZVOUS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace parley::client {

// Rendezvous (highest random weight) hashing: a session goes to the member
// with the highest weight for its id. While the members stay the same, a
// session keeps its member; when a member joins, only the sessions it now
// wins move (about 1/N); when one leaves, only its own sessions move.
//
// The weight is fixed, so that every client, in any process, language or
// release, picks the same member: MurmurHash3's 64-bit finalizer (fmix64)
// of the 64-bit FNV-1a hash of the member id's bytes, one zero byte, and
// the key's bytes. (Member ids never contain a zero byte, so no two
// (member, key) pairs hash the same input.)
uint64_t RendezvousWeight(absl::string_view member_id, absl::string_view key);

// Indexes into `member_ids`, highest weight for `key` first (equal weights:
// the smaller member id first): the member for `key`, then the members to
// fall back to, in order.
std::vector<size_t> RendezvousOrder(const std::vector<std::string>& member_ids,
                                    absl::string_view key);

}  // namespace parley::client

#endif  // PARLEY_SERVICES_CLIENT_RENDEZVOUS_H_
