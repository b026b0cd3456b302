#include "services/runtime/channel/channel.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/runtime/channel/fields.h"
#include "services/runtime/channel/flowchart_compiler.h"
#include "services/runtime/channel/problems.h"
#include "services/runtime/expression/expression.h"

namespace parley::channel {
namespace {

constexpr double kMinMarketingScore = 0;
constexpr double kMaxMarketingScore = 100;
constexpr double kDefaultMarketingScore = 50;

// Milliseconds since the Unix epoch of `time` if it is set (`has`).
absl::optional<int64_t> Millis(bool has,
                               const google::protobuf::Timestamp& time) {
  if (!has) return absl::nullopt;
  // Within google.protobuf.Timestamp's range (years 1 to 9999): a channel
  // sent in wire form may hold any seconds.
  constexpr int64_t kMinSeconds =
      google::protobuf::util::TimeUtil::kTimestampMinSeconds;
  constexpr int64_t kMaxSeconds =
      google::protobuf::util::TimeUtil::kTimestampMaxSeconds;
  const int64_t seconds =
      std::clamp<int64_t>(time.seconds(), kMinSeconds, kMaxSeconds);
  return seconds * 1000 + time.nanos() / 1000000;
}

}  // namespace

// Fills a CompiledChannel from the proto, recording every problem.
class ChannelBuilder {
 public:
  explicit ChannelBuilder(const v1::InteractiveChannel& proto)
      : proto_(proto), channel_(new CompiledChannel()) {}

  absl::StatusOr<std::shared_ptr<const CompiledChannel>> Build() {
    channel_->name_ = proto_.name();
    if (std::string bad = CheckElementName(proto_.name()); !bad.empty()) {
      problems_.Add(absl::StrCat("channel: ", bad));
    }
    BuildAudienceLevels();
    BuildRuleSchema();
    BuildZonesAndInteractionPoints();
    BuildOffers();
    IndexNames(proto_.segments(), "segment", channel_->segment_index_);
    for (const v1::SmartSegment& segment : proto_.segments()) {
      channel_->segments_.push_back({segment.name(), segment.description()});
    }
    BuildFlowcharts();
    BuildRules();
    BuildEvents();
    channel_->suppression_ = proto_.suppression();
    channel_->tie_break_ = proto_.tie_break();
    if (!problems_.empty()) return problems_.ToStatus(proto_.name());
    return std::shared_ptr<const CompiledChannel>(std::move(channel_));
  }

 private:
  // Checks the names of `items` and indexes the good, first-seen ones.
  template <typename T>
  void IndexNames(const google::protobuf::RepeatedPtrField<T>& items,
                  absl::string_view kind, NameIndex& index) {
    for (int i = 0; i < items.size(); ++i) {
      const std::string& name = items.Get(i).name();
      if (std::string bad = CheckElementName(name); !bad.empty()) {
        problems_.Add(absl::StrCat(kind, " '", name, "': ", bad));
      } else if (!index.Add(name, i)) {
        problems_.Add(absl::StrCat(kind, " '", name, "' defined twice"));
      }
    }
  }

  // The index of the `kind` called `name`, which element `where` refers
  // to; -1 (and a problem) if it is not defined.
  int Resolve(const NameIndex& index, const std::string& name,
              absl::string_view kind, const std::string& where) {
    const int found = index.Find(name);
    if (found < 0) {
      problems_.Add(
          absl::StrCat(where, ": ", kind, " '", name, "' is not defined"));
    }
    return found;
  }

  void CheckTimes(bool has_effective, bool has_expiration,
                  absl::optional<int64_t> effective,
                  absl::optional<int64_t> expiration,
                  const std::string& where) {
    if (has_effective && has_expiration && *effective >= *expiration) {
      problems_.Add(absl::StrCat(
          where, ": effective time must be before expiration time"));
    }
  }

  void BuildAudienceLevels() {
    NameIndex seen_parameters;
    channel_->session_parameters_ =
        CompileFields(proto_.session_parameters(), "channel",
                      "session parameter", seen_parameters, problems_);
    IndexNames(proto_.audience_levels(), "audience level",
               channel_->audience_level_index_);
    for (const v1::AudienceLevel& level : proto_.audience_levels()) {
      const std::string where =
          absl::StrCat("audience level '", level.name(), "'");
      CompiledAudienceLevel compiled;
      compiled.name = level.name();
      NameIndex seen;
      compiled.audience_id_fields =
          CompileFields(level.audience_id_fields(), where, "audience-ID field",
                        seen, problems_);
      compiled.profile_attributes =
          CompileFields(level.profile_attributes(), where, "profile attribute",
                        seen, problems_);
      if (level.audience_id_fields().empty()) {
        problems_.Add(absl::StrCat(where, " has no audience-ID fields"));
      }
      expression::Schema schema;
      DeclareFields(compiled.audience_id_fields, where, schema, problems_);
      DeclareFields(compiled.profile_attributes, where, schema, problems_);
      for (const CompiledField& parameter : channel_->session_parameters_) {
        if (seen.Find(parameter.name) >= 0) {
          problems_.Add(absl::StrCat(where, ": field '", parameter.name,
                                     "' has the name of a session parameter"));
        }
      }
      DeclareFields(channel_->session_parameters_, "session parameters", schema,
                    problems_);
      channel_->audience_levels_.push_back(std::move(compiled));
      level_schemas_.push_back(std::move(schema));
    }
  }

