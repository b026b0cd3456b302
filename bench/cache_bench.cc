// cache_bench: throughput and latency of the cache tier at a fixed
// concurrency, for unary calls (Ping, Get, Put sent straight to the key's
// primary) and for the client library's pipelined path (CacheClient::Submit
// over long-lived Pipeline streams). Each mode keeps --concurrency
// operations in flight: every completion records its latency and issues the
// next operation. Prints one JSON object per mode on stdout and a readable
// line per mode on stderr. bench/run_cache_bench.sh runs it against a
// private three-node tier; see docs/performance.md. The load engine is
// bench/load_driver.h, shared with runtime_bench.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/load_driver.h"
#include "cache_node/cache_client.h"
#include "cache_node/key_codec.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:7400",
          "host:port of the coordinator of the tier to measure");
ABSL_FLAG(std::string, modes,
          "ping,ping_spread,get_unary,get_unary_ping_node,ping_pipelined,"
          "get_pipelined,put_unary,put_unary_ping_node,put_pipelined",
          "comma-separated modes, run in the order given (reads first, so "
          "that the flushes and compactions the writes cause do not slow "
          "them): ping (unary, one node), ping_spread (unary, a random node "
          "each call), get_unary and put_unary (unary, to the key's "
          "primary), get_unary_ping_node and put_unary_ping_node (the same "
          "for the keys whose primary is ping's node, so every call goes to "
          "that node), ping_pipelined, get_pipelined and put_pipelined "
          "(CacheClient::Submit)");
ABSL_FLAG(double, duration_seconds, 10, "measured time of each mode");
ABSL_FLAG(double, warmup_seconds, 2,
          "unmeasured load before each mode's measured time");
ABSL_FLAG(int, concurrency, 32, "operations kept in flight");
ABSL_FLAG(int, value_bytes, 1024, "size of each value written");
ABSL_FLAG(int, keys, 10000,
          "size of the key space, preloaded through the client library; "
          "operations pick keys uniformly from it");
ABSL_FLAG(std::string, key_namespace, "bench", "namespace of the keys");
ABSL_FLAG(std::string, ping_address, "",
          "node the ping mode calls (default: the first node of the "
          "partition table)");
ABSL_FLAG(int, expect_nodes, 3,
          "wait until the partition table names this many cache nodes, each "
          "on the table's epoch and serving all its partitions");
ABSL_FLAG(double, ready_timeout_seconds, 90,
          "how long to wait for the tier to be ready");
ABSL_FLAG(bool, wait_only, false,
          "only wait until the tier is ready, then exit (0: ready)");
ABSL_FLAG(double, call_timeout_seconds, 10, "deadline of each unary call");
ABSL_FLAG(std::string, server_pids, "",
          "name=pid,... of server processes whose CPU use over each "
          "measured window is reported (read from /proc)");

namespace parley::bench {
namespace {

namespace v1 = parley::v1;

// The keys operations pick from, and for unary calls the node that is
// each key's primary (an index into `addresses`).
struct KeySpace {
  std::string ns;
  std::vector<std::string> keys;
  std::vector<int> primary;
  std::vector<std::string> addresses;
};

std::string KeyName(int i) { return absl::StrFormat("key:%012d", i); }

// The keys of `all` whose primary is the node at `address`.
KeySpace KeysLedBy(const KeySpace& all, const std::string& address) {
  KeySpace led;
  led.ns = all.ns;
  led.addresses = all.addresses;
  for (size_t i = 0; i < all.keys.size(); ++i) {
    if (all.addresses[all.primary[i]] == address) {
      led.keys.push_back(all.keys[i]);
      led.primary.push_back(all.primary[i]);
    }
  }
  return led;
}

// Unary Get or Put of a random key, sent to the key's primary so that no
// node forwards it.
class UnaryKeySlot : public Slot {
 public:
  UnaryKeySlot(Window* window, uint64_t seed, bool put, const KeySpace* keys,
               const std::vector<std::unique_ptr<v1::CacheNode::Stub>>* stubs,
               const std::string& value, absl::Duration timeout)
      : Slot(window, seed),
        put_(put),
        keys_(keys),
        stubs_(stubs),
        timeout_(timeout) {
    get_request_.set_namespace_(keys_->ns);
    put_request_.set_namespace_(keys_->ns);
    put_request_.set_value(value);
  }

