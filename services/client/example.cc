// runtime_client_example: one visitor's session on the local cluster that
// scripts/up starts, through parley::RuntimeClient. Starts a session for
// CustomerID 42 on channel `demo`, gets offers at `HomePageHero`, accepts
// the first one, and ends the session, printing each step.
//
//   bazel run //services/client:runtime_client_example -- --group=default

#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/parley/v1/runtime.pb.h"
#include "services/client/runtime_client.h"
#include "services/common/auth/tokens.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:7400",
          "host:port of the group coordinator");
ABSL_FLAG(std::string, group, "default", "the server group to call");
ABSL_FLAG(std::string, session_id, "example-visit", "the session id to use");
ABSL_FLAG(std::string, auth_token_file, "",
          "with authorization on: a file holding a token of role "
          "client:<group> (docs/security.md)");

namespace {

namespace v1 = parley::v1;

// "SUCCESS", or the status and its advisories.
template <typename Response>
std::string Outcome(const Response& response) {
  std::string text = v1::ResponseStatus_Name(response.status());
  for (const v1::AdvisoryMessage& advisory : response.advisory_messages()) {
    absl::StrAppend(&text, " [", v1::AdvisoryCode_Name(advisory.code()), ": ",
                    advisory.message(), "]");
  }
  return text;
}

int Fail(const std::string& step, const absl::Status& status) {
  std::fprintf(stderr, "%s failed: %s\n", step.c_str(),
               status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Runs one visitor's session on a Parley server group.");
  absl::ParseCommandLine(argc, argv);
  const std::string session = absl::GetFlag(FLAGS_session_id);

  parley::RuntimeClientOptions options;
  options.coordinator_address = absl::GetFlag(FLAGS_coordinator);
  options.group = absl::GetFlag(FLAGS_group);
  if (const std::string path = absl::GetFlag(FLAGS_auth_token_file);
      !path.empty()) {
    absl::StatusOr<std::string> token = parley::auth::ReadTokenFile(path);
    if (!token.ok()) return Fail("--auth_token_file", token.status());
    options.auth_token = *std::move(token);
  }
  absl::StatusOr<std::unique_ptr<parley::RuntimeClient>> connected =
      parley::RuntimeClient::Connect(options);
  if (!connected.ok()) return Fail("Connect", connected.status());
  parley::RuntimeClient& client = **connected;
  std::printf("runtime servers of group '%s': %s\n", options.group.c_str(),
              absl::StrJoin(client.Servers(), ", ").c_str());
  absl::StatusOr<std::string> server = client.ServerFor(session);
  if (!server.ok()) return Fail("ServerFor", server.status());
  std::printf("session %s goes to %s\n", session.c_str(), server->c_str());

  parley::CallInfo info;
  v1::StartSessionRequest start;
  start.set_session_id(session);
  start.set_interactive_channel("demo");
  start.set_audience_level("Customer");
  v1::NameValue* customer = start.add_audience_id();
  customer->set_name("CustomerID");
  customer->set_number_value(42);
  absl::StatusOr<v1::StartSessionResponse> started =
      client.StartSession(start, {}, &info);
  if (!started.ok()) return Fail("StartSession", started.status());
  std::printf("StartSession (CustomerID 42, channel demo): %s, served by %s\n",
              Outcome(*started).c_str(), info.server.c_str());

  v1::GetOffersRequest get_offers;
  get_offers.set_session_id(session);
  get_offers.set_interaction_point("HomePageHero");
  get_offers.set_number_requested(3);
  absl::StatusOr<v1::GetOffersResponse> offers =
      client.GetOffers(get_offers, {}, &info);
  if (!offers.ok()) return Fail("GetOffers", offers.status());
  const v1::OfferList& list = offers->offer_list();
  std::printf("GetOffers at HomePageHero: %s, %d offer(s), served by %s\n",
              Outcome(*offers).c_str(), list.offers_size(),
              info.server.c_str());
  for (const v1::Offer& offer : list.offers()) {
    std::printf("  %-12s score %5.1f  treatment %s  %s\n", offer.name().c_str(),
                offer.score(), offer.treatment_code().c_str(),
                offer.description().c_str());
  }
  if (list.offers().empty()) {
    std::printf("  (none; the interaction point shows \"%s\")\n",
                list.default_string().c_str());
  } else {
    const v1::Offer& first = list.offers(0);
    v1::PostEventRequest accept;
    accept.set_session_id(session);
    accept.set_event_name("OfferAccepted");
    v1::NameValue* code = accept.add_parameters();
    code->set_name("UACIOfferTrackingCode");
    code->set_string_value(first.treatment_code());
    absl::StatusOr<v1::PostEventResponse> posted =
        client.PostEvent(accept, {}, &info);
    if (!posted.ok()) return Fail("PostEvent", posted.status());
    std::printf("PostEvent OfferAccepted (%s, %s): %s, served by %s\n",
                first.name().c_str(), first.treatment_code().c_str(),
                Outcome(*posted).c_str(), info.server.c_str());
  }

  v1::EndSessionRequest end;
  end.set_session_id(session);
  absl::StatusOr<v1::EndSessionResponse> ended =
      client.EndSession(end, {}, &info);
  if (!ended.ok()) return Fail("EndSession", ended.status());
  std::printf("EndSession: %s, served by %s\n", Outcome(*ended).c_str(),
              info.server.c_str());
  return 0;
}