  // Session parameters plus every level's fields whose name no two levels
  // declare with different types.
  void BuildRuleSchema() {
    expression::Schema& schema = channel_->rule_schema_;
    for (const CompiledField& parameter : channel_->session_parameters_) {
      schema.AddVariable(parameter.name, parameter.type).IgnoreError();
    }
    struct Candidate {
      CompiledField field;
      bool ambiguous = false;
    };
    std::vector<Candidate> candidates;
    absl::flat_hash_map<std::string, int> by_name;
    for (const CompiledAudienceLevel& level : channel_->audience_levels_) {
      for (const auto* list :
           {&level.audience_id_fields, &level.profile_attributes}) {
        for (const CompiledField& field : *list) {
          auto [it, added] = by_name.emplace(absl::AsciiStrToLower(field.name),
                                             candidates.size());
          if (added) {
            candidates.push_back({field});
          } else if (candidates[it->second].field.type != field.type) {
            candidates[it->second].ambiguous = true;
          }
        }
      }
    }
    for (const Candidate& candidate : candidates) {
      if (candidate.ambiguous) continue;
      // Errors (reserved words, session parameter names) are reported with
      // the audience level.
      schema.AddVariable(candidate.field.name, candidate.field.type)
          .IgnoreError();
    }
  }

  void BuildZonesAndInteractionPoints() {
    IndexNames(proto_.zones(), "zone", channel_->zone_index_);
    for (const v1::Zone& zone : proto_.zones()) {
      channel_->zones_.push_back({zone.name(), {}});
    }
    IndexNames(proto_.interaction_points(), "interaction point",
               channel_->interaction_point_index_);
    for (int i = 0; i < proto_.interaction_points_size(); ++i) {
      const v1::InteractionPoint& point = proto_.interaction_points(i);
      const int zone =
          Resolve(channel_->zone_index_, point.zone(), "zone",
                  absl::StrCat("interaction point '", point.name(), "'"));
      if (zone >= 0) channel_->zones_[zone].interaction_points.push_back(i);
      channel_->interaction_points_.push_back(
          {point.name(), zone, point.default_string()});
    }
  }

  void BuildOffers() {
    IndexNames(proto_.offers(), "offer", channel_->offer_index_);
    for (const v1::OfferDefinition& offer : proto_.offers()) {
      CompiledOffer compiled;
      compiled.name = offer.name();
      compiled.code.assign(offer.code().begin(), offer.code().end());
      compiled.description = offer.description();
      compiled.effective_millis =
          Millis(offer.has_effective_time(), offer.effective_time());
      compiled.expiration_millis =
          Millis(offer.has_expiration_time(), offer.expiration_time());
      CheckTimes(offer.has_effective_time(), offer.has_expiration_time(),
                 compiled.effective_millis, compiled.expiration_millis,
                 absl::StrCat("offer '", offer.name(), "'"));
      compiled.attributes.assign(offer.attributes().begin(),
                                 offer.attributes().end());
      channel_->offers_.push_back(std::move(compiled));
    }
  }

  void BuildFlowcharts() {
    IndexNames(proto_.flowcharts(), "flowchart", channel_->flowchart_index_);
    FlowchartContext context;
    context.audience_levels = &channel_->audience_level_index_;
    context.level_schemas = &level_schemas_;
    context.segments = &channel_->segment_index_;
    for (const v1::Flowchart& flowchart : proto_.flowcharts()) {
      absl::optional<CompiledFlowchart> compiled =
          CompileFlowchart(flowchart, context, problems_);
      if (!compiled.has_value()) continue;  // Problems recorded.
      channel_->audience_levels_[compiled->audience_level].flowcharts.push_back(
          channel_->flowcharts_.size());
      channel_->flowcharts_.push_back(*std::move(compiled));
    }
  }

