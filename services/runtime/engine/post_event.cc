// SessionEngine::PostEvent.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "proto/parley/v1/history.pb.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/engine_internal.h"
#include "services/runtime/engine/segmenter.h"
#include "services/runtime/engine/visitor_values.h"

namespace parley::engine {
namespace {

using Kind = channel::CompiledEventAction::Kind;

// The parameter naming the presentation a contact or response is about.
constexpr absl::string_view kTrackingCodeParameter = "UACIOfferTrackingCode";

absl::optional<std::string> TrackingCode(const v1::PostEventRequest& request) {
  for (const v1::NameValue& parameter : request.parameters()) {
    if (absl::EqualsIgnoreCase(parameter.name(), kTrackingCodeParameter) &&
        parameter.value_case() == v1::NameValue::kStringValue) {
      return parameter.string_value();
    }
  }
  return absl::nullopt;
}

const v1::Presentation* FindPresentation(const v1::SessionState& state,
                                         const std::string& code) {
  for (const v1::Presentation& presentation : state.last_recommended()) {
    if (presentation.treatment_code() == code) return &presentation;
  }
  for (const v1::Presentation& presentation : state.earlier_presentations()) {
    if (presentation.treatment_code() == code) return &presentation;
  }
  return nullptr;
}

// The flowcharts of a resegment action that run for `level`; empty means
// every flowchart of the level.
std::vector<int> FlowchartsFor(const channel::CompiledChannel& channel,
                               const channel::CompiledEventAction& action,
                               int level) {
  std::vector<int> flowcharts;
  for (int flowchart : action.flowcharts) {
    if (channel.flowcharts()[flowchart].audience_level == level) {
      flowcharts.push_back(flowchart);
    }
  }
  return flowcharts;
}

}  // namespace

absl::StatusOr<v1::PostEventResponse> SessionEngine::PostEvent(
    const v1::PostEventRequest& request) {
  if (absl::Status s = internal::CheckSessionId(request.session_id());
      !s.ok()) {
    return s;
  }
  const absl::optional<std::string> code = TrackingCode(request);
  // The history records of the attempt that gets stored.
  std::vector<v1::HistoryRecord> records;
  bool written = false;
  absl::StatusOr<v1::PostEventResponse> result =
      ChangeSession<v1::PostEventResponse>(
          request.session_id(), [](v1::PostEventResponse&) {},
          [&](LiveSession& live, v1::PostEventResponse& response,
              absl::Time now) -> absl::StatusOr<bool> {
            records.clear();
            const int64_t now_millis = absl::ToUnixMillis(now);
            v1::SessionState& state = live.state;
            const channel::CompiledChannel& channel = *live.channel.channel;
            const int event_index = channel.FindEvent(request.event_name());
            if (event_index < 0) {
              AddAdvisory(response, v1::INVALID_EVENT_NAME, v1::ERROR,
                          "unknown event", request.event_name());
              return false;
            }
            const channel::CompiledEvent& event = channel.events()[event_index];

            // Find the presentation before any change, so a bad code changes
            // nothing.
            absl::optional<v1::Presentation> presented;
            if (code.has_value()) {
              const v1::Presentation* found = FindPresentation(state, *code);
              if (found != nullptr) presented = *found;
            }
            bool logs_offers = false;
            bool logs_response = false;
            for (const channel::CompiledEventAction& action : event.actions) {
              logs_offers |= action.kind != Kind::kResegment;
              logs_response |= action.kind == Kind::kLogAcceptance ||
                               action.kind == Kind::kLogRejection;
            }
            if (logs_offers && !presented.has_value() &&
                (logs_response || code.has_value())) {
              AddAdvisory(response, v1::INVALID_OFFER_TRACKING_CODE, v1::ERROR,
                          code.has_value() ? "unknown offer tracking code"
                                           : "missing offer tracking code",
                          code.value_or(""));
              return false;
            }

            std::vector<v1::NameValue> transient;
            const absl::Status applied = ApplyChannelParameters(
                channel, state, request.parameters(), &transient);
            if (!applied.ok()) {
              AddAdvisory(response, v1::INVALID_PARAMETER, v1::ERROR,
                          "invalid parameter", applied.message());
              return false;
            }

            const std::string audience_id = AudienceIdText(state.audience_id());
            auto record = [&](v1::HistoryKind kind,
                              const v1::Presentation& presentation) {
              v1::HistoryRecord& out = records.emplace_back();
              out.set_kind(kind);
              out.set_session_id(state.session_id());
              out.set_interactive_channel(state.interactive_channel());
              out.set_audience_level(state.audience_level());
              out.set_audience_id(audience_id);
              out.set_offer(presentation.offer());
              out.set_treatment_code(presentation.treatment_code());
              SetTimestampMillis(now_millis, out.mutable_time());
              out.set_interaction_point(presentation.interaction_point());
              *out.mutable_parameters() = state.parameters();
            };
            for (const channel::CompiledEventAction& action : event.actions) {
              switch (action.kind) {
                case Kind::kResegment: {
                  const int level =
                      channel.FindAudienceLevel(state.audience_level());
                  if (level < 0) break;
                  const std::vector<int> flowcharts =
                      FlowchartsFor(channel, action, level);
                  if (!action.flowcharts.empty() && flowcharts.empty()) break;
                  SegmentForCall(channel, level, flowcharts, transient,
                                 now_millis, state, response);
                  break;
                }
                case Kind::kLogContact:
                  if (presented.has_value()) {
                    record(v1::CONTACT, *presented);
                  } else {
                    for (const v1::Presentation& presentation :
                         state.last_recommended()) {
                      record(v1::CONTACT, presentation);
                    }
                  }
                  break;
                case Kind::kLogAcceptance:
                  (*state.mutable_offers())[presented->offer()].set_accepted(
                      true);
                  record(v1::ACCEPTANCE, *presented);
                  break;
                case Kind::kLogRejection:
                  (*state.mutable_offers())[presented->offer()].set_rejected(
                      true);
                  record(v1::REJECTION, *presented);
                  break;
              }
            }
            return true;
          },
          &written);
  if (written && history_) {
    for (const v1::HistoryRecord& history_record : records) {
      history_(history_record);
    }
  }
  return result;
}

}  // namespace parley::engine