 protected:
  void Issue() override {
    const uint32_t k = Pick(static_cast<uint32_t>(keys_->keys.size()));
    auto* async = (*stubs_)[keys_->primary[k]]->async();
    context_.emplace();
    context_->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    if (put_) {
      put_request_.set_key(keys_->keys[k]);
      async->Put(&*context_, &put_request_, &put_response_,
                 [this](grpc::Status status) {
                   Done(status.ok(), status.error_message());
                 });
    } else {
      get_request_.set_key(keys_->keys[k]);
      async->Get(&*context_, &get_request_, &get_response_,
                 [this](grpc::Status status) {
                   if (status.ok() && !get_response_.found()) {
                     return Done(false, "a preloaded key was not found");
                   }
                   Done(status.ok(), status.error_message());
                 });
    }
  }

 private:
  const bool put_;
  const KeySpace* const keys_;
  const std::vector<std::unique_ptr<v1::CacheNode::Stub>>* const stubs_;
  const absl::Duration timeout_;
  std::optional<grpc::ClientContext> context_;
  v1::GetRequest get_request_;
  v1::GetResponse get_response_;
  v1::PutRequest put_request_;
  v1::PutResponse put_response_;
};

// Ping, Get or Put through the client library (CacheClient::Submit), which
// routes each operation to its primary over one Pipeline stream per node.
class PipelinedSlot : public Slot {
 public:
  enum class Op { kPing, kGet, kPut };

  PipelinedSlot(Window* window, uint64_t seed, Op op, const KeySpace* keys,
                cache::CacheClient* client, const std::string* value)
      : Slot(window, seed),
        op_(op),
        keys_(keys),
        client_(client),
        value_(value) {}

 protected:
  void Issue() override {
    v1::PipelineRequest request;
    switch (op_) {
      case Op::kPing:
        request.mutable_ping();
        break;
      case Op::kGet: {
        v1::GetRequest* get = request.mutable_get();
        get->set_namespace_(keys_->ns);
        get->set_key(keys_->keys[Pick(KeyCount())]);
        break;
      }
      case Op::kPut: {
        v1::PutRequest* put = request.mutable_put();
        put->set_namespace_(keys_->ns);
        put->set_key(keys_->keys[Pick(KeyCount())]);
        put->set_value(*value_);
        break;
      }
    }
    client_->Submit(std::move(request),
                    [this](absl::StatusOr<v1::PipelineResponse> response) {
                      if (!response.ok()) {
                        return Done(false, response.status().ToString());
                      }
                      if (op_ == Op::kGet && !response->get().found()) {
                        return Done(false, "a preloaded key was not found");
                      }
                      Done(true, "");
                    });
  }

 private:
  uint32_t KeyCount() const {
    return static_cast<uint32_t>(keys_->keys.size());
  }

