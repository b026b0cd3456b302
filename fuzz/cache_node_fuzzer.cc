// Fuzzes a cache node's request handling in process: the input is a
// serialized parley.fuzz.CacheNodeScript (skipped when it does not parse).
// A fresh CacheNodeCore over a PartitionStore in a scratch directory
// (tmpfs when there is one) runs as a single node "self"; the script's
// tables only ever name this node (partitions it is not primary of have no
// replica), so nothing goes over the network. Then the script's requests
// run: the client calls (Get, Put, Delete, Touch, partition scans,
// pipelines), the node-to-node calls (Replicate, CatchUp), stats, group
// configuration and new tables, with a store clock the script moves.
//
// Checked beyond "no crash, no sanitizer error":
//  - a call never fails with INTERNAL, UNKNOWN or DATA_LOSS, and every
//    write completes (its callback runs within 10 s);
//  - a Put that succeeded is read back at once by Get with its value and
//    version; after a Delete that succeeded, Get finds nothing;
//  - a partition scan returns at most `limit` entries of the namespace,
//    with the prefix, after start_after, in key order;
//  - every reply survives serialization.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_node/cache_node_core.h"
#include "cache_node/key_codec.h"
#include "cache_node/node_channels.h"
#include "cache_node/partition_store.h"
#include "fuzz/fuzz_inputs.pb.h"
#include "fuzz/fuzz_support.h"
#include "proto/parley/v1/cache_node.pb.h"
#include "proto/parley/v1/coordinator.pb.h"

namespace parley::fuzz {
namespace {

using cache::CacheNodeCore;
using cache::CacheNodeOptions;
using cache::Done;
using cache::PartitionStore;
using cache::PartitionStoreOptions;

constexpr char kSelf[] = "self";
constexpr uint32_t kPartitions = 8;
constexpr int kMaxCalls = 32;
constexpr int64_t kStartMs = 1748736000000;  // 2025-06-01.

v1::PartitionTable MakeTable(const TableSpec& spec) {
  v1::PartitionTable table;
  table.set_epoch(spec.epoch());
  table.set_partition_count(kPartitions);
  table.set_replication_factor(1);
  for (uint32_t p = 0; p < kPartitions; ++p) {
    v1::PartitionReplicas* partition = table.add_partitions();
    partition->set_partition(p);
    partition->set_primary_term(spec.term());
    if (spec.primary_mask() & (1u << p)) partition->add_replicas(kSelf);
  }
  v1::CacheNodeAddress* self = table.add_nodes();
  self->set_id(kSelf);
  self->set_address("127.0.0.1:2");
  return table;
}

void CheckStatus(const char* call, const absl::Status& status) {
  PARLEY_FUZZ_CHECK(status.code() != absl::StatusCode::kInternal &&
                        status.code() != absl::StatusCode::kUnknown &&
                        status.code() != absl::StatusCode::kDataLoss,
                    absl::StrCat(call, ": ", status.ToString()));
}

template <typename Reply>
void Check(const char* call, const absl::StatusOr<Reply>& reply) {
  CheckStatus(call, reply.status());
  if (reply.ok()) {
    PARLEY_FUZZ_CHECK(RoundTrips(*reply),
                      absl::StrCat(call, ": ", reply->ShortDebugString()));
  }
}

class Node {
 public:
  explicit Node(const std::string& dir) {
    PartitionStoreOptions store_options;
    store_options.data_dir = dir;
    store_options.block_cache_bytes = 1 << 20;
    store_options.now_ms = [clock = clock_] { return clock->load(); };
    absl::StatusOr<std::unique_ptr<PartitionStore>> store =
        PartitionStore::Open(std::move(store_options));
    PARLEY_FUZZ_CHECK(store.ok(), store.status().ToString());
    store_ = *std::move(store);
    CacheNodeOptions options;
    options.node_id = kSelf;
    options.max_value_bytes = 256;
    options.catch_up_chunk_bytes = 64;
    core_ = std::make_unique<CacheNodeCore>(
        options, store_.get(), std::make_shared<cache::NodeChannels>(nullptr));
  }

  ~Node() {
    core_.reset();
    store_.reset();
  }

  void Advance(int64_t ms) { clock_->fetch_add(ms); }

