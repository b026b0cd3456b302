#include "bench/runtime_setup.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "bench/load_driver.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"

namespace parley::bench {
namespace {

constexpr char kProfilesHeader[] = "CustomerID,Age,Tier,LastPurchase";

}  // namespace

// ------------------------------------------------------------ channels

absl::StatusOr<v1::InteractiveChannel> ReadChannel(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << file.rdbuf();
  v1::InteractiveChannel channel;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(text.str(), &channel);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", parsed.ToString()));
  }
  if (channel.audience_levels().empty() ||
      channel.interaction_points().empty() || channel.zones().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": needs an audience level, zones and interaction points"));
  }
  return channel;
}

absl::Status CreateGroup(v1::Coordinator::Stub& coordinator,
                         const std::string& name, v1::GroupSettings settings,
                         absl::string_view program) {
  v1::CreateGroupRequest request;
  request.set_name(name);
  if (settings.cache_type() == v1::CACHE_TYPE_UNSPECIFIED) {
    settings.set_cache_type(v1::DISTRIBUTED);
  }
  *request.mutable_settings() = std::move(settings);
  v1::ServerGroup group;
  const grpc::Status status = coordinator.CreateGroup(
      Context(absl::Seconds(10)).get(), request, &group);
  if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
    std::fprintf(stderr, "%s: group %s exists\n", std::string(program).c_str(),
                 name.c_str());
    return absl::OkStatus();
  }
  if (!status.ok()) return FromGrpcStatus(status);
  std::fprintf(stderr, "%s: created group %s (%s)\n",
               std::string(program).c_str(), name.c_str(),
               v1::CacheType_Name(request.settings().cache_type()).c_str());
  return absl::OkStatus();
}

// Deploys `channel` to `group` unless that exact content is active.
absl::Status Deploy(v1::Deployments::Stub& deployments,
                    const std::string& group,
                    const v1::InteractiveChannel& channel,
                    absl::string_view program) {
  v1::GetDeploymentRequest get;
  get.set_group(group);
  get.set_channel(channel.name());
  v1::Deployment active;
  grpc::Status status =
      deployments.GetDeployment(Context(absl::Seconds(10)).get(), get, &active);
  if (status.ok() && google::protobuf::util::MessageDifferencer::Equals(
                         active.channel(), channel)) {
    std::fprintf(stderr, "%s: channel %s version %llu already active\n",
                 std::string(program).c_str(), channel.name().c_str(),
                 static_cast<unsigned long long>(active.version()));
    return absl::OkStatus();
  }
  if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND) {
    return FromGrpcStatus(status);
  }
  v1::DeployRequest request;
  request.set_group(group);
  *request.mutable_channel() = channel;
  request.set_comment(absl::StrCat("bench/", program));
  v1::Deployment deployed;
  status =
      deployments.Deploy(Context(absl::Seconds(30)).get(), request, &deployed);
  if (!status.ok()) {
    return absl::Status(
        FromGrpcStatus(status).code(),
        absl::StrCat("deploying ", channel.name(), " (", channel.ByteSizeLong(),
                     " bytes): ", status.error_message()));
  }
  std::fprintf(stderr,
               "%s: deployed %s (%d rules, %d segments, %d offers, "
               "%zu bytes) as version %llu\n",
               std::string(program).c_str(), channel.name().c_str(),
               channel.treatment_rules_size(), channel.segments_size(),
               channel.offers_size(), channel.ByteSizeLong(),
               static_cast<unsigned long long>(deployed.version()));
  return absl::OkStatus();
}

// Waits until the runtime server serves `channel` (a TestRun naming it
// gets no INVALID_INTERACTIVE_CHANNEL advisory).
absl::Status AwaitChannel(v1::InteractRuntime::Stub& runtime,
                          const std::string& address,
                          const v1::InteractiveChannel& channel,
                          absl::Time deadline) {
  v1::TestRunRequest request;
  request.set_interactive_channel(channel.name());
  if (!channel.flowcharts().empty()) {
    request.set_flowchart(channel.flowcharts(0).name());
  }
  std::string last;
  while (true) {
    v1::TestRunResponse response;
    grpc::Status status =
        runtime.TestRun(Context(absl::Seconds(5)).get(), request, &response);
    if (status.ok()) {
      bool missing = false;
      for (const v1::AdvisoryMessage& advisory : response.advisory_messages()) {
        missing |= advisory.code() == v1::INVALID_INTERACTIVE_CHANNEL;
      }
      if (!missing) return absl::OkStatus();
      last = "the channel is not deployed there yet";
    } else {
      last = FromGrpcStatus(status).ToString();
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          address, " does not serve channel ", channel.name(), ": ", last));
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

// ------------------------------------------------------------ profiles

// CustomerID 1..count with the attributes scripts/demo_setup.py gives them.
std::string ProfilesCsv(int count) {
  static const char* const kTiers[] = {"Gold", "Silver", "Bronze", "Silver",
                                       "Bronze"};
  std::string csv = absl::StrCat(kProfilesHeader, "\n");
  const absl::CivilDay start(2026, 1, 1);
  for (int customer = 1; customer <= count; ++customer) {
    const absl::CivilDay purchase = start + (customer * 13) % 300;
    absl::StrAppendFormat(&csv, "%d,%d,%s,%04d-%02d-%02dT12:00:00Z\n", customer,
                          18 + (customer * 37) % 60, kTiers[customer % 5],
                          purchase.year(), purchase.month(), purchase.day());
  }
  return csv;
}

// Loads the profiles through Profiles/LoadProfiles (retried while the
// server does not serve the channel yet).
absl::Status LoadProfiles(v1::Profiles::Stub& profiles,
                          const v1::InteractiveChannel& channel, int count,
                          absl::Time deadline) {
  const std::string csv = ProfilesCsv(count);
  constexpr size_t kChunk = 256 * 1024;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(2)));
    auto stream = profiles.LoadProfiles(&context);
    for (size_t offset = 0; offset < csv.size(); offset += kChunk) {
      v1::LoadProfilesRequest request;
      if (offset == 0) {
        request.set_interactive_channel(channel.name());
        request.set_audience_level(channel.audience_levels(0).name());
      }
      request.set_csv_chunk(csv.substr(offset, kChunk));
      if (!stream->Write(request)) break;
    }
    stream->WritesDone();
    v1::LoadProfilesProgress progress, last;
    while (stream->Read(&progress)) last = progress;
    const grpc::Status status = stream->Finish();
    if (status.ok()) {
      if (!last.done() || last.rows_stored() != count ||
          last.rows_rejected() != 0) {
        return absl::InternalError(absl::StrCat(
            "LoadProfiles stored ", last.rows_stored(), " and rejected ",
            last.rows_rejected(), " of ", count, " rows",
            last.errors().empty()
                ? ""
                : absl::StrCat(": line ", last.errors(0).line(), ": ",
                               last.errors(0).message())));
      }
      return absl::OkStatus();
    }
    const bool retry = status.error_code() == grpc::StatusCode::NOT_FOUND ||
                       status.error_code() == grpc::StatusCode::UNAVAILABLE;
    if (!retry || absl::Now() >= deadline) {
      return absl::Status(
          FromGrpcStatus(status).code(),
          absl::StrCat("LoadProfiles: ", status.error_message()));
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
}

// ------------------------------------------------------------ requests

}  // namespace parley::bench