  // Compiles a rule's expression of `type` if `source` is set.
  absl::optional<expression::CompiledExpression> CompileRuleExpression(
      const std::string& source, expression::Type type,
      const std::string& where) {
    if (source.empty()) return absl::nullopt;
    absl::StatusOr<expression::CompiledExpression> compiled =
        expression::Compile(source, channel_->rule_schema_, type);
    if (!compiled.ok()) {
      problems_.Add(where, compiled.status());
      return absl::nullopt;
    }
    return *std::move(compiled);
  }

  void BuildRules() {
    IndexNames(proto_.treatment_rules(), "treatment rule",
               channel_->rule_index_);
    for (int i = 0; i < proto_.treatment_rules_size(); ++i) {
      const v1::TreatmentRule& rule = proto_.treatment_rules(i);
      const std::string where =
          absl::StrCat("treatment rule '", rule.name(), "'");
      CompiledRule compiled;
      compiled.name = rule.name();
      compiled.index = i;
      compiled.segment =
          Resolve(channel_->segment_index_, rule.segment(), "segment", where);
      if (!rule.zone().empty()) {
        compiled.zone =
            Resolve(channel_->zone_index_, rule.zone(), "zone", where);
      }
      compiled.offer =
          Resolve(channel_->offer_index_, rule.offer(), "offer", where);
      compiled.marketing_score = rule.has_marketing_score()
                                     ? rule.marketing_score().value()
                                     : kDefaultMarketingScore;
      if (!(compiled.marketing_score >= kMinMarketingScore &&
            compiled.marketing_score <= kMaxMarketingScore)) {
        problems_.Add(absl::StrCat(
            where, ": marketing score ", compiled.marketing_score,
            " is not in [", kMinMarketingScore, ", ", kMaxMarketingScore, "]"));
      }
      compiled.eligibility =
          CompileRuleExpression(rule.eligibility(), expression::Type::kBoolean,
                                absl::StrCat(where, ": eligibility"));
      compiled.score_expression = CompileRuleExpression(
          rule.score_expression(), expression::Type::kNumber,
          absl::StrCat(where, ": score expression"));
      compiled.disabled = rule.disabled();
      compiled.effective_millis =
          Millis(rule.has_effective_time(), rule.effective_time());
      compiled.expiration_millis =
          Millis(rule.has_expiration_time(), rule.expiration_time());
      CheckTimes(rule.has_effective_time(), rule.has_expiration_time(),
                 compiled.effective_millis, compiled.expiration_millis, where);
      channel_->rules_.push_back(std::move(compiled));
    }
    if (!problems_.empty()) return;  // Indices may be missing.
    const size_t zones = channel_->zones_.size();
    channel_->rules_by_segment_zone_.assign(channel_->segments_.size() * zones,
                                            {});
    for (const CompiledRule& rule : channel_->rules_) {
      if (rule.disabled) continue;
      for (size_t zone = 0; zone < zones; ++zone) {
        if (rule.zone >= 0 && static_cast<size_t>(rule.zone) != zone) continue;
        channel_->rules_by_segment_zone_[rule.segment * zones + zone].push_back(
            &rule);
      }
    }
  }

  void BuildEvents() {
    IndexNames(proto_.events(), "event", channel_->event_index_);
    for (const v1::EventDefinition& event : proto_.events()) {
      const std::string where = absl::StrCat("event '", event.name(), "'");
      CompiledEvent compiled;
      compiled.name = event.name();
      int number = 0;
      for (const v1::EventAction& action : event.actions()) {
        ++number;
        CompiledEventAction out;
        switch (action.action_case()) {
          case v1::EventAction::kResegment:
            out.kind = CompiledEventAction::Kind::kResegment;
            for (const std::string& name : action.resegment().flowcharts()) {
              out.flowcharts.push_back(Resolve(channel_->flowchart_index_, name,
                                               "flowchart", where));
            }
            break;
          case v1::EventAction::kLogContact:
            out.kind = CompiledEventAction::Kind::kLogContact;
            break;
          case v1::EventAction::kLogAcceptance:
            out.kind = CompiledEventAction::Kind::kLogAcceptance;
            break;
          case v1::EventAction::kLogRejection:
            out.kind = CompiledEventAction::Kind::kLogRejection;
            break;
          default:
            problems_.Add(
                absl::StrCat(where, ": action ", number, " is not set"));
            break;
        }
        compiled.actions.push_back(std::move(out));
      }
      channel_->events_.push_back(std::move(compiled));
    }
  }

  const v1::InteractiveChannel& proto_;
  std::unique_ptr<CompiledChannel> channel_;
  std::vector<expression::Schema> level_schemas_;
  Problems problems_;
};

absl::StatusOr<std::shared_ptr<const CompiledChannel>> CompileChannel(
    const v1::InteractiveChannel& channel) {
  return ChannelBuilder(channel).Build();
}

}  // namespace parley::channel
