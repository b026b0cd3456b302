#ifndef PARLEY_SERVICES_RUNTIME_CHANNEL_COMPILED_CHANNEL_H_
#define PARLEY_SERVICES_RUNTIME_CHANNEL_COMPILED_CHANNEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/runtime/channel/compiled_flowchart.h"
#include "services/runtime/channel/name_index.h"
#include "services/runtime/expression/expression.h"
#include "services/runtime/expression/schema.h"

namespace parley::channel {

// Who a visitor is, with the flowcharts that run for the level.
struct CompiledAudienceLevel {
  std::string name;
  std::vector<CompiledField> audience_id_fields;
  std::vector<CompiledField> profile_attributes;
  std::vector<int> flowcharts;  // Flowchart indices.
};

// A group of interaction points.
struct CompiledZone {
  std::string name;
  std::vector<int> interaction_points;  // Interaction point indices.
};

// A place where offers are shown.
struct CompiledInteractionPoint {
  std::string name;
  int zone = -1;
  std::string default_string;
};

// A servable offer; times are milliseconds since the Unix epoch.
struct CompiledOffer {
  std::string name;
  std::vector<std::string> code;
  std::string description;
  absl::optional<int64_t> effective_millis;
  absl::optional<int64_t> expiration_millis;
  std::vector<v1::OfferAttribute> attributes;
};

// A segment flowcharts assign visitors to.
struct CompiledSegment {
  std::string name;
  std::string description;
};

// A treatment rule; expressions are compiled against the channel's
// rule_schema().
struct CompiledRule {
  std::string name;
  int index = -1;    // Position in treatment_rules.
  int segment = -1;  // Segment index.
  int zone = -1;     // Zone index; -1: every zone.
  int offer = -1;    // Offer index.
  double marketing_score = 50;
  absl::optional<expression::CompiledExpression> eligibility;
  absl::optional<expression::CompiledExpression> score_expression;
  bool disabled = false;
  absl::optional<int64_t> effective_millis;
  absl::optional<int64_t> expiration_millis;
};

// One thing a PostEvent does.
struct CompiledEventAction {
  // The action's kind.
  enum class Kind { kResegment, kLogContact, kLogAcceptance, kLogRejection };

  Kind kind = Kind::kLogContact;
  // kResegment: flowchart indices; empty means every flowchart of the
  // session's audience level.
  std::vector<int> flowcharts;
};

// What a PostEvent with this name does.
struct CompiledEvent {
  std::string name;
  std::vector<CompiledEventAction> actions;
};

// A validated, compiled channel: what the runtime serves from. Immutable
// after CompileChannel builds it, so it is safe to share across threads.
// Elements are addressed by index; the Find* functions (case-insensitive)
// return -1 for unknown names.
class CompiledChannel {
 public:
  CompiledChannel(const CompiledChannel&) = delete;
  CompiledChannel& operator=(const CompiledChannel&) = delete;

  // The channel's name.
  const std::string& name() const { return name_; }

  // Audience levels, by index.
  const std::vector<CompiledAudienceLevel>& audience_levels() const {
    return audience_levels_;
  }
  // The index of the audience level `name`, or -1.
  int FindAudienceLevel(absl::string_view name) const {
    return audience_level_index_.Find(name);
  }

  // Session parameters the touchpoint may send.
  const std::vector<CompiledField>& session_parameters() const {
    return session_parameters_;
  }

  // Zones, by index.
  const std::vector<CompiledZone>& zones() const { return zones_; }
  // The index of zone `name`, or -1.
  int FindZone(absl::string_view name) const { return zone_index_.Find(name); }

  // Interaction points, by index.
  const std::vector<CompiledInteractionPoint>& interaction_points() const {
    return interaction_points_;
  }
  // The index of interaction point `name`, or -1.
  int FindInteractionPoint(absl::string_view name) const {
    return interaction_point_index_.Find(name);
  }

  // Offers, by index.
  const std::vector<CompiledOffer>& offers() const { return offers_; }
  // The index of offer `name`, or -1.
  int FindOffer(absl::string_view name) const {
    return offer_index_.Find(name);
  }

  // Segments, by index.
  const std::vector<CompiledSegment>& segments() const { return segments_; }
  // The index of segment `name`, or -1.
  int FindSegment(absl::string_view name) const {
    return segment_index_.Find(name);
  }

  // Flowcharts, by index.
  const std::vector<CompiledFlowchart>& flowcharts() const {
    return flowcharts_;
  }
  // The index of flowchart `name`, or -1.
  int FindFlowchart(absl::string_view name) const {
    return flowchart_index_.Find(name);
  }

  // All treatment rules (disabled ones included), in deployment order.
  const std::vector<CompiledRule>& rules() const { return rules_; }
  // The index of treatment rule `name`, or -1.
  int FindRule(absl::string_view name) const { return rule_index_.Find(name); }

  // The enabled rules giving `segment` offers in `zone`: those for that
  // zone and those for every zone, in deployment order. Precomputed, so the
  // cost does not grow with unrelated rules. Indices must be valid.
  const std::vector<const CompiledRule*>& RulesFor(int segment,
                                                   int zone) const {
    return rules_by_segment_zone_[segment * zones_.size() + zone];
  }

  // The variables treatment rule expressions read (see channel.h).
  const expression::Schema& rule_schema() const { return rule_schema_; }

  // Events, by index.
  const std::vector<CompiledEvent>& events() const { return events_; }
  // The index of event `name`, or -1.
  int FindEvent(absl::string_view name) const {
    return event_index_.Find(name);
  }

  // Offer suppression settings.
  const v1::SuppressionSettings& suppression() const { return suppression_; }

  // How offers with equal scores are ordered.
  v1::TieBreak tie_break() const { return tie_break_; }

 private:
  friend class ChannelBuilder;

  CompiledChannel() = default;

  std::string name_;
  std::vector<CompiledAudienceLevel> audience_levels_;
  NameIndex audience_level_index_;
  std::vector<CompiledField> session_parameters_;
  std::vector<CompiledZone> zones_;
  NameIndex zone_index_;
  std::vector<CompiledInteractionPoint> interaction_points_;
  NameIndex interaction_point_index_;
  std::vector<CompiledOffer> offers_;
  NameIndex offer_index_;
  std::vector<CompiledSegment> segments_;
  NameIndex segment_index_;
  std::vector<CompiledFlowchart> flowcharts_;
  NameIndex flowchart_index_;
  std::vector<CompiledRule> rules_;
  NameIndex rule_index_;
  // Index segment * zones_.size() + zone; pointers into rules_.
  std::vector<std::vector<const CompiledRule*>> rules_by_segment_zone_;
  expression::Schema rule_schema_;
  std::vector<CompiledEvent> events_;
  NameIndex event_index_;
  v1::SuppressionSettings suppression_;
  v1::TieBreak tie_break_ = v1::TIE_BREAK_RANDOM;
};

}  // namespace parley::channel

#endif  // PARLEY_SERVICES_RUNTIME_CHANNEL_COMPILED_CHANNEL_H_
