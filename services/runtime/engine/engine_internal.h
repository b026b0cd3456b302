#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_INTERNAL_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_INTERNAL_H_

namespace parley::engine::internal {

// How often a call re-reads and re-applies its session change when a
// concurrent call wrote the session first (compare-and-set ABORTED).
inline constexpr int kMaxWriteAttempts = 5;

}  // namespace parley::engine::internal

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_ENGINE_INTERNAL_H_
