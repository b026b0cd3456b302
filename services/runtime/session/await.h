#ifndef PARLEY_SERVICES_RUNTIME_SESSION_AWAIT_H_
#define PARLEY_SERVICES_RUNTIME_SESSION_AWAIT_H_

#include <optional>
#include <utility>

#include "absl/synchronization/notification.h"

namespace parley::session {

// Runs `start(done)`, which completes an asynchronous operation by calling
// `done(T)` once on any thread (possibly before `start` returns), and
// returns what it was given: the blocking form of a call with a completion
// callback. Must not run on a thread that `done` needs in order to run.
template <typename T, typename Start>
T Await(Start&& start) {
  absl::Notification finished;
  std::optional<T> result;
  start([&finished, &result](T value) {
    result.emplace(std::move(value));
    finished.Notify();
  });
  finished.WaitForNotification();
  return *std::move(result);
}

}  // namespace parley::session

#endif  // PARLEY_SERVICES_RUNTIME_SESSION_AWAIT_H_
