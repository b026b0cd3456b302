#include "cache_node/cache_node_core.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/grpc_status.h"
#include "services/common/retry_policy.h"
#include "spdlog/spdlog.h"

namespace parley::cache {
namespace {

constexpr int kWorkers = 8;
constexpr absl::string_view kSessionPrefix = "sessions/";
constexpr absl::Duration kPullDeadline = absl::Seconds(30);
// How a primary still promoting answers a backup's catch-up ("... does
// not serve partition 3 as the primary of term 7 (yet); retry"), and how
// soon the backup asks again.
constexpr absl::string_view kNotServingYet = "does not serve partition";
constexpr absl::Duration kPromotingPrimaryRetry = absl::Milliseconds(20);
// Store errors are logged at most this often.
constexpr absl::Duration kErrorLogInterval = absl::Seconds(10);
// Out-of-order writes a backup remembers while a gap is being filled.
constexpr size_t kMaxPendingChain = 200000;

// The first version of a primary term: above every version of older terms.
uint64_t TermBase(uint64_t term) { return term << 32; }

// Whether a failed catch-up attempt is logged: the 5th (earlier ones are
// common while tables settle: a primary still promoting, a node just gone)
// and every 20th; for a full disk only every 20th (the free-space check
// said so already).
bool LogRetry(int attempt, const absl::Status& why) {
  if (attempt % 20 == 0) return true;
  return attempt == 5 && why.code() != absl::StatusCode::kResourceExhausted;
}

// Marks statuses of operations that were certainly not applied.
constexpr absl::string_view kNotAppliedPayload =
    "type.parley.dev/parley.cache.NotApplied";

}  // namespace

absl::Status NotApplied(absl::Status status) {
  if (!status.ok()) status.SetPayload(kNotAppliedPayload, absl::Cord("1"));
  return status;
}

bool IsNotApplied(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kNotAppliedPayload).has_value();
}

CacheNodeCore::CacheNodeCore(CacheNodeOptions options, PartitionStore* store,
                             std::shared_ptr<NodeChannels> channels)
    : options_(std::move(options)),
      store_(store),
      channels_(std::move(channels)),
      local_writes_(std::make_unique<LocalWriteQueue>(
          [store](const std::vector<const v1::ReplicatedWrite*>& writes) {
            return store->WriteMany(writes);
          })) {
  for (int i = 0; i < kWorkers; ++i) {
    workers_.emplace_back([this] { RunWorker(); });
  }
}

CacheNodeCore::~CacheNodeCore() { Stop(); }

void CacheNodeCore::Stop() {
  {
    absl::MutexLock lock(&work_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  {
    absl::MutexLock lock(&pulls_mu_);
    for (auto& [partition, context] : pulls_) context->TryCancel();
  }
  for (std::thread& worker : workers_) worker.join();
  local_writes_->Flush();
}

void CacheNodeCore::Enqueue(std::function<void()> task) {
  absl::MutexLock lock(&work_mu_);
  if (stopping_) return;
  work_.push_back(std::move(task));
}

void CacheNodeCore::EnqueueAt(absl::Time due, std::function<void()> task) {
  absl::MutexLock lock(&work_mu_);
  if (stopping_) return;
  delayed_work_.emplace(due, std::move(task));
  ++delayed_added_;
}

void CacheNodeCore::RunWorker() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&work_mu_);
      while (task == nullptr) {
        if (stopping_) return;
        if (!work_.empty()) {
          task = std::move(work_.front());
          work_.pop_front();
        } else if (!delayed_work_.empty() &&
                   delayed_work_.begin()->first <= absl::Now()) {
          task = std::move(delayed_work_.begin()->second);
          delayed_work_.erase(delayed_work_.begin());
        } else {
          const uint64_t seen = delayed_added_;
          auto ready = [this, seen]() ABSL_SHARED_LOCKS_REQUIRED(work_mu_) {
            return stopping_ || !work_.empty() || delayed_added_ != seen;
          };
          work_mu_.AwaitWithDeadline(absl::Condition(&ready),
                                     delayed_work_.empty()
                                         ? absl::InfiniteFuture()
                                         : delayed_work_.begin()->first);
        }
      }
    }
    task();
  }
}

std::shared_ptr<const TableView> CacheNodeCore::table() const {
  absl::MutexLock lock(&table_mu_);
  return table_;
}

bool CacheNodeCore::GenerationIs(uint32_t partition, uint64_t generation) {
  {
    absl::MutexLock lock(&work_mu_);
    if (stopping_) return false;
  }
  PartitionState& state = *partitions_[partition];
  absl::MutexLock lock(&state.mu);
  return state.generation == generation;
}

namespace {

// Whether the fence a partition had before table `next` arrived shows no
// term between `own_term` (this node's, from table `previous`) and
// `next_term` (the partition's term in `next`). Terms are the epochs of the
// tables that changed the primary, so a term between the two would come
// from a table between `previous` and `next`: with consecutive epochs there
// is none, and a fence raised to `next_term` early (another survivor's
// catch-up, sent as soon as it saw `next`) shows nothing new.
bool NoTermBetween(uint64_t fence_before, uint64_t own_term, uint64_t next_term,
                   const TableView& previous, const TableView& next) {
  if (fence_before == own_term) return true;
  return next.epoch() == previous.epoch() + 1 && fence_before <= next_term;
}

}  // namespace