  const Op op_;
  const KeySpace* const keys_;
  cache::CacheClient* const client_;
  const std::string* const value_;
};

// ------------------------------------------------------------ the tier

// The key space, with each key's primary from `table`.
absl::StatusOr<KeySpace> MakeKeySpace(const v1::PartitionTable& table,
                                      const std::string& ns, int count) {
  if (table.partition_count() == 0) {
    return absl::FailedPreconditionError("the partition table is empty");
  }
  KeySpace keys;
  keys.ns = ns;
  std::map<std::string, int> node_index;
  for (const v1::CacheNodeAddress& node : table.nodes()) {
    node_index[node.id()] = static_cast<int>(keys.addresses.size());
    keys.addresses.push_back(node.address());
  }
  std::vector<int> primary_of(table.partition_count(), -1);
  for (const v1::PartitionReplicas& p : table.partitions()) {
    if (p.partition() < primary_of.size() && p.replicas_size() > 0) {
      auto it = node_index.find(p.replicas(0));
      if (it != node_index.end()) primary_of[p.partition()] = it->second;
    }
  }
  for (int i = 0; i < count; ++i) {
    std::string key = KeyName(i);
    const uint32_t partition =
        cache::PartitionOf(ns, key, table.partition_count());
    if (primary_of[partition] < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("partition ", partition, " has no primary"));
    }
    keys.primary.push_back(primary_of[partition]);
    keys.keys.push_back(std::move(key));
  }
  return keys;
}

// Writes every key once through the client library, `concurrency` at a
// time.
absl::Status Preload(cache::CacheClient& client, const KeySpace& keys,
                     const std::string& value, int concurrency) {
  // Owned jointly by this function and the callbacks, which may still be
  // unwinding when the last one has counted itself.
  struct State {
    absl::Mutex mu;
    size_t next ABSL_GUARDED_BY(mu) = 0;
    size_t finished ABSL_GUARDED_BY(mu) = 0;
    absl::Status first_error ABSL_GUARDED_BY(mu);
    std::function<void()> issue;
    std::weak_ptr<State> self;
  };
  auto state = std::make_shared<State>();
  state->self = state;
  const size_t total = keys.keys.size();
  // Holds no reference to the state it belongs to: no cycle.
  State* const raw = state.get();
  state->issue = [raw, &client, &keys, &value, total] {
    size_t i;
    {
      absl::MutexLock lock(&raw->mu);
      if (raw->next >= total) return;
      i = raw->next++;
    }
    v1::PipelineRequest request;
    request.mutable_put()->set_namespace_(keys.ns);
    request.mutable_put()->set_key(keys.keys[i]);
    request.mutable_put()->set_value(value);
    client.Submit(std::move(request),
                  [state = raw->self.lock()](
                      absl::StatusOr<v1::PipelineResponse> response) {
                    state->issue();
                    absl::MutexLock lock(&state->mu);
                    ++state->finished;
                    if (!response.ok() && state->first_error.ok()) {
                      state->first_error = response.status();
                    }
                  });
  };
  for (int i = 0; i < concurrency; ++i) state->issue();
  absl::MutexLock lock(&state->mu);
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(state->mu) {
    return state->finished == total;
  };
  if (!state->mu.AwaitWithTimeout(absl::Condition(&done), absl::Minutes(5))) {
    return absl::DeadlineExceededError(
        absl::StrCat("preload: ", state->finished, " of ", total,
                     " writes finished in 5 minutes"));
  }
  if (!state->first_error.ok()) {
    return absl::Status(
        state->first_error.code(),
        absl::StrCat("preload: ", state->first_error.message()));
  }
  return absl::OkStatus();
}

const std::vector<std::string>& KnownModes() {
  static const auto* const modes = new std::vector<std::string>{
      "ping",           "ping_spread",         "get_unary",
      "put_unary",      "get_unary_ping_node", "put_unary_ping_node",
      "ping_pipelined", "get_pipelined",       "put_pipelined"};
  return *modes;
}

int Main() {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int value_bytes = absl::GetFlag(FLAGS_value_bytes);
  const int key_count = absl::GetFlag(FLAGS_keys);
  const absl::Duration call_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_call_timeout_seconds));
  if (concurrency <= 0 || value_bytes <= 0 || key_count <= 0 ||
      absl::GetFlag(FLAGS_duration_seconds) <= 0) {
    std::fprintf(stderr,
                 "cache_bench: --concurrency, --value_bytes, --keys and "
                 "--duration_seconds must be positive\n");
    return 2;
  }
  std::vector<std::string> modes =
      absl::StrSplit(absl::GetFlag(FLAGS_modes), ',', absl::SkipEmpty());
  for (const std::string& mode : modes) {
    if (std::find(KnownModes().begin(), KnownModes().end(), mode) ==
        KnownModes().end()) {
      std::fprintf(stderr, "cache_bench: unknown mode '%s'; known: %s\n",
                   mode.c_str(), absl::StrJoin(KnownModes(), ", ").c_str());
      return 2;
    }
  }
  absl::StatusOr<std::vector<Watched>> watched =
      ParseServerPids(absl::GetFlag(FLAGS_server_pids));
  if (!watched.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n",
                 watched.status().ToString().c_str());
    return 2;
  }

  // Wait until the tier serves every partition.
  const std::string coordinator_address = absl::GetFlag(FLAGS_coordinator);
  auto coordinator = v1::Coordinator::NewStub(grpc::CreateChannel(
      coordinator_address, grpc::InsecureChannelCredentials()));
  absl::StatusOr<v1::PartitionTable> table =
      WaitForTier(*coordinator, absl::GetFlag(FLAGS_expect_nodes),
                  absl::Seconds(absl::GetFlag(FLAGS_ready_timeout_seconds)));
  if (!table.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n",
                 table.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "cache_bench: tier ready: %d nodes, %u partitions, replication "
               "factor %u, table epoch %llu\n",
               table->nodes_size(), table->partition_count(),
               table->replication_factor(),
               static_cast<unsigned long long>(table->epoch()));
  if (absl::GetFlag(FLAGS_wait_only)) return 0;

  absl::StatusOr<KeySpace> keys =
      MakeKeySpace(*table, absl::GetFlag(FLAGS_key_namespace), key_count);
  if (!keys.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n", keys.status().ToString().c_str());
    return 1;
  }
  std::vector<std::unique_ptr<v1::CacheNode::Stub>> stubs;
  for (const std::string& address : keys->addresses) {
    stubs.push_back(NodeStub(address));
  }
  std::string ping_address = absl::GetFlag(FLAGS_ping_address);
  if (ping_address.empty()) ping_address = keys->addresses.front();
  auto ping_stub = NodeStub(ping_address);
  const KeySpace ping_node_keys = KeysLedBy(*keys, ping_address);
  if (ping_node_keys.keys.empty()) {
    std::fprintf(stderr, "cache_bench: no key has %s as its primary\n",
                 ping_address.c_str());
    return 1;
  }

  // The value written: 1 KiB (by default) of printable bytes.
  std::string value(value_bytes, 'x');
  for (int i = 0; i < value_bytes; ++i) value[i] = 'a' + (i * 7) % 26;

  cache::CacheClientOptions options;
  options.coordinator_address = coordinator_address;
  absl::StatusOr<std::unique_ptr<cache::CacheClient>> client =
      cache::CacheClient::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n",
                 client.status().ToString().c_str());
    return 1;
  }
  const absl::Time preload_start = absl::Now();
  if (absl::Status s = Preload(**client, *keys, value, concurrency); !s.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "cache_bench: preloaded %d keys of %d bytes in %s\n",
               key_count, value_bytes,
               absl::FormatDuration(absl::Now() - preload_start).c_str());

  RunOptions run_options;
  run_options.warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds));
  run_options.duration = absl::Seconds(absl::GetFlag(FLAGS_duration_seconds));
  run_options.drain =
      absl::Seconds(absl::GetFlag(FLAGS_call_timeout_seconds) + 20);
  int exit_code = 0;
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
  // Every mode's window and slots live until the end: the last completions
  // may still be unwinding through them when a mode's results are in.
  std::vector<std::unique_ptr<Window>> windows;
  std::vector<std::vector<std::unique_ptr<Slot>>> all_slots;
  for (const std::string& mode : modes) {
    Window& window = *windows.emplace_back(std::make_unique<Window>());
    std::vector<std::unique_ptr<Slot>>& slots = all_slots.emplace_back();
    std::string target;
    for (int i = 0; i < concurrency; ++i) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      if (mode == "ping") {
        target = ping_address;
        slots.push_back(std::make_unique<UnaryPingSlot>(
            &window, seed, std::vector<v1::CacheNode::Stub*>{ping_stub.get()},
            call_timeout));
      } else if (mode == "ping_spread") {
        target =
            absl::StrCat("random node (", keys->addresses.size(), " nodes)");
        std::vector<v1::CacheNode::Stub*> all;
        for (const auto& stub : stubs) all.push_back(stub.get());
        slots.push_back(
            std::make_unique<UnaryPingSlot>(&window, seed, all, call_timeout));
      } else if (mode == "get_unary" || mode == "put_unary") {
        target =
            absl::StrCat("key's primary (", keys->addresses.size(), " nodes)");
        slots.push_back(std::make_unique<UnaryKeySlot>(
            &window, seed, mode == "put_unary", &*keys, &stubs, value,
            call_timeout));
      } else if (mode == "get_unary_ping_node" ||
                 mode == "put_unary_ping_node") {
        target = absl::StrCat(ping_address, " (", ping_node_keys.keys.size(),
                              " keys it leads)");
        slots.push_back(std::make_unique<UnaryKeySlot>(
            &window, seed, mode == "put_unary_ping_node", &ping_node_keys,
            &stubs, value, call_timeout));
      } else {
        const PipelinedSlot::Op op =
            mode == "ping_pipelined"  ? PipelinedSlot::Op::kPing
            : mode == "get_pipelined" ? PipelinedSlot::Op::kGet
                                      : PipelinedSlot::Op::kPut;
        target = "CacheClient::Submit";
        slots.push_back(std::make_unique<PipelinedSlot>(
            &window, seed, op, &*keys, client->get(), &value));
      }
    }
    absl::StatusOr<Result> result =
        RunSlots(mode, target, window, slots, *watched, run_options);
    if (!result.ok()) {
      // Operations still reference the slots: leave them and stop here.
      std::fprintf(stderr, "cache_bench: %s\n",
                   result.status().ToString().c_str());
      std::fflush(stdout);
      std::fflush(stderr);
      _exit(1);
    }
    std::printf("%s\n",
                ToJson(*result, {{"concurrency", absl::StrCat(concurrency)},
                                 {"value_bytes", absl::StrCat(value_bytes)}})
                    .c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", ToText(*result).c_str());
    if (result->ops == 0) exit_code = 1;
  }
  return exit_code;
}

}  // namespace
}  // namespace parley::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "cache_bench: throughput and p50/p99 latency of the cache tier's "
      "Ping, Get and Put, unary and pipelined, at a fixed concurrency.\n"
      "Example: cache_bench --coordinator=127.0.0.1:7400 --duration_seconds=10 "
      "--concurrency=32 --value_bytes=1024");
  absl::ParseCommandLine(argc, argv);
  // As in the servers: no mutex deadlock detection on the measured path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return parley::bench::Main();
}
