#ifndef PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_SERVICE_H_
#define PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_SERVICE_H_

#include <atomic>
#include <cstddef>

#include "proto/parley/v1/history.grpc.pb.h"
#include "services/runtime/history/history_store.h"

namespace parley::history {

struct HistoryServiceOptions {
  // Export bytes per ExportHistoryChunk (a chunk ends after the record that
  // reaches this size).
  size_t chunk_bytes = 64 * 1024;
  // ExportHistory calls running at once (each has a thread); more are
  // RESOURCE_EXHAUSTED.
  int max_concurrent_exports = 4;
};

// parley.v1.History over gRPC's callback API: ExportHistory streams the
// group's HistoryStore, formatted by HistoryFormatter, in chunks.
class HistoryService final : public v1::History::CallbackService {
 public:
  // `store` is not owned; it and the service must outlive the server.
  explicit HistoryService(HistoryStore* store, HistoryServiceOptions options =
                                                   HistoryServiceOptions());

  grpc::ServerWriteReactor<v1::ExportHistoryChunk>* ExportHistory(
      grpc::CallbackServerContext* context,
      const v1::ExportHistoryRequest* request) override;

 private:
  HistoryStore* const store_;
  const HistoryServiceOptions options_;
  std::atomic<int> active_exports_{0};
};

}  // namespace parley::history

#endif  // PARLEY_SERVICES_RUNTIME_HISTORY_HISTORY_SERVICE_H_