void CacheNodeCore::OnTable(const v1::PartitionTable& table) {
  auto view = std::make_shared<const TableView>(table);
  std::shared_ptr<const TableView> previous = this->table();
  if (previous != nullptr && view->epoch() <= previous->epoch()) return;
  if (previous != nullptr &&
      view->partition_count() != previous->partition_count()) {
    spdlog::error("partition count changed from {} to {}; ignoring table {}",
                  previous->partition_count(), view->partition_count(),
                  view->epoch());
    return;
  }
  for (const v1::CacheNodeAddress& node : table.nodes()) {
    known_addresses_[node.id()] = node.address();
  }
  {
    absl::MutexLock lock(&partitions_init_mu_);
    if (partitions_.empty()) {
      partitions_.reserve(view->partition_count());
      for (uint32_t p = 0; p < view->partition_count(); ++p) {
        auto state = std::make_unique<PartitionState>();
        absl::StatusOr<PartitionMeta> meta = store_->GetMeta(p);
        if (meta.ok()) {
          absl::MutexLock state_lock(&state->mu);
          state->last_version = meta->contiguous_version;
          state->fence = meta->term_fence;
        }
        partitions_.push_back(std::move(state));
      }
    }
  }

  const std::string& me = options_.node_id;
  std::vector<uint32_t> changed;
  // Started once the new table is published, so they see it.
  std::vector<std::function<void()>> tasks;
  int promotions = 0, catch_ups = 0;
  // Copies to drop: (partition, generation).
  std::vector<std::pair<uint32_t, uint64_t>> drops_due;
  for (uint32_t p = 0; p < view->partition_count(); ++p) {
    PartitionState& state = *partitions_[p];
    absl::MutexLock lock(&state.mu);
    const uint64_t term = view->Term(p);
    const uint64_t fence_before = state.fence;
    state.fence = std::max(state.fence, term);
    if (view->Primary(p) == me) {
      if (state.role == Role::kPrimary && state.term == term) {
        NoteCopiesLocked(state, *view, p, /*reset=*/false);
        continue;
      }
      PromotionBasis basis;
      if (previous != nullptr && state.role == Role::kBackup && state.synced &&
          state.term == previous->Term(p) &&
          NoTermBetween(fence_before, state.term, term, *previous, *view)) {
        basis.settled = true;
        basis.copies = state.term_copies;
        basis.quorum = state.term_quorum;
      }
      NoteCopiesLocked(state, *view, p, /*reset=*/true);
      state.role = Role::kPrimary;
      state.drop_scheduled = false;
      state.term = term;
      state.serving = false;
      state.pending_chain.clear();
      const uint64_t generation = ++state.generation;
      changed.push_back(p);
      // Every other copy, old or new, that may hold acknowledged writes.
      std::vector<std::pair<std::string, std::string>> sources;
      std::set<std::string> seen = {me};
      auto add_sources = [&](const TableView& from) {
        for (const std::string& node : from.Replicas(p)) {
          if (!seen.insert(node).second) continue;
          auto known = known_addresses_.find(node);
          if (known == known_addresses_.end()) {
            spdlog::warn(
                "partition {}: no address known for its copy on {}; not "
                "catching up from it",
                p, node);
            continue;
          }
          sources.emplace_back(node, known->second);
        }
      };
      add_sources(*view);
      if (previous != nullptr) add_sources(*previous);
      ++promotions;
      tasks.push_back([this, p, generation, term, sources, basis] {
        Promote(p, generation, term, sources, basis);
      });
    } else if (view->IsReplica(p, me)) {
      if (state.role == Role::kBackup && state.term == term) {
        NoteCopiesLocked(state, *view, p, /*reset=*/false);
        continue;
      }
      NoteCopiesLocked(state, *view, p, /*reset=*/true);
      state.role = Role::kBackup;
      state.drop_scheduled = false;
      state.term = term;
      state.serving = false;
      const uint64_t generation = ++state.generation;
      changed.push_back(p);
      state.catch_up_queued = true;
      ++catch_ups;
      tasks.push_back(
          [this, p, generation] { CatchUpFromPrimary(p, generation); });
    } else {
      const bool keep = draining_ || keep_data_;
      // Copies kept while this node was out of the table are dropped once
      // it no longer keeps them.
      if (state.role == Role::kNone && previous != nullptr &&
          (state.last_version == 0 || keep || state.drop_scheduled)) {
        continue;
      }
      const bool held = state.role != Role::kNone || state.last_version > 0;
      state.synced = false;
      state.term_copies.clear();
      state.role = Role::kNone;
      state.serving = false;
      state.pending_chain.clear();
      ++state.generation;
      changed.push_back(p);
      if (held && !keep) {
        // Kept a while: a node taking the partition over may still need to
        // pull writes from it.
        state.drop_scheduled = true;
        drops_due.emplace_back(p, state.generation);
      }
    }
  }
  CancelPulls(changed);
  {
    absl::MutexLock lock(&table_mu_);
    table_ = view;
    for (auto it = links_.begin(); it != links_.end();) {
      if (view->Address(it->first).empty()) {
        it->second->Close();
        links_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (std::function<void()>& task : tasks) Enqueue(std::move(task));
  const absl::Time drop_at = absl::Now() + options_.keep_left_copies_for;
  for (const auto& [p, generation] : drops_due) {
    if (options_.keep_left_copies_for <= absl::ZeroDuration()) {
      DropLeftCopy(p, generation);
    } else {
      EnqueueAt(drop_at, [this, p = p, generation = generation] {
        DropLeftCopy(p, generation);
      });
    }
  }
  spdlog::info(
      "table epoch {}: {} promotion(s), {} catch-up(s), {} copy(ies) of "
      "partitions left to drop in {}",
      view->epoch(), promotions, catch_ups, drops_due.size(),
      absl::FormatDuration(options_.keep_left_copies_for));
}

void CacheNodeCore::DropLeftCopy(uint32_t partition, uint64_t generation) {
  local_writes_->Flush();  // No write of the partition lands after the drop.
  PartitionState& state = *partitions_[partition];
  absl::MutexLock lock(&state.mu);
  if (state.generation != generation || !state.drop_scheduled) return;
  state.drop_scheduled = false;
  // Kept after all (draining, or out of the tier for lack of disk space):
  // the next table that leaves this node out schedules the drop again.
  if (draining_ || keep_data_) return;
  if (absl::Status s = store_->DropPartition(partition); !s.ok()) {
    spdlog::error("dropping partition {}: {}", partition, s.ToString());
    return;
  }
  state.last_version = 0;
}

void CacheNodeCore::CancelPulls(const std::vector<uint32_t>& partitions) {
  absl::MutexLock lock(&pulls_mu_);
  for (uint32_t p : partitions) {
    auto it = pulls_.find(p);
    if (it != pulls_.end()) it->second->TryCancel();
  }
}

void CacheNodeCore::OnGroupConfig(const v1::ConfigEvent& event) {
  absl::MutexLock lock(&table_mu_);
  if (event.kind() == v1::ConfigEvent::SNAPSHOT) session_ttl_ms_.clear();
  for (const v1::ConfigEntry& entry : event.entries()) {
    std::vector<absl::string_view> parts = absl::StrSplit(entry.path(), '/');
    if (parts.size() != 4 || parts[0] != "groups" || parts[2] != "session" ||
        parts[3] != "timeout_seconds") {
      continue;
    }
    const std::string group(parts[1]);
    uint64_t seconds = 0;
    if (event.kind() == v1::ConfigEvent::DELETE ||
        !absl::SimpleAtoi(entry.value(), &seconds)) {
      session_ttl_ms_.erase(group);
    } else {
      session_ttl_ms_[group] = static_cast<int64_t>(seconds) * 1000;
    }
  }
}

int64_t CacheNodeCore::ExpiryFor(absl::string_view ns, uint64_t ttl_ms) const {
  const int64_t now = store_->NowMs();
  if (ttl_ms > 0) return now + static_cast<int64_t>(ttl_ms);
  if (!absl::StartsWith(ns, kSessionPrefix)) return 0;
  absl::string_view group = ns.substr(kSessionPrefix.size());
  group = group.substr(0, group.find('/'));
  absl::MutexLock lock(&table_mu_);
  auto it = session_ttl_ms_.find(group);
  return it == session_ttl_ms_.end() ? 0 : now + it->second;
}

absl::StatusOr<Route> CacheNodeCore::RouteFor(absl::string_view ns,
                                              absl::string_view key,
                                              uint32_t* partition) const {
  if (absl::Status s = ValidateNamespace("namespace", ns); !s.ok()) return s;
  if (absl::Status s = ValidateKey("key", key); !s.ok()) return s;
  std::shared_ptr<const TableView> view = table();
  if (view == nullptr || view->partition_count() == 0) {
    return NotApplied(absl::UnavailableError(
        "this cache node has no partition table yet; is the coordinator "
        "reachable?"));
  }
  const uint32_t p = PartitionOf(ns, key, view->partition_count());
  if (partition != nullptr) *partition = p;
  const std::string& primary = view->Primary(p);
  if (primary.empty()) {
    return NotApplied(absl::UnavailableError(
        absl::StrCat("partition ", p, " has no cache node (table epoch ",
                     view->epoch(), "); are any cache nodes up?")));
  }
  Route route;
  route.local = primary == options_.node_id;
  route.primary_id = primary;
  route.primary_address = view->Address(primary);
  if (!route.local && route.primary_address.empty()) {
    return NotApplied(absl::UnavailableError(absl::StrCat(
        "partition ", p, " waits for one of its cache nodes (",
        absl::StrJoin(view->Replicas(p), ", "),
        ") to come back: none is live (table epoch ", view->epoch(), ")")));
  }
  return route;
}

int CacheNodeCore::WriteQuorum(const TableView& view,
                               uint32_t partition) const {
  const int quorum =
      options_.write_quorum > 0
          ? options_.write_quorum
          : static_cast<int>(view.table().replication_factor()) / 2 + 1;
  return std::min<int>(quorum,
                       static_cast<int>(view.Replicas(partition).size()));
}

void CacheNodeCore::NoteCopiesLocked(PartitionState& state,
                                     const TableView& view, uint32_t partition,
                                     bool reset) const {
  const int quorum = WriteQuorum(view, partition);
  if (reset) {
    state.synced = false;
    state.term_copies.clear();
    state.term_quorum = quorum;
  } else {
    state.term_quorum = std::min(state.term_quorum, quorum);
  }
  for (const std::string& node : view.Replicas(partition)) {
    state.term_copies.insert(node);
  }
}

void CacheNodeCore::NoteStoreError(absl::string_view what,
                                   const absl::Status& status) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  // At most one line per interval: a failing disk fails every write.
  const int64_t now = absl::ToUnixMillis(absl::Now());
  int64_t last = last_error_log_ms_.load();
  if (now - last < absl::ToInt64Milliseconds(kErrorLogInterval) ||
      !last_error_log_ms_.compare_exchange_strong(last, now)) {
    return;
  }
  spdlog::error("{}: {} ({} store error(s) so far)", std::string(what),
                status.ToString(), errors_.load());
}

absl::Status CacheNodeCore::CheckServingLocked(uint32_t partition,
                                               PartitionState& state) {
  // Every refusal here comes before anything is written.
  if (state.role != Role::kPrimary) {
    std::shared_ptr<const TableView> view = table();
    return NotApplied(absl::FailedPreconditionError(absl::StrCat(
        "cache node '", options_.node_id, "' is not the primary of partition ",
        partition, "; its primary is '",
        view != nullptr ? view->Primary(partition) : std::string(),
        "' (table epoch ", view != nullptr ? view->epoch() : 0, ")")));
  }
  if (state.fence > state.term) {
    return NotApplied(absl::FailedPreconditionError(absl::StrCat(
        "partition ", partition, " has a newer primary term (", state.fence,
        " > ", state.term, ") than cache node '", options_.node_id,
        "' holds; refresh the partition table")));
  }
  if (!state.serving) {
    return NotApplied(absl::UnavailableError(absl::StrCat(
        "partition ", partition, " is being taken over by cache node '",
        options_.node_id, "' (catching up from the other copies); retry")));
  }
  return absl::OkStatus();
}

void CacheNodeCore::RaiseFenceLocked(uint32_t partition, PartitionState& state,
                                     uint64_t term) {
  if (term <= state.fence) return;
  state.fence = term;
  PartitionMeta meta{state.last_version, state.fence};
  if (absl::Status s = store_->SetMeta(partition, meta); !s.ok()) {
    spdlog::error("persisting the term fence of partition {}: {}", partition,
                  s.ToString());
  }
}

absl::StatusOr<v1::GetResponse> CacheNodeCore::Get(
    const v1::GetRequest& request) {
  uint32_t p = 0;
  absl::StatusOr<Route> route =
      RouteFor(request.namespace_(), request.key(), &p);
  if (!route.ok()) return route.status();
  {
    PartitionState& state = *partitions_[p];
    absl::MutexLock lock(&state.mu);
    if (absl::Status s = CheckServingLocked(p, state); !s.ok()) return s;
  }
  gets_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<std::optional<StoredEntry>> stored =
      store_->Read(p, request.namespace_(), request.key());
  if (!stored.ok()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return stored.status();
  }
  v1::GetResponse response;
  if (!stored->has_value() || IsGone((*stored)->header, store_->NowMs())) {
    return response;
  }
  response.set_found(true);
  v1::Entry* entry = response.mutable_entry();
  entry->set_namespace_(request.namespace_());
  entry->set_key(request.key());
  entry->set_value(std::move((*stored)->value));
  entry->set_version((*stored)->header.version);
  entry->set_expire_time_ms((*stored)->header.expire_time_ms);
  return response;
}

std::shared_ptr<ReplicationLink> CacheNodeCore::LinkTo(const std::string& node,
                                                       const TableView& view) {
  absl::MutexLock lock(&table_mu_);
  auto& link = links_[node];
  if (link == nullptr) {
    link = std::make_shared<ReplicationLink>(
        options_.node_id, node, channels_->Stub(view.Address(node)));
  }
  return link;
}

namespace {

// Reports a primary's write once both its local copy and its backups'
// quorum are settled: the write when both succeeded, else the first
// failure (at once).
class PrimaryWriteOutcome {
 public:
  PrimaryWriteOutcome(
      std::function<void(absl::StatusOr<v1::ReplicatedWrite>)> done,
      std::shared_ptr<const v1::ReplicatedWrite> write)
      : done_(std::move(done)), write_(std::move(write)) {}

  void Settle(const absl::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (reported_) return;
      if (status.ok() && --pending_ > 0) return;
      reported_ = true;
    }
    if (status.ok()) {
      done_(*write_);
    } else {
      done_(status);
    }
  }

 private:
  const std::function<void(absl::StatusOr<v1::ReplicatedWrite>)> done_;
  const std::shared_ptr<const v1::ReplicatedWrite> write_;
  absl::Mutex mu_;
  int pending_ ABSL_GUARDED_BY(mu_) = 2;  // the local copy, the backups
  bool reported_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

void CacheNodeCore::WritePrimary(
    uint32_t partition, absl::string_view ns, absl::string_view key,
    bool read_current, const WriteDecision& decide,
    std::function<void(absl::StatusOr<v1::ReplicatedWrite>)> done) {
  PartitionState& state = *partitions_[partition];
  absl::MutexLock lock(&state.mu);
  if (absl::Status s = CheckServingLocked(partition, state); !s.ok()) {
    done(s);
    return;
  }
  // Backups on live nodes (the table names a partition's replicas while
  // it waits for them to come back; those without an address are not live).
  std::shared_ptr<const TableView> view = table();
  const int quorum = WriteQuorum(*view, partition);
  std::vector<std::string> backups;
  for (const std::string& node : view->Replicas(partition)) {
    if (node != options_.node_id && !view->Address(node).empty()) {
      backups.push_back(node);
    }
  }
  if (static_cast<int>(backups.size()) < quorum - 1) {
    done(NotApplied(absl::UnavailableError(absl::StrCat(
        "partition ", partition, " has ", backups.size(),
        " other cop(ies) on live cache nodes, fewer than the ", quorum - 1,
        " its write quorum of ", quorum, " needs; retry"))));
    return;
  }
  // This partition's queued writes are stored before its entry is read
  // (none can be queued meanwhile: that takes the partition's lock).
  if (read_current) local_writes_->Flush();
  absl::StatusOr<std::optional<StoredEntry>> current =
      read_current ? store_->Read(partition, ns, key)
                   : absl::StatusOr<std::optional<StoredEntry>>(std::nullopt);
  if (!current.ok()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    done(current.status());
    return;
  }
  absl::StatusOr<v1::ReplicatedWrite> write = decide(*current);
  if (!write.ok()) {
    done(write.status());
    return;
  }
  const uint64_t previous = state.last_version;
  const uint64_t version = std::max(previous + 1, TermBase(state.term) + 1);
  write->set_partition(partition);
  write->set_namespace_(std::string(ns));
  write->set_key(std::string(key));
  write->set_version(version);
  if (absl::Status s = store_->CheckSpaceFor(*write); !s.ok()) {
    if (!stay_when_low_) {
      // Not stored here: the other nodes take the partition over shortly.
      s = NotApplied(absl::UnavailableError(absl::StrCat(
          s.message(), "; cache node '", options_.node_id,
          "' hands its partitions over to the other nodes: retry")));
    }
    done(s);
    return;
  }
  state.last_version = version;

  // Acknowledged once this node stored it and the quorum's backups hold it;
  // sent to the backups first, so that their round trip overlaps the local
  // write.
  auto written = std::make_shared<const v1::ReplicatedWrite>(*std::move(write));
  auto outcome =
      std::make_shared<PrimaryWriteOutcome>(std::move(done), written);
  auto tracker = std::make_shared<AckTracker>(
      quorum - 1, static_cast<int>(backups.size()),
      [outcome](absl::Status status) { outcome->Settle(status); });
  for (const std::string& backup : backups) {
    v1::ReplicateItem item;
    *item.mutable_write() = *written;
    item.set_term(state.term);
    item.set_previous_version(previous);
    LinkTo(backup, *view)->Send(std::move(item), tracker);
  }
  local_writes_->Submit(written, [this, outcome](const absl::Status& status) {
    if (!status.ok()) NoteStoreError("storing a write", status);
    outcome->Settle(status);
  });
}

namespace {

// The live version of a stored entry (0 when absent or gone).
uint64_t LiveVersion(const std::optional<StoredEntry>& current, int64_t now) {
  if (!current.has_value() || IsGone(current->header, now)) return 0;
  return current->header.version;
}

absl::Status CheckExpected(const google::protobuf::UInt64Value& expected,
                           bool has_expected, uint64_t live) {
  if (!has_expected || expected.value() == live) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat(
      "the entry is at version ", live, live == 0 ? " (absent)" : "",
      ", not the expected ", expected.value(),
      "; read it again and retry with its current version"));
}

}  // namespace

void CacheNodeCore::Put(const v1::PutRequest& request,
                        Done<v1::PutResponse> done) {
  uint32_t p = 0;
  absl::StatusOr<Route> route =
      RouteFor(request.namespace_(), request.key(), &p);
  if (!route.ok()) return done(route.status());
  if (request.value().size() > options_.max_value_bytes) {
    return done(absl::InvalidArgumentError(absl::StrCat(
        "value is ", request.value().size(), " bytes; at most ",
        options_.max_value_bytes, " are allowed (--max_value_bytes)")));
  }
  if (request.ttl_ms() > uint64_t{10} * 365 * 24 * 3600 * 1000) {
    return done(absl::InvalidArgumentError(
        "ttl_ms is more than ten years; use 0 for no expiry"));
  }
  puts_.fetch_add(1, std::memory_order_relaxed);
  const int64_t expiry = ExpiryFor(request.namespace_(), request.ttl_ms());
  // An unconditional put does not need the current entry.
  WritePrimary(
      p, request.namespace_(), request.key(), request.has_expected_version(),
      [&](const std::optional<StoredEntry>& current)
          -> absl::StatusOr<v1::ReplicatedWrite> {
        if (absl::Status s = CheckExpected(
                request.expected_version(), request.has_expected_version(),
                LiveVersion(current, store_->NowMs()));
            !s.ok()) {
          return s;
        }
        v1::ReplicatedWrite write;
        write.set_value(request.value());
        write.set_expire_time_ms(expiry);
        return write;
      },
      [done](absl::StatusOr<v1::ReplicatedWrite> written) {
        if (!written.ok()) return done(written.status());
        v1::PutResponse response;
        response.set_version(written->version());
        done(response);
      });
}

void CacheNodeCore::Delete(const v1::DeleteRequest& request,
                           Done<v1::DeleteResponse> done) {
  uint32_t p = 0;
  absl::StatusOr<Route> route =
      RouteFor(request.namespace_(), request.key(), &p);
  if (!route.ok()) return done(route.status());
  deletes_.fetch_add(1, std::memory_order_relaxed);
  auto existed = std::make_shared<bool>(true);
  WritePrimary(
      p, request.namespace_(), request.key(), /*read_current=*/true,
      [&](const std::optional<StoredEntry>& current)
          -> absl::StatusOr<v1::ReplicatedWrite> {
        const uint64_t live = LiveVersion(current, store_->NowMs());
        if (absl::Status s =
                CheckExpected(request.expected_version(),
                              request.has_expected_version(), live);
            !s.ok()) {
          return s;
        }
        if (live == 0) {
          *existed = false;
          return absl::NotFoundError("");
        }
        v1::ReplicatedWrite write;
        write.set_deleted(true);
        return write;
      },
      [done, existed](absl::StatusOr<v1::ReplicatedWrite> written) {
        v1::DeleteResponse response;
        if (!written.ok()) {
          if (!*existed) return done(response);
          return done(written.status());
        }
        response.set_existed(true);
        response.set_version(written->version());
        done(response);
      });
}

void CacheNodeCore::Touch(const v1::TouchRequest& request,
                          Done<v1::TouchResponse> done) {
  uint32_t p = 0;
  absl::StatusOr<Route> route =
      RouteFor(request.namespace_(), request.key(), &p);
  if (!route.ok()) return done(route.status());
  if (request.ttl_ms() == 0) {
    return done(absl::InvalidArgumentError(
        "ttl_ms must be positive: the new time to live from now"));
  }
  puts_.fetch_add(1, std::memory_order_relaxed);
  auto found = std::make_shared<bool>(true);
  const int64_t expiry = ExpiryFor(request.namespace_(), request.ttl_ms());
  WritePrimary(
      p, request.namespace_(), request.key(), /*read_current=*/true,
      [&](const std::optional<StoredEntry>& current)
          -> absl::StatusOr<v1::ReplicatedWrite> {
        if (LiveVersion(current, store_->NowMs()) == 0) {
          *found = false;
          return absl::NotFoundError("");
        }
        v1::ReplicatedWrite write;
        write.set_value(current->value);
        write.set_expire_time_ms(expiry);
        return write;
      },
      [done, found](absl::StatusOr<v1::ReplicatedWrite> written) {
        v1::TouchResponse response;
        if (!written.ok()) {
          if (!*found) return done(response);
          return done(written.status());
        }
        response.set_found(true);
        response.set_version(written->version());
        done(response);
      });
}

absl::StatusOr<std::vector<v1::Entry>> CacheNodeCore::ScanPartition(
    uint32_t partition, absl::string_view ns, absl::string_view prefix,
    absl::string_view start_after, size_t limit) {
  std::shared_ptr<const TableView> view = table();
  if (view == nullptr || partition >= view->partition_count()) {
    return absl::InvalidArgumentError("no such partition");
  }
  {
    PartitionState& state = *partitions_[partition];
    absl::MutexLock lock(&state.mu);
    if (absl::Status s = CheckServingLocked(partition, state); !s.ok()) {
      return s;
    }
  }
  return store_->Scan(partition, ns, prefix, start_after, limit);
}

void CacheNodeCore::FollowChainLocked(PartitionState& state) {
  while (!state.pending_chain.empty()) {
    auto it = state.pending_chain.begin();
    if (it->first < state.last_version) {
      state.pending_chain.erase(it);  // Already covered.
      continue;
    }
    if (it->first != state.last_version) break;
    state.last_version = std::max(state.last_version, it->second);
    state.pending_chain.erase(it);
  }
}

v1::ReplicateResponse CacheNodeCore::Replicate(
    const v1::ReplicateRequest& request) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  v1::ReplicateResponse response;
  const int n = request.items_size();
  for (int i = 0; i < n; ++i) response.add_results();
  if (partitions_.empty()) {
    for (auto& result : *response.mutable_results()) {
      result.set_code(static_cast<int>(absl::StatusCode::kUnavailable));
    }
    return response;
  }
  // Items by partition, in ascending partition order (the lock order), each
  // partition's items in the order the primary sent them.
  std::map<uint32_t, std::vector<int>> by_partition;
  for (int i = 0; i < n; ++i) {
    const uint32_t p = request.items(i).write().partition();
    if (p >= partitions_.size()) {
      response.mutable_results(i)->set_code(
          static_cast<int>(absl::StatusCode::kInvalidArgument));
      continue;
    }
    by_partition[p].push_back(i);
  }
  std::vector<std::unique_ptr<absl::MutexLock>> locks;
  locks.reserve(by_partition.size());
  std::vector<const v1::ReplicatedWrite*> writes;
  writes.reserve(n);
  std::vector<std::pair<uint32_t, uint64_t>> contiguous;
  std::vector<std::pair<uint32_t, uint64_t>> before;
  std::vector<uint32_t> gaps;
  for (const auto& [p, items] : by_partition) {
    PartitionState& state = *partitions_[p];
    locks.push_back(std::make_unique<absl::MutexLock>(&state.mu));
    before.emplace_back(p, state.last_version);
    bool gap = false;
    for (int k : items) {
      const v1::ReplicateItem& item = request.items(k);
      if (item.term() < state.fence) {
        response.mutable_results(k)->set_code(
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
        continue;
      }
      RaiseFenceLocked(p, state, item.term());
      writes.push_back(&item.write());
      if (item.previous_version() == state.last_version) {
        state.last_version = item.write().version();
      } else if (item.write().version() > state.last_version) {
        gap = true;
        if (state.pending_chain.size() < kMaxPendingChain) {
          state.pending_chain[item.previous_version()] = item.write().version();
        }
      }
      FollowChainLocked(state);
    }
    contiguous.emplace_back(p, state.last_version);
    if (gap && !state.catch_up_queued && state.role == Role::kBackup) {
      state.catch_up_queued = true;
      gaps.push_back(p);
    }
  }
  // One atomic RocksDB write for the whole request.
  absl::Status applied = absl::OkStatus();
  if (!writes.empty()) {
    applied = store_->ApplyIfNewer(writes, contiguous).status();
  }
  if (!applied.ok()) {
    // Low disk space is reported by the free-space check, once.
    if (!IsLowSpaceRefusal(applied)) {
      NoteStoreError("applying replicated writes", applied);
    }
    for (const auto& [p, version] : before) {
      partitions_[p]->last_version = version;
    }
  } else {
    replicated_in_.fetch_add(writes.size(), std::memory_order_relaxed);
  }
  for (const auto& [p, items] : by_partition) {
    const uint64_t held = partitions_[p]->last_version;
    for (int k : items) {
      v1::ReplicateResult* result = response.mutable_results(k);
      result->set_contiguous_version(held);
      if (!applied.ok() && result->code() == 0) {
        result->set_code(static_cast<int>(
            IsLowSpaceRefusal(applied) ? absl::StatusCode::kResourceExhausted
                                       : absl::StatusCode::kUnavailable));
      }
    }
  }
  for (uint32_t p : gaps) {
    const uint64_t generation = partitions_[p]->generation;
    Enqueue([this, p, generation] { CatchUpFromPrimary(p, generation); });
  }
  return response;
}

absl::StatusOr<uint64_t> CacheNodeCore::ServeCatchUp(
    const v1::CatchUpRequest& request,
    const std::function<bool(std::vector<v1::ReplicatedWrite>&)>& emit) {
  if (partitions_.empty() || request.partition() >= partitions_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no partition ", request.partition(), " here"));
  }
  {
    PartitionState& state = *partitions_[request.partition()];
    absl::MutexLock lock(&state.mu);
    RaiseFenceLocked(request.partition(), state, request.term());
    // A backup counts on its primary's copy holding every acknowledged
    // write (see Promote): true once the primary's promotion is done.
    if (request.from_backup() &&
        !(state.role == Role::kPrimary && state.serving &&
          state.term == request.term() && state.fence == state.term)) {
      return absl::UnavailableError(
          absl::StrCat("cache node '", options_.node_id, "' ", kNotServingYet,
                       " ", request.partition(), " as the primary of term ",
                       request.term(), " (yet); retry"));
    }
  }
  active_catch_ups_.fetch_add(1);
  catch_ups_.fetch_add(1, std::memory_order_relaxed);
  const absl::Time started = absl::Now();
  uint64_t bytes = 0;
  const uint64_t rate = options_.catch_up_bytes_per_second;
  absl::StatusOr<uint64_t> snapshot = store_->ReadSince(
      request.partition(), request.after_version(),
      options_.catch_up_chunk_bytes,
      [&](std::vector<v1::ReplicatedWrite>& chunk) {
        for (const v1::ReplicatedWrite& write : chunk) {
          bytes += write.value().size() + write.key().size();
        }
        if (rate > 0) {
          // Throttle: never ahead of the byte budget since the start.
          const absl::Duration budget =
              absl::Seconds(static_cast<double>(bytes) / rate);
          const absl::Duration spent = absl::Now() - started;
          if (budget > spent) absl::SleepFor(budget - spent);
        }
        return emit(chunk);
      });
  active_catch_ups_.fetch_sub(1);
  last_catch_up_ms_.store(absl::ToUnixMillis(absl::Now()));
  return snapshot;
}

bool CacheNodeCore::CatchUpsQuiet(absl::Duration quiet) const {
  return active_catch_ups_.load() == 0 &&
         absl::ToUnixMillis(absl::Now()) - last_catch_up_ms_.load() >=
             absl::ToInt64Milliseconds(quiet);
}

absl::StatusOr<uint64_t> CacheNodeCore::PullFrom(const std::string& address,
                                                 uint32_t partition,
                                                 uint64_t after, uint64_t term,
                                                 bool from_backup) {
  if (address.empty()) return absl::UnavailableError("no address");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kPullDeadline));
  {
    absl::MutexLock lock(&pulls_mu_);
    pulls_[partition] = &context;
  }
  v1::CatchUpRequest request;
  request.set_partition(partition);
  request.set_after_version(after);
  request.set_term(term);
  request.set_from_node(options_.node_id);
  request.set_from_backup(from_backup);
  std::unique_ptr<grpc::ClientReader<v1::CatchUpChunk>> reader =
      channels_->Stub(address)->CatchUp(&context, request);
  v1::CatchUpChunk chunk;
  uint64_t highest = after;
  absl::Status failure = absl::OkStatus();
  while (reader->Read(&chunk)) {
    std::vector<const v1::ReplicatedWrite*> writes;
    writes.reserve(chunk.writes_size());
    for (const v1::ReplicatedWrite& write : chunk.writes()) {
      if (write.partition() != partition) continue;
      writes.push_back(&write);
      highest = std::max(highest, write.version());
    }
    if (!writes.empty()) {
      absl::StatusOr<int> applied = store_->ApplyIfNewer(writes, std::nullopt);
      if (!applied.ok()) {
        failure = applied.status();
        context.TryCancel();
        break;
      }
    }
    if (chunk.last()) highest = std::max(highest, chunk.snapshot_version());
  }
  grpc::Status status = reader->Finish();
  {
    absl::MutexLock lock(&pulls_mu_);
    pulls_.erase(partition);
  }
  if (!failure.ok()) return failure;
  if (!status.ok()) return FromGrpcStatus(status);
  return highest;
}

