// What the runtime benchmarks (runtime_bench, soak_driver) share to set up
// a server group: reading a channel from JSON, creating the group,
// deploying a channel and waiting until the runtime servers serve it,
// loading demo profiles, and small request helpers. Progress lines go to
// stderr, prefixed with the calling program's name.
#ifndef PARLEY_BENCH_RUNTIME_SETUP_H_
#define PARLEY_BENCH_RUNTIME_SETUP_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/parley/v1/channel.pb.h"
#include "proto/parley/v1/coordinator.grpc.pb.h"
#include "proto/parley/v1/deployments.grpc.pb.h"
#include "proto/parley/v1/profiles.grpc.pb.h"
#include "proto/parley/v1/runtime.grpc.pb.h"

namespace parley::bench {

// The channel (JSON, as in deploy/demo/demo_channel.json) at `path`; it
// must have an audience level, zones and interaction points.
absl::StatusOr<v1::InteractiveChannel> ReadChannel(const std::string& path);

// Creates the server group `name` with `settings` (cache type DISTRIBUTED
// unless set); OK when it exists already.
absl::Status CreateGroup(v1::Coordinator::Stub& coordinator,
                         const std::string& name, v1::GroupSettings settings,
                         absl::string_view program);

// Deploys `channel` to `group` unless that exact content is active.
absl::Status Deploy(v1::Deployments::Stub& deployments,
                    const std::string& group,
                    const v1::InteractiveChannel& channel,
                    absl::string_view program);

// Waits until the runtime server serves `channel` (a TestRun naming it
// gets no INVALID_INTERACTIVE_CHANNEL advisory).
absl::Status AwaitChannel(v1::InteractRuntime::Stub& runtime,
                          const std::string& address,
                          const v1::InteractiveChannel& channel,
                          absl::Time deadline);

// CustomerID 1..count with the attributes scripts/demo_setup.py gives them
// (CSV with a header line).
std::string ProfilesCsv(int count);

// Loads ProfilesCsv(count) for `channel`'s first audience level through
// Profiles/LoadProfiles (retried while the server does not serve the
// channel yet).
absl::Status LoadProfiles(v1::Profiles::Stub& profiles,
                          const v1::InteractiveChannel& channel, int count,
                          absl::Time deadline);

// The first advisory of a response, for error messages.
template <typename Response>
std::string Advisory(const Response& response) {
  if (response.advisory_messages().empty()) {
    return absl::StrCat("status ", v1::ResponseStatus_Name(response.status()));
  }
  const v1::AdvisoryMessage& a = response.advisory_messages(0);
  return absl::StrCat(v1::ResponseStatus_Name(response.status()), ": ",
                      v1::AdvisoryCode_Name(a.code()), " ", a.message(), " ",
                      a.detail());
}

}  // namespace parley::bench

#endif  // PARLEY_BENCH_RUNTIME_SETUP_H_
