// runtime_bench: throughput and latency of GetOffers on live sessions of a
// DISTRIBUTED server group (each GetOffers records its presentations in the
// session: a compare-and-set write through the cache tier, then an
// invalidation broadcast), next to the cache tier's unary Ping measured in
// the same run, at a fixed concurrency.
//
// Setup (skipped with --nosetup): deploys two channels built from the demo
// channel to the group through the coordinator's Deployments service, one
// with --base_rules treatment rules and one with --many_rules; both keep the
// demo's rules, which are the only ones the benchmark's visitors match, and
// add rules, segments and offers nobody is in. Loads --customers profiles
// through Profiles/LoadProfiles and starts --sessions sessions per channel,
// session i on runtime server i mod N.
//
// Modes (run in the order given; each a warm-up, then a measured window):
//   ping                   unary CacheNode/Ping on one cache node
//   get_offers             GetOffers, base channel, each call to a random
//                          runtime server, --concurrency in flight
//   get_offers_many_rules  the same on the --many_rules channel
//   get_offers_sticky      base channel, each session's calls to the server
//                          it started on (a reference: near-cache hits)
//   get_offers_half_load   base channel, random server, open loop paced at
//                          --half_load_fraction of get_offers' throughput
//   get_offers_fixed_load  base channel, random server, open loop paced at
//                          --fixed_load_ops_per_sec (a reference: latency at
//                          a load that does not depend on the run)
//   get_offers_serial      base channel, random server, one call in flight
//                          (a reference: latency without queueing)
// Every in-flight slot owns its own sessions, so no two calls of the
// benchmark race on a session. A call counts as an error unless it
// succeeds with at least one offer. Prints one JSON object per mode on
// stdout and a readable line per mode on stderr. bench/run_runtime_bench.sh
// runs it against a private cluster; see docs/performance.md.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
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
#include "bench/runtime_setup.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "proto/parley/v1/cache_node.grpc.pb.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "proto/parley/v1/profiles.grpc.pb.h"
#include "proto/parley/v1/runtime.grpc.pb.h"
#include "services/client/parameters.h"
#include "services/common/grpc_status.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:7400",
          "host:port of the coordinator of the cluster to measure");
ABSL_FLAG(std::string, runtimes, "",
          "comma-separated host:port of the group's runtime servers");
ABSL_FLAG(std::string, group, "bench", "the server group the runtimes serve");
ABSL_FLAG(bool, create_group, true,
          "create the group (DISTRIBUTED sessions) unless it exists");
ABSL_FLAG(bool, prepare_only, false,
          "only wait until the cache tier is ready and create the group (the "
          "runtime servers wait for it), then exit (0: done)");
ABSL_FLAG(bool, setup, true,
          "deploy the channels, load the profiles and start the sessions; "
          "without it they must exist from an earlier run with the same "
          "flags");
ABSL_FLAG(std::string, demo_channel, "deploy/demo/demo_channel.json",
          "the channel (JSON) the benchmark's channels are built from");
ABSL_FLAG(int, base_rules, 100, "treatment rules of the base channel");
ABSL_FLAG(int, many_rules, 10000,
          "treatment rules of the get_offers_many_rules channel");
ABSL_FLAG(int, customers, 2000,
          "profiles loaded (CustomerID 1..N, as scripts/demo_setup.py makes "
          "them)");
ABSL_FLAG(int, sessions, 2000,
          "live sessions per channel, started before the modes run");
ABSL_FLAG(std::string, modes,
          "ping,get_offers,get_offers_many_rules,get_offers_sticky,"
          "get_offers_half_load,get_offers_fixed_load,get_offers_serial",
          "comma-separated modes, run in the order given: ping, get_offers, "
          "get_offers_many_rules, get_offers_sticky, get_offers_half_load, "
          "get_offers_fixed_load, get_offers_serial");
ABSL_FLAG(double, duration_seconds, 10, "measured time of each mode");
ABSL_FLAG(double, warmup_seconds, 2,
          "unmeasured load before each mode's measured time");
