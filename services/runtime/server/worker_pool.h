#ifndef PARLEY_SERVICES_RUNTIME_SERVER_WORKER_POOL_H_
#define PARLEY_SERVICES_RUNTIME_SERVER_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace parley::runtime {

// A fixed set of threads running queued tasks in order of submission. The
// runtime service's calls wait on the cache tier, so they run here rather
// than on gRPC's callback threads, which must never block. (Neither gRPC
// nor Abseil offers a public thread pool; this one is a queue and a
// condition.)
class WorkerPool {
 public:
  // Starts `threads` workers (at least 1).
  explicit WorkerPool(int threads);
  // Runs the tasks already queued, then joins the workers.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task` to run on a worker.
  void Run(std::function<void()> task);

  // Tasks queued and not yet started.
  size_t queued() const;

 private:
  void Work();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace parley::runtime

#endif  // PARLEY_SERVICES_RUNTIME_SERVER_WORKER_POOL_H_
