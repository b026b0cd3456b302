#include "services/runtime/arbiter/test_channel.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "services/runtime/channel/channel.h"

namespace parley::arbiter::testing {

v1::InteractiveChannel BaseChannel(int offers) {
  v1::InteractiveChannel channel;
  channel.set_name("test");
  v1::AudienceLevel* level = channel.add_audience_levels();
  level->set_name("Customer");
  v1::FieldDefinition* id = level->add_audience_id_fields();
  id->set_name("CustomerID");
  id->set_type(v1::NUMBER);
  v1::FieldDefinition* tier = level->add_profile_attributes();
  tier->set_name("Tier");
  tier->set_type(v1::STRING);
  v1::FieldDefinition* spend = level->add_profile_attributes();
  spend->set_name("Spend");
  spend->set_type(v1::NUMBER);
  for (const char* zone : {"Hero", "Checkout", "Footer"}) {
    channel.add_zones()->set_name(zone);
  }
  for (const char* segment : {"Gold", "Young", "Everyone"}) {
    channel.add_segments()->set_name(segment);
  }
  for (int i = 0; i < offers; ++i) {
    channel.add_offers()->set_name(absl::StrCat("O", i));
  }
  return channel;
}

v1::TreatmentRule* AddRule(v1::InteractiveChannel& channel,
                           const std::string& name, const std::string& segment,
                           const std::string& zone, const std::string& offer,
                           absl::optional<double> marketing_score) {
  v1::TreatmentRule* rule = channel.add_treatment_rules();
  rule->set_name(name);
  rule->set_segment(segment);
  rule->set_zone(zone);
  rule->set_offer(offer);
  if (marketing_score.has_value()) {
    rule->mutable_marketing_score()->set_value(*marketing_score);
  }
  return rule;
}

void SetMillis(int64_t unix_millis, google::protobuf::Timestamp* timestamp) {
  timestamp->set_seconds(unix_millis / 1000);
  timestamp->set_nanos(static_cast<int32_t>(unix_millis % 1000) * 1000000);
}

std::shared_ptr<const channel::CompiledChannel> CompileOrDie(
    const v1::InteractiveChannel& channel) {
  auto compiled = channel::CompileChannel(channel);
  if (!compiled.ok()) {
    std::fprintf(stderr, "%s\n", compiled.status().ToString().c_str());
    std::abort();
  }
  return *std::move(compiled);
}

}  // namespace parley::arbiter::testing