// Which copies a promotion must pull from. With a write quorum of W, an
// acknowledged write is held by at least W copies of the partition when it
// is acknowledged: the primary and W - 1 backups whose contiguous version
// covers it (a backup holding a write holds every earlier one too). A new
// primary P therefore holds every acknowledged write once it has pulled
// from every copy of the terms that acknowledged writes, except from fewer
// than W of them (at least one holder of each write is among the rest).
//
// P relies on that only when it knows the term before it: it was a backup
// in the previous table's term T, caught up at least once from T's primary
// while that primary served (a primary serves only once it holds every
// write acknowledged before T: by induction, the same argument), and has
// seen no term after T (its fence is T's). Then P holds every write of
// older terms, and each write acknowledged in T is on W of T's copies
// (`basis.copies`: every replica the tables of T named while P followed
// them). So a copy that left the table (not reachable as a member: killed,
// frozen, cut off) is skipped when the copies of T that P pulled from (P
// included) leave fewer than W of T's copies unpulled. Otherwise, as
// before, P tries it once, and gives its copy up when that fails.
//
// Copies still in the table are always pulled from (retrying while they
// stay): they may hold writes P lacks.
void CacheNodeCore::Promote(
    uint32_t partition, uint64_t generation, uint64_t term,
    std::vector<std::pair<std::string, std::string>> sources,
    PromotionBasis basis) {
  absl::BitGen random;
  RetryPolicy retry{absl::Milliseconds(50), absl::Seconds(1), 2.0, 0};
  uint64_t after = 0;
  {
    PartitionState& state = *partitions_[partition];
    absl::MutexLock lock(&state.mu);
    after = state.last_version;
  }
  uint64_t highest = after;
  auto in_table = [this](const std::string& node) {
    std::shared_ptr<const TableView> view = table();
    return view == nullptr || view->epoch() == 0 ||
           !view->Address(node).empty();
  };
  // Pulls from one copy until it answered (true), or it is no longer in
  // the table and did not answer (false: its copy is gone).
  auto pull = [&](const std::string& node,
                  const std::string& address) -> absl::StatusOr<bool> {
    for (int attempt = 1;; ++attempt) {
      if (!GenerationIs(partition, generation)) {
        return absl::CancelledError("the promotion was superseded");
      }
      absl::StatusOr<uint64_t> pulled =
          PullFrom(address, partition, after, term, /*from_backup=*/false);
      if (pulled.ok()) {
        highest = std::max(highest, *pulled);
        return true;
      }
      if (!in_table(node)) return false;
      if (LogRetry(attempt, pulled.status())) {
        spdlog::warn("partition {}: catching up from {} ({}): {}; retrying",
                     partition, node, address, pulled.status().ToString());
      }
      absl::SleepFor(retry.Backoff(attempt, random));
    }
  };
  std::set<std::string> pulled = {options_.node_id};
  std::vector<std::pair<std::string, std::string>> departed;
  for (const auto& [node, address] : sources) {
    if (!in_table(node)) {
      departed.emplace_back(node, address);
      continue;
    }
    absl::StatusOr<bool> answered = pull(node, address);
    if (!answered.ok()) return;
    if (*answered) pulled.insert(node);
  }
  for (const auto& [node, address] : departed) {
    int unpulled = 0;
    for (const std::string& copy : basis.copies) {
      if (pulled.count(copy) == 0) ++unpulled;
    }
    if (basis.settled && !in_table(node) && unpulled < basis.quorum) {
      spdlog::info(
          "partition {}: not catching up from {}, which left the table: the "
          "copies caught up from hold every acknowledged write ({} of the "
          "term's {} copies unreached, write quorum {})",
          partition, node, unpulled, basis.copies.size(), basis.quorum);
      continue;
    }
    absl::StatusOr<bool> answered = pull(node, address);
    if (!answered.ok()) return;
    if (*answered) pulled.insert(node);
  }
  PartitionState& state = *partitions_[partition];
  absl::MutexLock lock(&state.mu);
  if (state.generation != generation) return;
  state.last_version = std::max(state.last_version, highest);
  // Primary again in the same term (a restart): this copy may hold writes
  // of the term above its stored contiguous version (stored at most once a
  // second), so new versions start above every version it holds.
  if (absl::StatusOr<uint64_t> bound = store_->VersionBound(partition);
      !bound.ok()) {
    spdlog::error("partition {}: {}", partition, bound.status().ToString());
    return;  // Not serving: a later table retries.
  } else if ((*bound >> 32) == term) {
    state.last_version = std::max(state.last_version, *bound);
  }
  state.fence = std::max(state.fence, term);
  if (absl::Status s = store_->SetMeta(
          partition, PartitionMeta{state.last_version, state.fence});
      !s.ok()) {
    spdlog::error("partition {}: {}", partition, s.ToString());
  }
  state.serving = true;
}