ABSL_FLAG(int, concurrency, 32,
          "operations kept in flight (the open-loop modes: at most)");
ABSL_FLAG(double, half_load_fraction, 0.5,
          "get_offers_half_load's offered load as a fraction of get_offers' "
          "throughput in this run");
ABSL_FLAG(double, half_load_ops_per_sec, 0,
          "get_offers_half_load's offered load; 0: --half_load_fraction of "
          "get_offers' throughput (which must then run before it)");
ABSL_FLAG(double, fixed_load_ops_per_sec, 1000,
          "get_offers_fixed_load's offered load");
ABSL_FLAG(int, number_requested, 2, "offers each GetOffers asks for");
ABSL_FLAG(int, expect_nodes, 3,
          "wait until the partition table names this many cache nodes, each "
          "on the table's epoch and serving all its partitions");
ABSL_FLAG(double, ready_timeout_seconds, 90,
          "how long to wait for the tier, the group's deployments and the "
          "profiles");
ABSL_FLAG(double, call_timeout_seconds, 10, "deadline of each call");
ABSL_FLAG(std::string, server_pids, "",
          "name=pid,... of server processes whose CPU use over each "
          "measured window is reported (read from /proc)");

namespace parley::bench {
namespace {

namespace v1 = parley::v1;

// ------------------------------------------------------------ channels

// The demo channel grown to `rules` treatment rules: its own rules (the
// ones the benchmark's visitors match) plus rules of segments nobody is in,
// about ten per segment, over one new offer per segment, spread over the
// zones and "every zone", a quarter with an eligibility expression. Named
// "bench-<rules>". No presentation limit, so every GetOffers returns
// offers however often a session asks.
absl::StatusOr<v1::InteractiveChannel> BenchChannel(
    const v1::InteractiveChannel& demo, int rules) {
  const int extra = rules - demo.treatment_rules_size();
  if (extra < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(rules, " rules are fewer than the demo channel's ",
                     demo.treatment_rules_size()));
  }
  v1::InteractiveChannel channel = demo;
  channel.set_name(absl::StrCat("bench-", rules));
  channel.set_description(absl::StrCat(
      "runtime_bench: the demo channel with ", rules,
      " treatment rules; only the demo's rules match its visitors"));
  channel.mutable_suppression()->set_max_presentations_per_session(0);
  if (extra == 0) return channel;
  const int groups = std::max(1, (extra + 9) / 10);
  for (int s = 0; s < groups; ++s) {
    v1::SmartSegment* segment = channel.add_segments();
    segment->set_name(absl::StrFormat("BenchSegment%05d", s));
    segment->set_description("nobody is in it");
    v1::OfferDefinition* offer = channel.add_offers();
    offer->set_name(absl::StrFormat("BenchOffer%05d", s));
    offer->add_code("BO");
    offer->add_code(absl::StrFormat("%05d", s));
    offer->set_description(absl::StrCat("Unrelated offer ", s));
    v1::OfferAttribute* attribute = offer->add_attributes();
    attribute->set_name("Channel");
    attribute->set_string_value("web");
  }
  const int zones = demo.zones_size();
  for (int j = 0; j < extra; ++j) {
    v1::TreatmentRule* rule = channel.add_treatment_rules();
    rule->set_name(absl::StrFormat("Bench rule %05d", j));
    rule->set_segment(absl::StrFormat("BenchSegment%05d", j % groups));
    const int zone = (j / groups) % (zones + 1);
    if (zone < zones) rule->set_zone(demo.zones(zone).name());
    rule->set_offer(absl::StrFormat("BenchOffer%05d", (j * 7) % groups));
    rule->mutable_marketing_score()->set_value(10 + j % 80);
    if (j % 4 == 0) rule->set_eligibility("Age >= 21");
  }
  return channel;
}

// ------------------------------------------------------------ profiles

// ------------------------------------------------------------ sessions

// The live sessions of one channel: session i started on server home[i].
struct SessionSet {
  v1::InteractiveChannel channel;
  std::vector<std::string> ids;
  std::vector<int> home;
  std::vector<std::string> interaction_points;
};

SessionSet MakeSessionSet(const v1::InteractiveChannel& channel, int count,
                          int servers) {
  SessionSet set;
  set.channel = channel;
  for (int i = 0; i < count; ++i) {
    set.ids.push_back(absl::StrFormat("%s-%06d", channel.name(), i));
    set.home.push_back(i % servers);
  }
  for (const v1::InteractionPoint& ip : channel.interaction_points()) {
    set.interaction_points.push_back(ip.name());
  }
  return set;
}

// (i mod customers) + 1 with a cart of 75.
absl::Status StartSessions(
    const SessionSet& set, int customers,
    const std::vector<std::unique_ptr<v1::InteractRuntime::Stub>>& stubs,
    int threads) {
  absl::Mutex mu;
  absl::Status first_error;
  std::vector<std::thread> workers;
  const std::string audience_level = set.channel.audience_levels(0).name();
  const std::string id_field =
      set.channel.audience_levels(0).audience_id_fields(0).name();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (size_t i = t; i < set.ids.size(); i += threads) {
        v1::StartSessionRequest request;
        request.set_session_id(set.ids[i]);
        request.set_interactive_channel(set.channel.name());
        request.set_audience_level(audience_level);
        *request.add_audience_id() =
            NumberParameter(id_field, static_cast<double>(i % customers + 1));
        *request.add_parameters() = NumberParameter("CartValue", 75);
        v1::StartSessionResponse response;
        const grpc::Status status = stubs[set.home[i]]->StartSession(
            Context(absl::Seconds(10)).get(), request, &response);
        std::string error;
        if (!status.ok()) {
          error = FromGrpcStatus(status).ToString();
        } else if (response.status() != v1::SUCCESS) {
          error = Advisory(response);
        }
        if (!error.empty()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) {
            first_error = absl::InternalError(
                absl::StrCat("StartSession ", set.ids[i], ": ", error));
          }
          return;
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  return first_error;
}

// GetOffers on one of the slot's own sessions, picked at random, at a
// random interaction point of the channel; to a random server, or to the
// session's home server when `sticky`.
class GetOffersSlot : public Slot {
 public:
  GetOffersSlot(
      Window* window, uint64_t seed, Pacer* pacer, const SessionSet* sessions,
      std::vector<uint32_t> own,
      const std::vector<std::unique_ptr<v1::InteractRuntime::Stub>>* stubs,
      bool sticky, uint32_t number_requested, absl::Duration timeout)
      : Slot(window, seed, pacer),
        sessions_(sessions),
        own_(std::move(own)),
        stubs_(stubs),
        sticky_(sticky),
        timeout_(timeout) {
    request_.set_number_requested(number_requested);
  }

 protected:
  void Issue() override {
    const uint32_t session = own_[Pick(static_cast<uint32_t>(own_.size()))];
    const int server =
        sticky_ ? sessions_->home[session]
                : static_cast<int>(Pick(static_cast<uint32_t>(stubs_->size())));
    request_.set_session_id(sessions_->ids[session]);
    request_.set_interaction_point(sessions_->interaction_points[Pick(
        static_cast<uint32_t>(sessions_->interaction_points.size()))]);
    response_.Clear();
    context_.emplace();
    context_->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    (*stubs_)[server]->async()->GetOffers(
        &*context_, &request_, &response_, [this](grpc::Status status) {
          if (!status.ok()) return Done(false, status.error_message());
          if (response_.status() != v1::SUCCESS) {
            return Done(false, Advisory(response_));
          }
          if (response_.offer_list().offers().empty()) {
            return Done(false, absl::StrCat("no offers at ",
                                            request_.interaction_point()));
          }
          Done(true, "");
        });
  }

 private:
  const SessionSet* const sessions_;
  const std::vector<uint32_t> own_;
  const std::vector<std::unique_ptr<v1::InteractRuntime::Stub>>* const stubs_;
  const bool sticky_;
  const absl::Duration timeout_;
  std::optional<grpc::ClientContext> context_;
  v1::GetOffersRequest request_;
  v1::GetOffersResponse response_;
};

// ------------------------------------------------------------ main

const std::vector<std::string>& KnownModes() {
  static const auto* const modes =
      new std::vector<std::string>{"ping",
                                   "get_offers",
                                   "get_offers_many_rules",
                                   "get_offers_sticky",
                                   "get_offers_half_load",
                                   "get_offers_fixed_load",
                                   "get_offers_serial"};
  return *modes;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "runtime_bench: %s\n", status.ToString().c_str());
  return 1;
}

int Main() {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int customers = absl::GetFlag(FLAGS_customers);
  const int session_count = absl::GetFlag(FLAGS_sessions);
  const absl::Duration call_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_call_timeout_seconds));
  const absl::Duration ready_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_ready_timeout_seconds));
  if (concurrency <= 0 || customers <= 0 || session_count < concurrency ||
      absl::GetFlag(FLAGS_duration_seconds) <= 0 ||
      absl::GetFlag(FLAGS_number_requested) <= 0 ||
      absl::GetFlag(FLAGS_fixed_load_ops_per_sec) <= 0) {
    std::fprintf(stderr,
                 "runtime_bench: --concurrency, --customers, "
                 "--duration_seconds, --number_requested and "
                 "--fixed_load_ops_per_sec must be positive, and --sessions "
                 "at least --concurrency\n");
    return 2;
  }
  std::vector<std::string> modes =
      absl::StrSplit(absl::GetFlag(FLAGS_modes), ',', absl::SkipEmpty());
  for (const std::string& mode : modes) {
    if (std::find(KnownModes().begin(), KnownModes().end(), mode) ==
        KnownModes().end()) {
      std::fprintf(stderr, "runtime_bench: unknown mode '%s'; known: %s\n",
                   mode.c_str(), absl::StrJoin(KnownModes(), ", ").c_str());
      return 2;
    }
  }
  absl::StatusOr<std::vector<Watched>> watched =
      ParseServerPids(absl::GetFlag(FLAGS_server_pids));
  if (!watched.ok()) {
    std::fprintf(stderr, "runtime_bench: %s\n",
                 watched.status().ToString().c_str());
    return 2;
  }
  // Also the whole machine, which others may share: busy time beyond the
  // bench's and the servers' is someone else's.
  watched->push_back({"machine", -1});

  const std::string group = absl::GetFlag(FLAGS_group);
  auto coordinator_channel = grpc::CreateChannel(
      absl::GetFlag(FLAGS_coordinator), grpc::InsecureChannelCredentials());
  auto coordinator = v1::Coordinator::NewStub(coordinator_channel);
  absl::StatusOr<v1::PartitionTable> table = WaitForTier(
      *coordinator, absl::GetFlag(FLAGS_expect_nodes), ready_timeout);
  if (!table.ok()) return Fail(table.status());
  std::fprintf(stderr,
               "runtime_bench: tier ready: %d nodes, %u partitions, "
               "replication factor %u\n",
               table->nodes_size(), table->partition_count(),
               table->replication_factor());
  if (absl::GetFlag(FLAGS_create_group)) {
    if (absl::Status s = CreateGroup(*coordinator, group, v1::GroupSettings(),
                                     "runtime_bench");
        !s.ok()) {
      return Fail(s);
    }
  }
  if (absl::GetFlag(FLAGS_prepare_only)) return 0;

  std::vector<std::string> addresses =
      absl::StrSplit(absl::GetFlag(FLAGS_runtimes), ',', absl::SkipEmpty());
  if (addresses.empty()) {
    std::fprintf(stderr, "runtime_bench: --runtimes names no server\n");
    return 2;
  }
  std::vector<std::unique_ptr<v1::InteractRuntime::Stub>> runtimes;
  std::vector<std::unique_ptr<v1::Profiles::Stub>> profiles;
  for (const std::string& address : addresses) {
    auto channel =
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    runtimes.push_back(v1::InteractRuntime::NewStub(channel));
    profiles.push_back(v1::Profiles::NewStub(channel));
  }

  absl::StatusOr<v1::InteractiveChannel> demo =
      ReadChannel(absl::GetFlag(FLAGS_demo_channel));
  if (!demo.ok()) return Fail(demo.status());
  absl::StatusOr<v1::InteractiveChannel> base =
      BenchChannel(*demo, absl::GetFlag(FLAGS_base_rules));
  if (!base.ok()) return Fail(base.status());
  absl::StatusOr<v1::InteractiveChannel> many =
      BenchChannel(*demo, absl::GetFlag(FLAGS_many_rules));
  if (!many.ok()) return Fail(many.status());
  const int servers = static_cast<int>(runtimes.size());
  const SessionSet base_sessions =
      MakeSessionSet(*base, session_count, servers);
  const SessionSet many_sessions =
      MakeSessionSet(*many, session_count, servers);
  const bool need_many = std::find(modes.begin(), modes.end(),
                                   "get_offers_many_rules") != modes.end();

  if (absl::GetFlag(FLAGS_setup)) {
    const absl::Time setup_start = absl::Now();
    auto deployments = v1::Deployments::NewStub(coordinator_channel);
    std::vector<const SessionSet*> sets = {&base_sessions};
    if (need_many) sets.push_back(&many_sessions);
    for (const SessionSet* set : sets) {
      if (absl::Status s =
              Deploy(*deployments, group, set->channel, "runtime_bench");
          !s.ok()) {
        return Fail(s);
      }
    }
    const absl::Time deadline = absl::Now() + ready_timeout;
    for (int i = 0; i < servers; ++i) {
      for (const SessionSet* set : sets) {
        if (absl::Status s = AwaitChannel(*runtimes[i], addresses[i],
                                          set->channel, deadline);
            !s.ok()) {
          return Fail(s);
        }
      }
    }
    if (absl::Status s = LoadProfiles(*profiles[0], base_sessions.channel,
                                      customers, absl::Now() + ready_timeout);
        !s.ok()) {
      return Fail(s);
    }
    std::fprintf(stderr, "runtime_bench: loaded %d profiles through %s\n",
                 customers, addresses[0].c_str());
    for (const SessionSet* set : sets) {
      const absl::Time start = absl::Now();
      if (absl::Status s = StartSessions(*set, customers, runtimes, 16);
          !s.ok()) {
        return Fail(s);
      }
      std::fprintf(stderr,
                   "runtime_bench: started %d sessions of %s over %d "
                   "servers in %s\n",
                   session_count, set->channel.name().c_str(), servers,
                   absl::FormatDuration(absl::Now() - start).c_str());
    }
    std::fprintf(stderr, "runtime_bench: setup took %s\n",
                 absl::FormatDuration(absl::Now() - setup_start).c_str());
  }

  const std::string ping_address = table->nodes(0).address();
  auto ping_stub = NodeStub(ping_address);

  RunOptions run_options;
  run_options.warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds));
  run_options.duration = absl::Seconds(absl::GetFlag(FLAGS_duration_seconds));
  run_options.drain = call_timeout + absl::Seconds(20);
  run_options.servers = "the servers";

  int exit_code = 0;
  double get_offers_ops_per_sec = 0;
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
  // Every mode's window, pacer and slots live until the end: the last
  // completions may still be unwinding through them when a mode's results
  // are in.
  std::vector<std::unique_ptr<Window>> windows;
  std::vector<std::unique_ptr<Pacer>> pacers;
  std::vector<std::vector<std::unique_ptr<Slot>>> all_slots;
  for (const std::string& mode : modes) {
    Window& window = *windows.emplace_back(std::make_unique<Window>());
    std::vector<std::unique_ptr<Slot>>& slots = all_slots.emplace_back();
    Pacer* pacer = nullptr;
    if (mode == "get_offers_half_load") {
      double rate = absl::GetFlag(FLAGS_half_load_ops_per_sec);
      if (rate <= 0) {
        rate = absl::GetFlag(FLAGS_half_load_fraction) * get_offers_ops_per_sec;
      }
      if (rate <= 0) {
        std::fprintf(stderr,
                     "runtime_bench: get_offers_half_load needs "
                     "--half_load_ops_per_sec or get_offers before it\n");
        return 2;
      }
      pacer = pacers.emplace_back(std::make_unique<Pacer>(rate)).get();
    } else if (mode == "get_offers_fixed_load") {
      pacer = pacers
                  .emplace_back(std::make_unique<Pacer>(
                      absl::GetFlag(FLAGS_fixed_load_ops_per_sec)))
                  .get();
    }
    const bool is_ping = mode == "ping";
    const int in_flight = mode == "get_offers_serial" ? 1 : concurrency;
    const bool sticky = mode == "get_offers_sticky";
    const SessionSet& sessions =
        mode == "get_offers_many_rules" ? many_sessions : base_sessions;
    std::string target;
    std::vector<JsonField> extra = {{"concurrency", absl::StrCat(in_flight)}};
    if (is_ping) {
      target = ping_address;
    } else {
      target = absl::StrCat(sticky ? "the session's server" : "random server",
                            " of ", servers);
      extra.push_back({"channel", JsonString(sessions.channel.name())});
      extra.push_back(
          {"rules", absl::StrCat(sessions.channel.treatment_rules_size())});
      extra.push_back({"sessions", absl::StrCat(session_count)});
    }
    extra.push_back(
        {"load", JsonString(pacer == nullptr ? "closed loop" : "open loop")});
    extra.push_back(
        {"offered_ops_per_sec",
         absl::StrFormat("%.1f",
                         pacer == nullptr ? 0.0 : pacer->ops_per_second())});
    for (int i = 0; i < in_flight; ++i) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      if (is_ping) {
        slots.push_back(std::make_unique<UnaryPingSlot>(
            &window, seed, std::vector<v1::CacheNode::Stub*>{ping_stub.get()},
            call_timeout));
        continue;
      }
      std::vector<uint32_t> own;
      for (uint32_t s = i; s < sessions.ids.size(); s += in_flight) {
        own.push_back(s);
      }
      slots.push_back(std::make_unique<GetOffersSlot>(
          &window, seed, pacer, &sessions, std::move(own), &runtimes, sticky,
          absl::GetFlag(FLAGS_number_requested), call_timeout));
    }
    absl::StatusOr<Result> result =
        RunSlots(mode, target, window, slots, *watched, run_options, pacer);
    if (!result.ok()) {
      // Operations still reference the slots: leave them and stop here.
      std::fprintf(stderr, "runtime_bench: %s\n",
                   result.status().ToString().c_str());
      std::fflush(stdout);
      std::fflush(stderr);
      _exit(1);
    }
    if (mode == "get_offers") get_offers_ops_per_sec = result->ops_per_sec();
    std::printf("%s\n", ToJson(*result, extra).c_str());
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
      "runtime_bench: throughput and p50/p99 latency of GetOffers on live "
      "DISTRIBUTED sessions, next to the cache tier's Ping, at a fixed "
      "concurrency.\n"
      "Example: runtime_bench --coordinator=127.0.0.1:7400 "
      "--runtimes=127.0.0.1:7601,127.0.0.1:7602 --group=bench "
      "--demo_channel=deploy/demo/demo_channel.json");
  absl::ParseCommandLine(argc, argv);
  // As in the servers: no mutex deadlock detection on the measured path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return parley::bench::Main();
}
