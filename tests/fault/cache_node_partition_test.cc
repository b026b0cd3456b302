// A network partition of one cache node. The test moves itself into a
// network namespace of its own (see EnterPrivateNetwork) and runs cache-3
// in a second one, joined by a veth pair; the coordinator and the other
// cache nodes listen on the test's end of the pair, cache-3 on the other
// end, so nothing leaves the test's namespaces. Skipped where namespaces
// cannot be made (no root, no iproute2).
//
// With writers running through the cache client (plain puts and
// compare-and-set writes, R=3, W=2, 2 s leases), cache-3's end of the veth
// is set down: the cluster's packets to it vanish without an answer. The
// table must drop cache-3 once its lease lapses and every partition be
// served again by the other two; no acknowledged write may be lost (the
// ledger is read back key by key, while cut off and at the end); writes
// sent to cache-3 from inside its namespace meanwhile (a helper run with
// `ip netns exec`) must not be acknowledged. Then the link comes back up:
// cache-3 must rejoin the table, catch up, and hold every acknowledged
// write in its own copy of every partition (read straight from it with the
// CatchUp call nodes use among themselves) and serve those of the
// partitions it leads. The writers' failures are counted per phase and
// must stay under 1% once the other two serve every partition, and while
// cache-3 rejoins.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_node/cache_client.h"
#include "cache_node/key_codec.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "tests/fault/fault_cluster.h"
#include "tests/fault/ledger.h"
#include "tests/fault/network_namespace.h"
#include "tests/support/child_process.h"

namespace parley::fault {
namespace {

constexpr char kNamespace[] = "fault.partition";
constexpr char kDirectPut[] = "tests/fault/direct_put";
constexpr char kCutOff[] = "cache-3";
constexpr int kCutOffIndex = 3;

using Entries = std::map<std::string, std::pair<uint64_t, std::string>>;

std::unique_ptr<v1::CacheNode::Stub> NodeStub(const std::string& address) {
  return v1::CacheNode::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

// The live entries of namespace `ns` in `partition` as the node at
// `address` holds them in its own store, whatever its role: read with
// CatchUp, which serves a node's local copy. Term 0 raises no fence.
absl::StatusOr<Entries> LocalCopy(const std::string& address,
                                  uint32_t partition, const std::string& ns) {
  v1::CatchUpRequest request;
  request.set_partition(partition);
  request.set_after_version(0);
  request.set_term(0);
  request.set_from_node("cache-node-partition-test");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto reader = NodeStub(address)->CatchUp(&context, request);
  Entries entries;
  v1::CatchUpChunk chunk;
  while (reader->Read(&chunk)) {
    for (const v1::ReplicatedWrite& write : chunk.writes()) {
      if (write.namespace_() != ns) continue;
      if (write.deleted()) {
        entries.erase(write.key());
      } else {
        entries[write.key()] = {write.version(), write.value()};
      }
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("CatchUp of partition ", partition, " from ", address,
                     ": ", status.error_code(), " ", status.error_message()));
  }
  return entries;
}

// Compares an acknowledged write with what a copy holds; empty when the
// copy has it (or a newer version).
std::string Compare(const std::string& key,
                    const std::pair<uint64_t, std::string>& acked,
                    const Entries& copy) {
  auto it = copy.find(key);
  if (it == copy.end()) {
    return absl::StrCat(key, ": acknowledged version ", acked.first,
                        ", absent");
  }
  if (it->second.first < acked.first ||
      (it->second.first == acked.first && it->second.second != acked.second)) {
    return absl::StrCat(key, ": acknowledged version ", acked.first, " '",
                        acked.second, "', holds version ", it->second.first,
                        " '", it->second.second, "'");
  }
  return "";
}

// Waits until no primary among the nodes `ids` reports a replication lag
// and no backup is catching up: every copy holds every write.
absl::Status WaitReplicated(const FaultCluster& cluster,
                            const std::vector<int>& ids,
                            absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < give_up) {
    bool quiet = true;
    for (int i : ids) {
      v1::StatsResponse stats;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
      if (!NodeStub(cluster.cache_node_address(i))
               ->Stats(&context, v1::StatsRequest(), &stats)
               .ok()) {
        quiet = false;
        last = absl::StrCat("cache-", i, " does not answer Stats");
        break;
      }
      for (const v1::PartitionStats& p : stats.partitions()) {
        if (p.replication_lag() > 0 || p.role() == "catching-up" ||
            p.role() == "promoting") {
          quiet = false;
          last = absl::StrCat("cache-", i, " partition ", p.partition(), " ",
                              p.role(), ", lag ", p.replication_lag());
        }
      }
    }
    if (quiet) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("replication did not settle: ", last));
}

// Writes of one phase: how many, how many failed and with which codes,
// how many took more than a second, the longest.
struct Phase {
  int attempts = 0;
  int failures = 0;
  std::map<int, int> codes;
  int slow = 0;
  absl::Duration longest;
  std::vector<std::string> samples;  // the first failures' messages

