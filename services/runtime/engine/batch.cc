// SessionEngine::ExecuteBatch.
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/engine/advisories.h"
#include "services/runtime/engine/engine.h"

namespace parley::engine {
namespace {

// Runs `call` on `given`, with the batch's session id when `given` has
// none, and writes its response to `out`; a rejected command becomes an
// ERROR advisory in `out` (see SessionEngine::ExecuteBatch).
template <typename Request, typename Response, typename Call>
void RunCommand(const Request& given, const std::string& batch_session_id,
                Call call, Response* out) {
  const Request* request = &given;
  Request with_session;
  if (given.session_id().empty()) {
    with_session = given;
    with_session.set_session_id(batch_session_id);
    request = &with_session;
  }
  absl::StatusOr<Response> response = call(*request);
  if (response.ok()) {
    *out = *std::move(response);
    return;
  }
  out->set_session_id(request->session_id());
  const bool malformed =
      response.status().code() == absl::StatusCode::kInvalidArgument;
  AddAdvisory(*out,
              malformed ? v1::INVALID_PARAMETER : v1::ADVISORY_CODE_UNSPECIFIED,
              v1::ERROR, malformed ? "malformed command" : "command failed",
              response.status().ToString());
}

// The status of a batch result.
v1::ResponseStatus ResultStatus(const v1::BatchResult& result) {
  switch (result.result_case()) {
    case v1::BatchResult::kStartSession:
      return result.start_session().status();
    case v1::BatchResult::kGetOffers:
      return result.get_offers().status();
    case v1::BatchResult::kGetOffersForMultipleInteractionPoints:
      return result.get_offers_for_multiple_interaction_points().status();
    case v1::BatchResult::kPostEvent:
      return result.post_event().status();
    case v1::BatchResult::kSetAudience:
      return result.set_audience().status();
    case v1::BatchResult::kGetProfile:
      return result.get_profile().status();
    case v1::BatchResult::kEndSession:
      return result.end_session().status();
    case v1::BatchResult::kSetDebug:
      return result.set_debug().status();
    case v1::BatchResult::kGetVersion:
      return result.get_version().status();
    case v1::BatchResult::RESULT_NOT_SET:
      break;
  }
  v1::ResponseStatus worst = v1::SUCCESS;
  for (const v1::AdvisoryMessage& advisory : result.advisory_messages()) {
    if (advisory.level() > worst) worst = advisory.level();
  }
  return worst;
}

}  // namespace

absl::StatusOr<v1::ExecuteBatchResponse> SessionEngine::ExecuteBatch(
    const v1::ExecuteBatchRequest& request) {
  if (request.commands_size() > kMaxBatchCommands) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxBatchCommands, " commands per batch, got ",
                     request.commands_size()));
  }
  v1::ExecuteBatchResponse response;
  response.set_session_id(request.session_id());
  const std::string& id = request.session_id();
  for (const v1::BatchCommand& command : request.commands()) {
    v1::BatchResult* result = response.add_results();
    switch (command.command_case()) {
      case v1::BatchCommand::kStartSession:
        RunCommand(
            command.start_session(), id,
            [this](const auto& r) { return StartSession(r); },
            result->mutable_start_session());
        break;
      case v1::BatchCommand::kGetOffers:
        RunCommand(
            command.get_offers(), id,
            [this](const auto& r) { return GetOffers(r); },
            result->mutable_get_offers());
        break;
      case v1::BatchCommand::kGetOffersForMultipleInteractionPoints:
        RunCommand(
            command.get_offers_for_multiple_interaction_points(), id,
            [this](const auto& r) {
              return GetOffersForMultipleInteractionPoints(r);
            },
            result->mutable_get_offers_for_multiple_interaction_points());
        break;
      case v1::BatchCommand::kPostEvent:
        RunCommand(
            command.post_event(), id,
            [this](const auto& r) { return PostEvent(r); },
            result->mutable_post_event());
        break;
      case v1::BatchCommand::kSetAudience:
        RunCommand(
            command.set_audience(), id,
            [this](const auto& r) { return SetAudience(r); },
            result->mutable_set_audience());
        break;
      case v1::BatchCommand::kGetProfile:
        RunCommand(
            command.get_profile(), id,
            [this](const auto& r) { return GetProfile(r); },
            result->mutable_get_profile());
        break;
      case v1::BatchCommand::kEndSession:
        RunCommand(
            command.end_session(), id,
            [this](const auto& r) { return EndSession(r); },
            result->mutable_end_session());
        break;
      case v1::BatchCommand::kSetDebug:
        RunCommand(
            command.set_debug(), id,
            [this](const auto& r) { return SetDebug(r); },
            result->mutable_set_debug());
        break;
      case v1::BatchCommand::kGetVersion: {
        // GetVersion cannot fail.
        absl::StatusOr<v1::GetVersionResponse> version =
            GetVersion(command.get_version());
        if (version.ok()) *result->mutable_get_version() = *std::move(version);
        break;
      }
      case v1::BatchCommand::COMMAND_NOT_SET: {
        v1::AdvisoryMessage* advisory = result->add_advisory_messages();
        advisory->set_code(v1::COMMAND_METHOD_UNRECOGNIZED);
        advisory->set_level(v1::ERROR);
        advisory->set_message("command names no method");
        break;
      }
    }
    const v1::ResponseStatus status = ResultStatus(*result);
    if (status > response.status()) response.set_status(status);
  }
  return response;
}

}  // namespace parley::engine