void CacheNodeCore::CatchUpFromPrimary(uint32_t partition,
                                       uint64_t generation) {
  absl::BitGen random;
  RetryPolicy retry{absl::Milliseconds(50), absl::Seconds(2), 2.0, 0};
  int failures = 0;
  while (true) {
    if (!GenerationIs(partition, generation)) return;
    std::shared_ptr<const TableView> view = table();
    if (view == nullptr) return;
    const std::string& primary = view->Primary(partition);
    if (primary.empty() || primary == options_.node_id) {
      PartitionState& state = *partitions_[partition];
      absl::MutexLock lock(&state.mu);
      state.catch_up_queued = false;
      return;
    }
    uint64_t after = 0, term = 0;
    {
      PartitionState& state = *partitions_[partition];
      absl::MutexLock lock(&state.mu);
      after = state.last_version;
      term = state.term;
    }
    absl::StatusOr<uint64_t> pulled = PullFrom(
        view->Address(primary), partition, after, term, /*from_backup=*/true);
    if (pulled.ok()) {
      PartitionState& state = *partitions_[partition];
      absl::MutexLock lock(&state.mu);
      // A newer table queued a catch-up of its own: that one settles it.
      if (state.generation != generation) return;
      state.catch_up_queued = false;
      state.synced = true;
      state.last_version = std::max(state.last_version, *pulled);
      FollowChainLocked(state);
      if (absl::Status s = store_->SetMeta(
              partition, PartitionMeta{state.last_version, state.fence});
          !s.ok()) {
        spdlog::error("partition {}: {}", partition, s.ToString());
      }
      return;
    }
    if (pulled.status().code() == absl::StatusCode::kUnavailable &&
        absl::StrContains(pulled.status().message(), kNotServingYet)) {
      // The primary is finishing its promotion: writes it takes now need
      // this copy caught up, so ask again soon.
      absl::SleepFor(kPromotingPrimaryRetry);
      continue;
    }
    ++failures;
    if (LogRetry(failures, pulled.status())) {
      spdlog::warn("partition {}: catching up from primary {}: {}; retrying",
                   partition, primary, pulled.status().ToString());
    }
    absl::SleepFor(retry.Backoff(failures, random));
  }
}