  // Adopts the table and waits (bounded) for the promotions it starts.
  void AdoptTable(const TableSpec& spec) {
    const std::shared_ptr<const cache::TableView> before = core_->table();
    core_->OnTable(MakeTable(spec));
    if (core_->table() == before) return;  // Refused (older epoch).
    for (uint32_t p = 0; p < kPartitions; ++p) {
      if (!(spec.primary_mask() & (1u << p))) continue;
      std::string key;
      for (int i = 0;
           key.empty() || cache::PartitionOf("probe", key, kPartitions) != p;
           ++i) {
        key = absl::StrCat("probe-", i);
      }
      v1::GetRequest probe;
      probe.set_namespace_("probe");
      probe.set_key(key);
      const absl::Time deadline = absl::Now() + absl::Seconds(10);
      while (core_->Get(probe).status().code() ==
             absl::StatusCode::kUnavailable) {
        PARLEY_FUZZ_CHECK(absl::Now() < deadline,
                          absl::StrCat("partition ", p, " never served"));
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
  }

  template <typename Response, typename Request>
  absl::StatusOr<Response> Call(const char* name,
                                void (CacheNodeCore::*method)(const Request&,
                                                              Done<Response>),
                                const Request& request) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<Response>>>();
    std::future<absl::StatusOr<Response>> future = promise->get_future();
    (core_.get()->*method)(request, [promise](absl::StatusOr<Response> r) {
      promise->set_value(std::move(r));
    });
    PARLEY_FUZZ_CHECK(
        future.wait_for(std::chrono::seconds(10)) == std::future_status::ready,
        absl::StrCat(name, " never completed: ", request.ShortDebugString()));
    absl::StatusOr<Response> result = future.get();
    Check(name, result);
    return result;
  }

  void Get(const v1::GetRequest& request) { Check("Get", core_->Get(request)); }

  void Put(const v1::PutRequest& request) {
    absl::StatusOr<v1::PutResponse> put =
        Call("Put", &CacheNodeCore::Put, request);
    if (!put.ok()) return;
    v1::GetRequest get;
    get.set_namespace_(request.namespace_());
    get.set_key(request.key());
    absl::StatusOr<v1::GetResponse> got = core_->Get(get);
    PARLEY_FUZZ_CHECK(got.ok() && got->found() &&
                          got->entry().value() == request.value() &&
                          got->entry().version() == put->version(),
                      absl::StrCat("Put ", request.ShortDebugString(), " -> ",
                                   put->ShortDebugString(), ", then Get -> ",
                                   got.ok() ? got->ShortDebugString()
                                            : got.status().ToString()));
  }

  void Delete(const v1::DeleteRequest& request) {
    absl::StatusOr<v1::DeleteResponse> deleted =
        Call("Delete", &CacheNodeCore::Delete, request);
    if (!deleted.ok()) return;
    v1::GetRequest get;
    get.set_namespace_(request.namespace_());
    get.set_key(request.key());
    absl::StatusOr<v1::GetResponse> got = core_->Get(get);
    PARLEY_FUZZ_CHECK(
        got.ok() && !got->found(),
        absl::StrCat(
            "Delete ", request.ShortDebugString(), ", then Get -> ",
            got.ok() ? got->ShortDebugString() : got.status().ToString()));
  }

  void Touch(const v1::TouchRequest& request) {
    const absl::StatusOr<v1::TouchResponse> touched =
        Call("Touch", &CacheNodeCore::Touch, request);
    (void)touched;
  }

  void Scan(const ScanPartitionCall& scan) {
    const size_t limit = scan.limit() % 1001;
    absl::StatusOr<std::vector<v1::Entry>> entries =
        core_->ScanPartition(scan.partition(), scan.namespace_(), scan.prefix(),
                             scan.start_after(), limit);
    CheckStatus("ScanPartition", entries.status());
    if (!entries.ok()) return;
    PARLEY_FUZZ_CHECK(entries->size() <= limit, "scan limit");
    std::string previous = scan.start_after();
    for (const v1::Entry& entry : *entries) {
      PARLEY_FUZZ_CHECK(entry.namespace_() == scan.namespace_() &&
                            absl::StartsWith(entry.key(), scan.prefix()) &&
                            entry.key() > previous,
                        absl::StrCat("scan ", scan.ShortDebugString(),
                                     " returned ", entry.ShortDebugString()));
      previous = entry.key();
    }
  }

  void CatchUp(const v1::CatchUpRequest& request) {
    int chunks = 0;
    absl::StatusOr<uint64_t> snapshot = core_->ServeCatchUp(
        request, [&chunks](std::vector<v1::ReplicatedWrite>& writes) {
          for (const v1::ReplicatedWrite& write : writes) {
            PARLEY_FUZZ_CHECK(RoundTrips(write), "catch-up write");
          }
          return ++chunks < 16;
        });
    CheckStatus("CatchUp", snapshot.status());
  }

  void Pipeline(const v1::PipelineRequests& requests) {
    for (const v1::PipelineRequest& request : requests.requests()) {
      switch (request.op_case()) {
        case v1::PipelineRequest::kGet:
          Get(request.get());
          break;
        case v1::PipelineRequest::kPut:
          Put(request.put());
          break;
        case v1::PipelineRequest::kDelete:
          Delete(request.delete_());
          break;
        case v1::PipelineRequest::kTouch:
          Touch(request.touch());
          break;
        default:
          break;
      }
    }
  }

  CacheNodeCore& core() { return *core_; }

 private:
  std::shared_ptr<std::atomic<int64_t>> clock_ =
      std::make_shared<std::atomic<int64_t>>(kStartMs);
  std::unique_ptr<PartitionStore> store_;
  std::unique_ptr<CacheNodeCore> core_;
};

// `event` without the session timeouts the coordinator refuses to store
// (it keeps only whole numbers from 1 to 86400 under
// groups/<group>/session/timeout_seconds), so the node sees only what a
// coordinator can send. (The node itself trusts that check: a timeout of 0
// would make a group's sessions expire as they are written.)
v1::ConfigEvent AsCoordinatorSends(const v1::ConfigEvent& event) {
  v1::ConfigEvent sent = event;
  sent.clear_entries();
  for (const v1::ConfigEntry& entry : event.entries()) {
    uint32_t seconds = 0;
    if (event.kind() != v1::ConfigEvent::DELETE &&
        absl::EndsWith(entry.path(), "/session/timeout_seconds") &&
        (!absl::SimpleAtoi(entry.value(), &seconds) || seconds < 1 ||
         seconds > 86400)) {
      continue;
    }
    *sent.add_entries() = entry;
  }
  return sent;
}

void RunCall(Node& node, const CacheNodeCall& call) {
  switch (call.call_case()) {
    case CacheNodeCall::kGet:
      node.Get(call.get());
      break;
    case CacheNodeCall::kPut:
      node.Put(call.put());
      break;
    case CacheNodeCall::kDelete:
      node.Delete(call.delete_());
      break;
    case CacheNodeCall::kTouch:
      node.Touch(call.touch());
      break;
    case CacheNodeCall::kScanPartition:
      node.Scan(call.scan_partition());
      break;
    case CacheNodeCall::kReplicate: {
      const v1::ReplicateResponse replicated =
          node.core().Replicate(call.replicate());
      PARLEY_FUZZ_CHECK(
          replicated.results_size() == call.replicate().items_size(),
          "one Replicate result per item");
      break;
    }
    case CacheNodeCall::kCatchUp:
      node.CatchUp(call.catch_up());
      break;
    case CacheNodeCall::kStats:
      PARLEY_FUZZ_CHECK(RoundTrips(node.core().Stats()), "Stats");
      break;
    case CacheNodeCall::kGroupConfig:
      node.core().OnGroupConfig(AsCoordinatorSends(call.group_config()));
      break;
    case CacheNodeCall::kTable:
      node.AdoptTable(call.table());
      break;
    case CacheNodeCall::kPipeline:
      node.Pipeline(call.pipeline());
      break;
    case CacheNodeCall::CALL_NOT_SET:
      break;
  }
}

}  // namespace
}  // namespace parley::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::fuzz;
  if (size > 64 * 1024) return -1;
  CacheNodeScript script;
  if (!ParseInput(data, size, &script)) return 0;
  if (script.calls_size() > kMaxCalls) return -1;
  int pipelined = 0;
  for (const CacheNodeCall& call : script.calls()) {
    pipelined += call.pipeline().requests_size();
  }
  if (pipelined > kMaxCalls) return -1;

  ScratchDir dir("cache-node");
  Node node(dir.path());
  if (script.has_table()) node.AdoptTable(script.table());
  for (const CacheNodeCall& call : script.calls()) {
    node.Advance(call.advance_ms());
    RunCall(node, call);
  }
  return 0;
}