  void Add(const Writers::Attempt& attempt) {
    ++attempts;
    if (attempt.code != absl::StatusCode::kOk) {
      ++failures;
      ++codes[static_cast<int>(attempt.code)];
      if (samples.size() < 3) samples.push_back(attempt.message);
    }
    if (attempt.end - attempt.start > absl::Seconds(1)) ++slow;
    longest = std::max(longest, attempt.end - attempt.start);
  }
  std::string Describe() const {
    std::string codes_text;
    for (const auto& [code, n] : codes) {
      absl::StrAppend(&codes_text, codes_text.empty() ? " (" : ", ", n,
                      "x code ", code);
    }
    if (!codes_text.empty()) codes_text += ")";
    std::string samples_text;
    for (const std::string& sample : samples) {
      absl::StrAppend(&samples_text, " [", sample, "]");
    }
    return absl::StrFormat(
        "%d writes, %d failed (%.2f%%)%s, %d took over 1 s, longest %s%s",
        attempts, failures, attempts == 0 ? 0.0 : 100.0 * failures / attempts,
        codes_text, slow,
        absl::FormatDuration(absl::Trunc(longest, absl::Milliseconds(1))),
        samples_text);
  }
};

// The writes started within [from, to).
Phase StartedBetween(const std::vector<Writers::Attempt>& attempts,
                     absl::Time from, absl::Time to) {
  Phase phase;
  for (const Writers::Attempt& attempt : attempts) {
    if (attempt.start >= from && attempt.start < to) phase.Add(attempt);
  }
  return phase;
}

// The writes in flight at some time within [from, to).
Phase Overlapping(const std::vector<Writers::Attempt>& attempts,
                  absl::Time from, absl::Time to) {
  Phase phase;
  for (const Writers::Attempt& attempt : attempts) {
    if (attempt.start < to && attempt.end > from) phase.Add(attempt);
  }
  return phase;
}

// A cluster whose cache-3 runs in a network namespace of its own; the
// namespace outlives the cluster.
struct PartitionableCluster {
  std::string dir;
  std::unique_ptr<NetworkNamespace> ns;
  std::unique_ptr<FaultCluster> cluster;
};

// Starts one under $TEST_TMPDIR/<name>. When namespaces cannot be made
// here, says why in `skip` (and returns an error).
absl::StatusOr<PartitionableCluster> StartPartitionable(const std::string& name,
                                                        std::string* skip) {
  const std::string dir = testing::FreshTempDir(name);
  if (absl::Status s = EnterPrivateNetwork(dir); !s.ok()) {
    *skip = absl::StrCat("cannot give the test network namespaces of its own: ",
                         s.ToString());
    return s;
  }
  absl::StatusOr<std::unique_ptr<NetworkNamespace>> ns =
      NetworkNamespace::Create(dir);
  if (!ns.ok()) {
    *skip = absl::StrCat("cannot create a network namespace and a veth pair: ",
                         ns.status().ToString());
    return ns.status();
  }
  PartitionableCluster started;
  started.dir = dir;
  started.ns = std::move(*ns);
  FaultCluster::Options options;
  options.listen_host = started.ns->host_address();
  options.placements[kCutOffIndex] = {started.ns->ExecPrefix(),
                                      started.ns->namespace_address()};
  absl::StatusOr<std::unique_ptr<FaultCluster>> cluster =
      FaultCluster::Start(dir, options);
  if (!cluster.ok()) return cluster.status();
  started.cluster = std::move(*cluster);
  if (!absl::StartsWith(started.cluster->cache_node_address(kCutOffIndex),
                        started.ns->namespace_address() + ":")) {
    return absl::InternalError(absl::StrCat(
        kCutOff, " is at ", started.cluster->cache_node_address(kCutOffIndex)));
  }
  return started;
}

TEST(CacheNodePartitionTest, CutOffNodeLeavesAndRejoinsWithoutLosingWrites) {
  std::string skip;
  absl::StatusOr<PartitionableCluster> started =
      StartPartitionable("cache_node_partition", &skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_TRUE(started.ok()) << started.status();
  FaultCluster& cluster = *started->cluster;
  NetworkNamespace* ns = started->ns.get();

  cache::CacheClientOptions options;
  options.coordinator_address = cluster.coordinator_address();
  absl::StatusOr<std::unique_ptr<cache::CacheClient>> client =
      cache::CacheClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();

  absl::StatusOr<v1::PartitionTable> before = cluster.PartitionTable();
  ASSERT_TRUE(before.ok()) << before.status();
  const uint32_t partition_count = before->partition_count();
  std::set<uint32_t> led;  // partitions cache-3 was primary of
  for (const v1::PartitionReplicas& p : before->partitions()) {
    if (p.replicas(0) == kCutOff) led.insert(p.partition());
  }
  ASSERT_FALSE(led.empty());
  // Keys for writes sent to cache-3 while it is cut off: 40 of partitions
  // it led (it would apply them itself), 20 of others (it would forward).
  std::vector<std::string> direct_keys;
  int of_led = 0, of_others = 0;
  for (int i = 0; of_led < 40 || of_others < 20; ++i) {
    const std::string key = absl::StrCat("direct-", i);
    const bool was_led =
        led.count(cache::PartitionOf(kNamespace, key, partition_count)) > 0;
    if (was_led && of_led < 40) {
      ++of_led;
      direct_keys.push_back(key);
    } else if (!was_led && of_others < 20) {
      ++of_others;
      direct_keys.push_back(key);
    }
  }

  Ledger ledger;
  const absl::Time load_started = absl::Now();
  Writers puts(client->get(), kNamespace, &ledger, /*threads=*/2);
  Writers cas(client->get(), kNamespace, &ledger, /*threads=*/2,
              /*compare_and_set=*/true, "cas");
  absl::SleepFor(absl::Seconds(2));

  // Cut.
  ASSERT_TRUE(ns->Cut().ok());
  const absl::Time cut = absl::Now();
  ASSERT_TRUE(WaitUntilTableLacks(cluster, kCutOff, absl::Seconds(15)))
      << cluster.Logs();
  const absl::Time dropped = absl::Now();
  absl::Status failed_over =
      cluster.WaitForStableTable({1, 2}, absl::Seconds(60));
  ASSERT_TRUE(failed_over.ok()) << failed_over;
  const absl::Time served = absl::Now();
  absl::StatusOr<v1::PartitionTable> without = cluster.PartitionTable();
  ASSERT_TRUE(without.ok()) << without.status();
  for (const v1::PartitionReplicas& p : without->partitions()) {
    for (const std::string& replica : p.replicas()) {
      EXPECT_NE(replica, kCutOff) << "partition " << p.partition();
    }
  }
  absl::SleepFor(absl::Seconds(2));

  // While cut off, the two others hold every acknowledged write.
  std::vector<std::string> lost_while_cut =
      LostWrites(**client, kNamespace, ledger);
  EXPECT_TRUE(lost_while_cut.empty())
      << lost_while_cut.size() << " acknowledged writes missing while "
      << kCutOff << " was cut off:\n"
      << absl::StrJoin(lost_while_cut, "\n");

  // Writes sent to cache-3 from inside its namespace: it still believes it
  // leads its old partitions, but may acknowledge none of them.
  std::vector<std::string> direct_args = {
      "netns",
      "exec",
      ns->name(),
      testing::RunfilePath(kDirectPut),
      cluster.cache_node_address(kCutOffIndex),
      kNamespace,
      "5000"};
  direct_args.insert(direct_args.end(), direct_keys.begin(), direct_keys.end());
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> direct =
      testing::ChildProcess::Spawn(
          IpBinary(), direct_args,
          absl::StrCat(started->dir, "/direct_put.log"));
  ASSERT_TRUE(direct.ok()) << direct.status();
  absl::StatusOr<int> direct_exit = (*direct)->Wait(absl::Seconds(30));
  ASSERT_TRUE(direct_exit.ok()) << direct_exit.status();
  EXPECT_EQ(*direct_exit, 0) << (*direct)->Log();
  std::map<int, int> direct_codes;
  std::map<int, std::string> direct_messages;  // the first one per code
  std::vector<std::string> acknowledged_while_cut;
  int direct_answers = 0;
  for (absl::string_view line : absl::StrSplit((*direct)->Log(), '\n')) {
    // "<key> <code> <version> <message>"
    std::vector<std::string> fields =
        absl::StrSplit(line, absl::MaxSplits(' ', 3));
    int code = 0;
    if (fields.size() != 4 || !absl::StartsWith(fields[0], "direct-") ||
        !absl::SimpleAtoi(fields[1], &code)) {
      continue;
    }
    ++direct_answers;
    ++direct_codes[code];
    direct_messages.try_emplace(code, fields[3]);
    if (code == 0) {
      acknowledged_while_cut.push_back(
          absl::StrCat(fields[0], " at version ", fields[2]));
    }
  }
  EXPECT_EQ(direct_answers, static_cast<int>(direct_keys.size()))
      << (*direct)->Log();
  EXPECT_TRUE(acknowledged_while_cut.empty())
      << kCutOff << " acknowledged writes while cut off:\n"
      << absl::StrJoin(acknowledged_while_cut, "\n");

  // Heal: cache-3 rejoins and catches up.
  ASSERT_TRUE(ns->Heal().ok());
  const absl::Time healed = absl::Now();
  absl::Status rejoined =
      cluster.WaitForStableTable({1, 2, 3}, absl::Seconds(60));
  ASSERT_TRUE(rejoined.ok()) << rejoined;
  const absl::Time back = absl::Now();
  absl::SleepFor(absl::Seconds(2));
  puts.Stop();
  cas.Stop();
  const absl::Time load_stopped = absl::Now();

  absl::Status replicated =
      WaitReplicated(cluster, {1, 2, 3}, absl::Seconds(20));
  EXPECT_TRUE(replicated.ok()) << replicated;

  // Through the tier.
  const Entries acked = ledger.Snapshot();
  std::vector<std::string> lost = LostWrites(**client, kNamespace, ledger);
  EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged writes lost:\n"
                            << absl::StrJoin(lost, "\n");

  // From cache-3's own copies: every partition it holds (all of them with
  // R=3 and 3 nodes), and through Get for the partitions it leads.
  absl::StatusOr<v1::PartitionTable> after = cluster.PartitionTable();
  ASSERT_TRUE(after.ok()) << after.status();
  std::set<uint32_t> held, leads;
  for (const v1::PartitionReplicas& p : after->partitions()) {
    for (const std::string& replica : p.replicas()) {
      if (replica == kCutOff) held.insert(p.partition());
    }
    if (p.replicas(0) == kCutOff) leads.insert(p.partition());
  }
  std::map<uint32_t, Entries> copies;
  std::vector<std::string> missing_on_node;
  for (uint32_t p : held) {
    absl::StatusOr<Entries> copy =
        LocalCopy(cluster.cache_node_address(kCutOffIndex), p, kNamespace);
    if (!copy.ok()) {
      missing_on_node.push_back(copy.status().ToString());
      continue;
    }
    copies[p] = std::move(*copy);
  }
  int checked_on_node = 0, read_from_primary = 0;
  auto node = NodeStub(cluster.cache_node_address(kCutOffIndex));
  for (const auto& [key, write] : acked) {
    const uint32_t p = cache::PartitionOf(kNamespace, key, partition_count);
    auto copy = copies.find(p);
    if (copy == copies.end()) continue;
    ++checked_on_node;
    if (std::string problem = Compare(key, write, copy->second);
        !problem.empty()) {
      missing_on_node.push_back(
          absl::StrCat("copy of partition ", p, ": ", problem));
    }
    if (leads.count(p) == 0) continue;
    v1::GetRequest get;
    get.set_namespace_(kNamespace);
    get.set_key(key);
    v1::GetResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::Status status = node->Get(&context, get, &response);
    ++read_from_primary;
    Entries one;
    if (status.ok() && response.found()) {
      one[key] = {response.entry().version(), response.entry().value()};
    }
    if (!status.ok()) {
      missing_on_node.push_back(absl::StrCat("Get ", key, " from ", kCutOff,
                                             ": ", status.error_message()));
    } else if (std::string problem = Compare(key, write, one);
               !problem.empty()) {
      missing_on_node.push_back(
          absl::StrCat("Get from ", kCutOff, " (primary): ", problem));
    }
  }
  EXPECT_EQ(held.size(), partition_count);
  EXPECT_TRUE(missing_on_node.empty())
      << missing_on_node.size() << " acknowledged writes not on " << kCutOff
      << ":\n"
      << absl::StrJoin(missing_on_node, "\n");

  // The writes sent to cache-3 while cut off: none was acknowledged; which
  // of them took effect anyway (an unacknowledged write may).
  // Those in cache-3's copy only (not replicated) could be read now and be
  // gone after a failover.
  int direct_visible = 0, direct_visible_led = 0, direct_on_node = 0,
      direct_only_on_node = 0;
  std::map<std::pair<int, uint32_t>, Entries> other_copies;
  for (const std::string& key : direct_keys) {
    absl::StatusOr<v1::GetResponse> read = (*client)->Get(kNamespace, key);
    const uint32_t p = cache::PartitionOf(kNamespace, key, partition_count);
    if (read.ok() && read->found()) {
      ++direct_visible;
      if (led.count(p) > 0) ++direct_visible_led;
    }
    auto copy = copies.find(p);
    if (copy == copies.end() || copy->second.count(key) == 0) continue;
    ++direct_on_node;
    bool elsewhere = false;
    for (int i : {1, 2}) {
      auto other = other_copies.find({i, p});
      if (other == other_copies.end()) {
        absl::StatusOr<Entries> read_copy =
            LocalCopy(cluster.cache_node_address(i), p, kNamespace);
        other = other_copies
                    .emplace(std::make_pair(i, p),
                             read_copy.ok() ? *read_copy : Entries())
                    .first;
      }
      if (other->second.count(key) > 0) elsewhere = true;
    }
    if (!elsewhere) ++direct_only_on_node;
  }
  if (direct_on_node > 0) {
    std::string tables;
    for (absl::string_view line :
         absl::StrSplit(cluster.CacheNodeLog(kCutOffIndex), '\n')) {
      if (absl::StrContains(line, "table epoch") ||
          absl::StrContains(line, "lease")) {
        absl::StrAppend(&tables, "    ", line, "\n");
      }
    }
    std::printf("%s's tables and leases:\n%s", kCutOff, tables.c_str());
  }

  const std::vector<Writers::Attempt> put_attempts = puts.Attempts();
  const std::vector<Writers::Attempt> cas_attempts = cas.Attempts();
  std::vector<Writers::Attempt> attempts = put_attempts;
  attempts.insert(attempts.end(), cas_attempts.begin(), cas_attempts.end());
  const Phase all = StartedBetween(attempts, load_started, load_stopped);
  const Phase steady = StartedBetween(attempts, load_started, cut);
  const Phase switching = Overlapping(attempts, cut, dropped);
  const Phase failover = StartedBetween(attempts, dropped, served);
  const Phase moved = StartedBetween(attempts, dropped, healed);
  const Phase served_until_healed = StartedBetween(attempts, served, healed);
  const Phase rejoin = StartedBetween(attempts, healed, load_stopped);
  const Phase rejoin_puts = StartedBetween(put_attempts, healed, load_stopped);
  const Phase rejoin_cas = StartedBetween(cas_attempts, healed, load_stopped);
  std::string direct_summary;
  for (const auto& [code, n] : direct_codes) {
    absl::StrAppend(&direct_summary, " ", n, "x code ", code, " (\"",
                    direct_messages[code], "\")");
  }
  auto span = [](absl::Time from, absl::Time to) {
    return absl::FormatDuration(absl::Trunc(to - from, absl::Milliseconds(1)));
  };
  std::printf(
      "%s cut off (its veth end in %s set down; the cluster on %s):\n"
      "  left the table %s after the cut; every partition served by the "
      "other two %s after the cut (%s after the drop)\n"
      "  link up %s after the cut; table stable on 3 nodes again %s later\n"
      "  writes started before the cut: %s\n"
      "  in flight between the cut and the drop: %s\n"
      "  started from the drop until every partition was served: %s\n"
      "  started from then until the link came back: %s\n"
      "  (from the drop until the link came back: %s)\n"
      "  started after the link came back: %s (plain puts: %s; "
      "compare-and-set: %s)\n"
      "  all: %s; %d acknowledged, on %zu keys; lost through the tier: %zu "
      "while cut off, %zu at the end\n"
      "  %s's own copies: %d keys checked in %zu partitions, %d of them read "
      "from it as the primary of %zu; %zu missing\n"
      "  %zu writes sent to %s while cut off (%d for partitions it had "
      "led):%s; afterwards %d of them visible through the tier (%d for "
      "partitions it had led), %d in %s's copies, %d of those in no other "
      "copy\n",
      kCutOff, ns->name().c_str(), ns->host_address().c_str(),
      span(cut, dropped).c_str(), span(cut, served).c_str(),
      span(dropped, served).c_str(), span(cut, healed).c_str(),
      span(healed, back).c_str(), steady.Describe().c_str(),
      switching.Describe().c_str(), failover.Describe().c_str(),
      served_until_healed.Describe().c_str(), moved.Describe().c_str(),
      rejoin.Describe().c_str(), rejoin_puts.Describe().c_str(),
      rejoin_cas.Describe().c_str(), all.Describe().c_str(),
      all.attempts - all.failures, acked.size(), lost_while_cut.size(),
      lost.size(), kCutOff, checked_on_node, held.size(), read_from_primary,
      leads.size(), missing_on_node.size(), direct_keys.size(), kCutOff, of_led,
      direct_summary.c_str(), direct_visible, direct_visible_led,
      direct_on_node, kCutOff, direct_only_on_node);

  // The cluster kept serving once the table had moved and the new
  // primaries had caught up (how soon: see
  // CutOffNodesPartitionsFailOverWithinSeconds below).
  EXPECT_LT(served_until_healed.failures * 100, served_until_healed.attempts)
      << served_until_healed.Describe();
  // And while cache-3 came back, compare-and-set writes included: a
  // primary whose replication stream to a backup the partition broke
  // reopens it and sends the write again (ReplicationLink) rather than
  // answering "may or may not persist", which a compare-and-set is not
  // retried on.
  EXPECT_LT(rejoin.failures * 100, rejoin.attempts) << rejoin.Describe();
  EXPECT_LT(rejoin_puts.failures * 100, rejoin_puts.attempts)
      << rejoin_puts.Describe();
  if (HasFailure()) ADD_FAILURE() << cluster.Logs();
}

// The partitions of a cut-off node should fail over about as fast as those
// of a killed one: lease (2 s) plus a promotion. A pull over a connection
// whose packets vanish ends only at PullFrom's deadline (30 s), so the new
// primary must not wait for the departed copy when the survivors hold every
// acknowledged write (CacheNodeCore::Promote, as for a frozen node), also
// when another survivor's catch-up raised its fence to the new term before
// it saw the new table.
TEST(CacheNodePartitionTest, CutOffNodesPartitionsFailOverWithinSeconds) {
  std::string skip;
  absl::StatusOr<PartitionableCluster> started =
      StartPartitionable("cache_node_partition_fast", &skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE(started->ns->Cut().ok());
  const absl::Time cut = absl::Now();
  absl::Status failed_over =
      started->cluster->WaitForStableTable({1, 2}, absl::Seconds(10));
  EXPECT_TRUE(failed_over.ok()) << failed_over;
  std::printf("a cut-off node's partitions failed over in %s\n",
              absl::FormatDuration(absl::Now() - cut).c_str());
}

}  // namespace
}  // namespace parley::fault
