// Writes the seed corpora of the fuzz targets that read serialized
// messages, from the readable text-format scripts below:
//   seed_generator OUT_DIR
// writes OUT_DIR/<target>/<seed>.bin for channel_proto_fuzzer,
// channel_json_fuzzer (as .json), engine_fuzzer, coordinator_fuzzer,
// cache_node_fuzzer and history_fuzzer. fuzz/run_fuzzers.sh --make-seeds
// runs it into fuzz/corpus; the output is committed.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "fuzz/demo_channel_json.h"
#include "fuzz/fuzz_inputs.pb.h"
#include "fuzz/fuzz_support.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "proto/parley/v1/channel.pb.h"

namespace parley::fuzz {
namespace {

std::string out_dir;

void Write(const std::string& target, const std::string& name,
           const std::string& bytes) {
  const std::string dir = absl::StrCat(out_dir, "/", target);
  std::filesystem::create_directories(dir);
  std::ofstream file(absl::StrCat(dir, "/", name),
                     std::ios::binary | std::ios::trunc);
  file << bytes;
  PARLEY_FUZZ_CHECK(file.good(), absl::StrCat("writing ", dir, "/", name));
}

template <typename Message>
Message FromText(const std::string& text) {
  Message message;
  PARLEY_FUZZ_CHECK(
      google::protobuf::TextFormat::ParseFromString(text, &message), text);
  return message;
}

template <typename Message>
void WriteText(const std::string& target, const std::string& name,
               const std::string& text) {
  Write(target, name + ".bin", FromText<Message>(text).SerializeAsString());
}

// ------------------------------------------------------------------ channels

// Variations of the demo channel, each exercising other validation rules.
std::vector<std::pair<std::string, v1::InteractiveChannel>> ChannelSeeds() {
  std::vector<std::pair<std::string, v1::InteractiveChannel>> seeds;
  const v1::InteractiveChannel& demo = DemoChannel();
  seeds.emplace_back("demo", demo);

  v1::InteractiveChannel c = demo;
  c.clear_flowcharts();
  c.clear_events();
  seeds.emplace_back("no_flowcharts", c);

  c = demo;
  c.mutable_treatment_rules(0)->set_eligibility("Age >= 'eighteen'");
  c.mutable_treatment_rules(1)->set_score_expression("CartValue / 0 + Ag");
  seeds.emplace_back("bad_expressions", c);

  c = demo;
  // A cycle: the last box leads back to the first.
  auto* boxes = c.mutable_flowcharts(0)->mutable_boxes();
  boxes->Mutable(boxes->size() - 1)
      ->mutable_decision()
      ->set_otherwise_box(boxes->Get(0).name());
  seeds.emplace_back("cycle", c);

  c = demo;
  c.mutable_segments(1)->set_name("GOLD");  // Duplicate ignoring case.
  c.mutable_offers(0)->set_name("");
  c.mutable_treatment_rules(0)->mutable_marketing_score()->set_value(150);
  seeds.emplace_back("bad_names", c);

  c = demo;
  c.mutable_flowcharts(0)->set_audience_level("Household");
  c.mutable_interaction_points(0)->set_zone("Nowhere");
  c.mutable_events(0)->mutable_actions(1)->mutable_resegment()->add_flowcharts(
      "Missing");
  seeds.emplace_back("bad_references", c);

  c = demo;
  v1::AudienceLevel* household = c.add_audience_levels();
  household->set_name("Household");
  auto* id = household->add_audience_id_fields();
  id->set_name("HouseholdID");
  id->set_type(v1::STRING);
  auto* age = household->add_profile_attributes();
  age->set_name("Age");
  age->set_type(v1::STRING);  // Another type than Customer's Age.
  seeds.emplace_back("two_levels", c);

  c = demo;
  c.mutable_offers(0)->mutable_effective_time()->set_seconds(-62135596801);
  c.mutable_suppression()->set_max_presentations_per_session(0);
  seeds.emplace_back("edge_values", c);
  return seeds;
}

void WriteChannels() {
  for (const auto& [name, channel] : ChannelSeeds()) {
    Write("channel_proto_fuzzer", name + ".bin", channel.SerializeAsString());
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    // Some wire-form variations (a time outside the Timestamp range) have
    // no JSON form.
    if (google::protobuf::util::MessageToJsonString(channel, &json, options)
            .ok()) {
      Write("channel_json_fuzzer", name + ".json", json);
    }
  }
  // The file as the demo setup deploys it.
  Write("channel_json_fuzzer", "demo_channel.json", kDemoChannelJson);
}

// -------------------------------------------------------------------- engine

constexpr char kStart[] = R"pb(
  start_session {
    session_id: "s1"
    interactive_channel: "demo"
    audience_level: "Customer"
    audience_id { name: "CustomerID" number_value: 1 }
    parameters { name: "Device" string_value: "web" }
    parameters { name: "CartValue" number_value: 75 }
  }
)pb";

void WriteEngine() {
  const std::string t = "engine_fuzzer";
  WriteText<EngineScript>(
      t, "visit", absl::StrCat("calls {", kStart, "}", R"pb(
        calls {
          get_offers {
            session_id: "s1"
            interaction_point: "HomePageHero"
            number_requested: 3
          }
        }
        calls {
          post_event {
            session_id: "s1"
            event_name: "OfferAccepted"
            parameters { name: "UACIOfferTrackingCode" string_value: "$CODE" }
          }
        }
        calls { get_profile { session_id: "s1" } }
        calls {
          advance_ms: 1000
          end_session { session_id: "s1" }
        }
      )pb"));
  WriteText<EngineScript>(
      t, "multi_points", absl::StrCat("calls {", kStart, "}", R"pb(
        calls {
          get_offers_for_multiple_interaction_points {
            session_id: "s1"
            requests { interaction_point: "HomePageHero" number_requested: 2 }
            requests {
              interaction_point: "CheckoutSidebar"
              number_requested: 2
              duplication_policy: ALLOW_DUPLICATION
              offer_attribute_filter { name: "Channel" string_value: "web" }
            }
            parameters { name: "CartValue" number_value: 20 transient: true }
          }
        }
        calls {
          post_event {
            session_id: "s1"
            event_name: "OfferRejected"
            parameters { name: "UACIOfferTrackingCode" string_value: "$CODE0" }
          }
        }
        calls {
          post_event {
            session_id: "s1"
            event_name: "OfferShown"
            parameters { name: "UACIOfferTrackingCode" string_value: "$CODE1" }
          }
        }
      )pb"));
  WriteText<EngineScript>(t, "batch", R"pb(
    calls {
      execute_batch {
        session_id: "b1"
        commands {
          start_session {
            interactive_channel: "demo"
            audience_level: "Customer"
            audience_id { name: "CustomerID" number_value: 2 }
          }
        }
        commands {
          get_offers { interaction_point: "HomePageHero" number_requested: 5 }
        }
        commands { set_debug { debug: true } }
        commands {
          post_event {
            event_name: "OfferAccepted"
            parameters { name: "UACIOfferTrackingCode" string_value: "$CODE" }
          }
        }
        commands { get_version {} }
        commands {}
        commands { end_session {} }
      }
    }
  )pb");
  WriteText<EngineScript>(
      t, "set_audience", absl::StrCat("calls {", kStart, "}", R"pb(
        calls {
          set_audience {
            session_id: "s1"
            audience_level: "Customer"
            audience_id { name: "CustomerID" number_value: 2 }
            parameters { name: "Device" string_value: "app" }
          }
        }
        calls {
          get_offers {
            session_id: "s1"
            interaction_point: "CheckoutSidebar"
            number_requested: 1
          }
        }
        calls { set_audience { session_id: "s1" audience_level: "Nope" } }
      )pb"));
  WriteText<EngineScript>(t, "problems", R"pb(
    calls { start_session { session_id: "" interactive_channel: "demo" } }
    calls { start_session { session_id: "p1" interactive_channel: "other" } }
    calls {
      start_session {
        session_id: "p2"
        interactive_channel: "demo"
        audience_level: "Customer"
        audience_id { name: "CustomerID" number_value: 13 }
      }
    }
    calls {
      start_session {
        session_id: "p3"
        interactive_channel: "demo"
        audience_level: "Customer"
        audience_id { name: "CustomerID" string_value: "x" }
      }
    }
    calls { get_offers { session_id: "p2" interaction_point: "Nowhere" } }
    calls {
      post_event {
        session_id: "p2"
        event_name: "OfferAccepted"
        parameters { name: "UACIOfferTrackingCode" string_value: "BOGUS" }
      }
    }
    calls {
      advance_ms: 400000
      get_profile { session_id: "p2" }
    }
  )pb");
  WriteText<EngineScript>(t, "expiry_and_eviction", R"pb(
    calls {
      start_session {
        session_id: "e1"
        interactive_channel: "demo"
        audience_level: "Customer"
        audience_id { name: "CustomerID" number_value: 3 }
      }
    }
    calls {
      start_session {
        session_id: "e2"
        interactive_channel: "demo"
        audience_level: "Customer"
        audience_id { name: "CustomerID" number_value: 4 }
      }
    }
    calls {
      start_session {
        session_id: "e3"
        interactive_channel: "demo"
        audience_level: "Customer"
        audience_id { name: "CustomerID" number_value: 1 }
      }
    }
    calls {
      start_session {
        session_id: "e4"
        interactive_channel: "demo"
        audience_level: "Customer"
        audience_id { name: "CustomerID" number_value: 2 }
      }
    }
    calls {
      start_session {
        session_id: "e5"
        interactive_channel: "demo"
        audience_level: "Customer"
        audience_id { name: "CustomerID" number_value: 1 }
        rely_on_existing_session: true
      }
    }
    calls { get_offers { session_id: "e1" interaction_point: "HomePageHero" } }
    calls {
      advance_ms: 299999
      get_offers { session_id: "e5" interaction_point: "HomePageHero" }
    }
    calls {
      advance_ms: 300000
      get_offers { session_id: "e5" interaction_point: "HomePageHero" }
    }
  )pb");
  WriteText<EngineScript>(t, "test_run", R"pb(
    calls {
      test_run {
        interactive_channel: "demo"
        flowchart: "Web"
        rows {
          values { name: "CustomerID" number_value: 1 }
          values { name: "Tier" string_value: "Gold" }
          values { name: "Age" number_value: 30 }
        }
        rows {
          values { name: "CustomerID" number_value: 2 }
          values {
            name: "LastPurchase"
            datetime_value { seconds: 1600000000 }
          }
        }
        rows { values { name: "Age" string_value: "old" } }
      }
    }
  )pb");
  // The same with the channel supplied in the request.
  EngineScript supplied = FromText<EngineScript>(R"pb(
    calls {
      test_run {
        flowchart: "Web"
        rows { values { name: "CustomerID" number_value: 7 } }
      }
    }
  )pb");
  supplied.mutable_calls(0)->mutable_test_run()->set_supplied_channel(
      DemoChannel().SerializeAsString());
  Write(t, "test_run_supplied.bin", supplied.SerializeAsString());
}

// --------------------------------------------------------------- coordinator

void WriteCoordinator() {
  const std::string t = "coordinator_fuzzer";
  WriteText<CoordinatorScript>(t, "groups", R"pb(
    calls {
      create_group {
        name: "web"
        settings {
          cache_type: LOCAL
          session_timeout_seconds { value: 600 }
        }
      }
    }
    calls { create_group { name: "mobile" broadcast_channel: 7 } }
    calls { create_group { name: "Bad_Name" } }
    calls { get_group { name: "web" } }
    calls {
      update_group {
        name: "web"
        expected_version: 1
        settings { near_cache_max_entries { value: 0 } }
      }
    }
    calls { list_groups {} }
    calls { delete_group { name: "mobile" } }
    reopen: true
  )pb");
  WriteText<CoordinatorScript>(t, "members", R"pb(
    calls { create_group { name: "web" } }
    calls {
      join {
        member {
          id: "rt-1"
          role: RUNTIME_SERVER
          group: "web"
          address: "127.0.0.1:9501"
          labels { key: "zone" value: "a" }
        }
        ttl_seconds: 5
      }
    }
    calls {
      join {
        member { id: "cache-1" role: CACHE_NODE address: "127.0.0.1:9601" }
      }
    }
    calls {
      join {
        member { id: "cache-2" role: CACHE_NODE address: "127.0.0.1:9602" }
      }
    }
    calls { heartbeat { member_id: "rt-1" lease_id: 1 } }
    calls { list_members { group: "web" } }
    calls { watch_membership { role: CACHE_NODE } }
    calls { get_partition_table {} }
    calls {
      advance_ms: 6000
      expire_members: true
      list_members {}
    }
    calls { leave { member_id: "cache-2" lease_id: 3 } }
    calls { delete_group { name: "web" } }
    reopen: true
  )pb");
  WriteText<CoordinatorScript>(t, "broadcast", R"pb(
    calls { create_group { name: "web" } }
    calls {
      publish {
        group: "web"
        origin: "rt-1"
        entries { namespace: "sessions/web" key: "s1" version: 3 }
        entries { namespace: "profiles" key: "42" }
      }
    }
    calls { subscribe { group: "web" } }
    calls { subscribe { group: "none" } }
    calls { publish { group: "none" } }
  )pb");
  WriteText<CoordinatorScript>(t, "config", R"pb(
    calls { set_config { path: "app/feature" value: "on" } }
    calls {
      set_config {
        path: "app/feature"
        value: "off"
        expected_version { value: 1 }
      }
    }
    calls { get_config { path: "app/feature" } }
    calls { list_config { prefix: "app/" } }
    calls { watch_config { prefix: "app" } }
    calls { create_group { name: "web" } }
    calls {
      set_config { path: "groups/web/session/timeout_seconds" value: "900" }
    }
    calls {
      set_config { path: "groups/web/session/timeout_seconds" value: "-1" }
    }
    calls { delete_config { path: "app/feature" } }
    calls { set_config { path: "/bad//path" value: "x" } }
    reopen: true
  )pb");
  CoordinatorScript deploy = FromText<CoordinatorScript>(R"pb(
    calls { create_group { name: "web" } }
    calls { deploy { group: "web" comment: "first" } }
    calls { deploy { group: "web" comment: "second" } }
    calls { list_deployments { group: "web" include_channel: true } }
    calls { get_deployment { group: "web" channel: "demo" } }
    calls { rollback { group: "web" channel: "demo" version: 1 } }
    calls { watch_deployments { group: "web" } }
    calls { undeploy { group: "web" channel: "demo" } }
    calls { undeploy { group: "web" channel: "demo" } }
    calls { deploy { group: "missing" } }
    reopen: true
  )pb");
  *deploy.mutable_calls(1)->mutable_deploy()->mutable_channel() = DemoChannel();
  *deploy.mutable_calls(2)->mutable_deploy()->mutable_channel() =
      ChannelSeeds()[1].second;
  *deploy.mutable_calls(9)->mutable_deploy()->mutable_channel() = DemoChannel();
  Write(t, "deployments.bin", deploy.SerializeAsString());
}

// ---------------------------------------------------------------- cache node

void WriteCacheNode() {
  const std::string t = "cache_node_fuzzer";
  WriteText<CacheNodeScript>(t, "no_table", R"pb(
    calls { get { namespace: "objects" key: "a" } }
    calls { put { namespace: "objects" key: "a" value: "v" } }
    calls {
      replicate {
        from_node: "other"
        items {
          write {
            partition: 0
            namespace: "objects"
            key: "a"
            value: "v"
            version: 1
          }
          term: 1
        }
      }
    }
    calls { stats {} }
  )pb");
  WriteText<CacheNodeScript>(t, "primary", R"pb(
    table { epoch: 1 term: 1 primary_mask: 255 }
    calls { put { namespace: "objects" key: "a" value: "one" } }
    calls {
      put {
        namespace: "objects"
        key: "a"
        value: "two"
        expected_version { value: 4294967297 }
      }
    }
    calls { put { namespace: "objects" key: "b" value: "x" ttl_ms: 1000 } }
    calls { get { namespace: "objects" key: "a" } }
    calls { touch { namespace: "objects" key: "a" ttl_ms: 5000 } }
    calls {
      advance_ms: 2000
      get { namespace: "objects" key: "b" }
    }
    calls { delete { namespace: "objects" key: "a" } }
    calls { scan_partition { partition: 0 namespace: "objects" limit: 10 } }
    calls { stats {} }
  )pb");
  WriteText<CacheNodeScript>(t, "sessions", R"pb(
    table { epoch: 3 term: 3 primary_mask: 255 }
    calls {
      group_config {
        kind: SNAPSHOT
        revision: 1
        entries { path: "groups/web/session/timeout_seconds" value: "300" }
      }
    }
    calls { put { namespace: "sessions/web" key: "s1" value: "state" } }
    calls {
      advance_ms: 299000
      get { namespace: "sessions/web" key: "s1" }
    }
    calls {
      advance_ms: 2000
      get { namespace: "sessions/web" key: "s1" }
    }
    calls {
      group_config {
        kind: DELETE
        revision: 2
        entries { path: "groups/web/session/timeout_seconds" }
      }
    }
  )pb");
  WriteText<CacheNodeScript>(t, "fencing", R"pb(
    table { epoch: 2 term: 2 primary_mask: 15 }
    calls { put { namespace: "objects" key: "k1" value: "v" } }
    calls {
      catch_up { partition: 1 after_version: 0 term: 9 from_node: "other" }
    }
    calls { put { namespace: "objects" key: "k1" value: "w" } }
    calls { table { epoch: 10 term: 10 primary_mask: 240 } }
    calls {
      replicate {
        from_node: "other"
        items {
          write {
            partition: 0
            namespace: "objects"
            key: "k2"
            value: "v"
            version: 5
          }
          term: 11
          previous_version: 4
        }
      }
    }
    calls { catch_up { partition: 200 } }
  )pb");
  WriteText<CacheNodeScript>(t, "pipeline", R"pb(
    table { epoch: 1 term: 1 primary_mask: 255 }
    calls {
      pipeline {
        requests {
          id: 1
          put { namespace: "p" key: "1" value: "a" }
        }
        requests {
          id: 2
          get { namespace: "p" key: "1" }
        }
        requests {
          id: 3
          touch { namespace: "p" key: "1" ttl_ms: 10 }
        }
        requests {
          id: 4
          delete {
            namespace: "p"
            key: "1"
            expected_version { value: 0 }
          }
        }
        requests {
          id: 5
          ping {}
        }
      }
    }
    calls { put { namespace: "bad namespace!" key: "" value: "" } }
  )pb");
}

// ------------------------------------------------------------------- history

void WriteHistory() {
  const std::string t = "history_fuzzer";
  WriteText<HistoryInput>(t, "records", R"pb(
    records {
      kind: CONTACT
      session_id: "s1"
      interactive_channel: "demo"
      audience_level: "Customer"
      audience_id: "CustomerID=42"
      offer: "GoldCard"
      treatment_code: "TC-1"
      time { seconds: 1706692800 nanos: 123000000 }
      interaction_point: "HomePageHero"
      parameters { name: "Device" string_value: "web" }
      parameters { name: "CartValue" number_value: 0.1 }
      parameters {
        name: "Since"
        datetime_value { seconds: 86400 }
      }
    }
    records {
      kind: ACCEPTANCE
      session_id: "s,1"
      offer: "Gold \"Card\""
      treatment_code: "TC-2"
      time { seconds: 1706692801 }
      parameters { name: "a=b;c" string_value: "x\\y\ny" }
    }
    records {
      kind: REJECTION
      treatment_code: "TC-3"
      time { seconds: 0 }
    }
    records {
      kind: CONTACT
      treatment_code: ""
      time { seconds: 5 }
    }
    records {
      kind: CONTACT
      treatment_code: "TC-4"
      time { seconds: -1 }
    }
    keys: "001706692800123/1/TC-1"
    keys: "00170669280012/1/x"
    page_size: 2
    max_buffered_bytes: 200
  )pb");
  WriteText<HistoryInput>(t, "since_and_junk", R"pb(
    records {
      kind: CONTACT
      treatment_code: "A"
      time { seconds: 100 }
    }
    records {
      kind: CONTACT
      treatment_code: "B"
      time { seconds: 200 }
    }
    records {
      kind: ACCEPTANCE
      treatment_code: "B"
      time { seconds: 200 }
    }
    records {
      kind: REJECTION
      treatment_code: "C"
      time { seconds: 300 nanos: 999999999 }
    }
    extra_entries { key: "junk" value: "x" }
    extra_entries { key: "000000000150000/1/fake" value: "\377\377" }
    since { seconds: 150 }
    page_size: 1
    max_buffered_bytes: 1
  )pb");
}

}  // namespace
}  // namespace parley::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  parley::fuzz::out_dir = argv[1];
  parley::fuzz::WriteChannels();
  parley::fuzz::WriteEngine();
  parley::fuzz::WriteCoordinator();
  parley::fuzz::WriteCacheNode();
  parley::fuzz::WriteHistory();
  return 0;
}
