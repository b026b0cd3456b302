#ifndef PARLEY_CACHE_NODE_CACHE_CLIENT_H_
#define PARLEY_CACHE_NODE_CACHE_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "proto/parley/v1/cache_node.pb.h"
#include "services/common/retry_policy.h"

namespace parley::cache {

// How a CacheClient reaches the tier.
struct CacheClientOptions {
  // host:port of the group coordinator, whose partition table routes
  // every operation straight to the partition's primary.
  std::string coordinator_address;
  // Insecure when null.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Each attempt's deadline.
  absl::Duration attempt_timeout = absl::Seconds(2);
  // How long an operation keeps retrying while the tier fails over.
  absl::Duration operation_timeout = absl::Seconds(15);
  // Pause between attempts (cut short when a new table arrives).
  RetryPolicy retry{absl::Milliseconds(20), absl::Milliseconds(500), 2.0, 0};
};

// The cache tier's client library, what runtime servers use. Follows the
// coordinator's partition table, sends each operation to the primary of
// its partition over one long-lived Pipeline stream per node (many
// operations in flight, no unary call each), and retries when the primary
// moved or is being taken over, once the table's epoch moves or after a
// backoff (up to operation_timeout). Compare-and-set writes are retried
// only when the tier reports that they were not applied (FAILED_PRECONDITION,
// or UNAVAILABLE marked not_applied), never after a broken stream or a
// timeout, whose outcome is unknown. Thread-safe.
class CacheClient {
 public:
  // Connects and waits (up to `wait`) for the first partition table.
  static absl::StatusOr<std::unique_ptr<CacheClient>> Connect(
      CacheClientOptions options, absl::Duration wait = absl::Seconds(10));
  ~CacheClient();

  // The entry, or `found` false.
  absl::StatusOr<v1::GetResponse> Get(absl::string_view ns,
                                      absl::string_view key);

  // Writes a value; returns its version. With `expected_version`, a
  // compare-and-set: ABORTED when the entry is at another version.
  absl::StatusOr<uint64_t> Put(
      absl::string_view ns, absl::string_view key, absl::string_view value,
      uint64_t ttl_ms = 0,
      std::optional<uint64_t> expected_version = std::nullopt);

  // Deletes an entry (not an error if there is none).
  absl::StatusOr<v1::DeleteResponse> Delete(
      absl::string_view ns, absl::string_view key,
      std::optional<uint64_t> expected_version = std::nullopt);

  // Extends an entry's time to live.
  absl::StatusOr<v1::TouchResponse> Touch(absl::string_view ns,
                                          absl::string_view key,
                                          uint64_t ttl_ms);

  // One page of the entries of namespace `ns` whose keys start with
  // `prefix`, across every partition (ordered by partition, then by key
  // within a partition). Pass the response's next_page_token to get the next
  // page; it is empty after the last. `limit` is 1-1000 entries (0: 100).
  // Asks any node of the partition table (the node gathers the partitions)
  // and retries on another node while the tier fails over. For
  // administration, not the hot path: it blocks the calling thread.
  absl::StatusOr<v1::ScanResponse> Scan(absl::string_view ns,
                                        absl::string_view prefix,
                                        absl::string_view page_token = "",
                                        uint32_t limit = 0);

  // Any operation, completed through `done` on a library thread: the
  // asynchronous form of the calls above. `request.id` is set by the
  // library.
  void Submit(v1::PipelineRequest request,
              std::function<void(absl::StatusOr<v1::PipelineResponse>)> done);

  // Get and compare-and-set Put completed through `done` on a library
  // thread (as Submit), for callers that continue there instead of
  // blocking a thread per operation. Get, Put and Submit answer alike.
  using GetDone = std::function<void(absl::StatusOr<v1::GetResponse>)>;
  using PutDone = std::function<void(absl::StatusOr<uint64_t>)>;
  void GetAsync(absl::string_view ns, absl::string_view key, GetDone done);
  void PutAsync(absl::string_view ns, absl::string_view key, std::string value,
                uint64_t ttl_ms, std::optional<uint64_t> expected_version,
                PutDone done);

  // Epoch of the partition table in use (0 before the first).
  uint64_t table_epoch() const;

 private:
  class Impl;
  explicit CacheClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::cache

#endif  // PARLEY_CACHE_NODE_CACHE_CLIENT_H_