v1::StatsResponse CacheNodeCore::Stats() const {
  v1::StatsResponse stats;
  stats.set_node_id(options_.node_id);
  std::shared_ptr<const TableView> view = table();
  stats.set_table_epoch(view != nullptr ? view->epoch() : 0);
  stats.set_gets(gets_.load());
  stats.set_puts(puts_.load());
  stats.set_deletes(deletes_.load());
  stats.set_forwards(forwards_.load());
  stats.set_replicated_in(replicated_in_.load());
  stats.set_catch_ups(catch_ups_.load());
  stats.set_errors(errors_.load());
  stats.set_keys_estimate(store_->EstimatedKeys());
  stats.set_bytes_estimate(store_->EstimatedBytes());
  if (const FreeSpaceMonitor* space = store_->free_space(); space != nullptr) {
    stats.set_low_on_disk(space->low());
    stats.set_disk_free_bytes(space->available_bytes());
    stats.set_disk_reserve_bytes(space->reserve_bytes());
  }
  absl::flat_hash_map<std::string, std::shared_ptr<ReplicationLink>> links;
  {
    absl::MutexLock lock(&table_mu_);
    links = links_;
  }
  for (uint32_t p = 0; p < partitions_.size(); ++p) {
    PartitionState& state = *partitions_[p];
    absl::MutexLock lock(&state.mu);
    if (state.role == Role::kNone) continue;
    v1::PartitionStats* partition = stats.add_partitions();
    partition->set_partition(p);
    partition->set_last_version(state.last_version);
    if (state.role == Role::kPrimary) {
      stats.set_primaries(stats.primaries() + 1);
      partition->set_role(state.serving ? "primary" : "promoting");
      uint64_t lag = 0;
      if (view != nullptr) {
        for (const std::string& node : view->Replicas(p)) {
          auto it = links.find(node);
          if (node == options_.node_id || it == links.end()) continue;
          const uint64_t held = it->second->ContiguousVersion(p);
          if (held < state.last_version) {
            // Versions of one term count writes; across terms, one.
            lag = std::max(lag, (held >> 32) == (state.last_version >> 32)
                                    ? state.last_version - held
                                    : 1);
          }
        }
      }
      partition->set_replication_lag(lag);
    } else {
      stats.set_backups(stats.backups() + 1);
      partition->set_role(state.catch_up_queued ? "catching-up" : "backup");
    }
  }
  return stats;
}

}  // namespace parley::cache
