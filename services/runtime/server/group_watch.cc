#include "services/runtime/server/group_watch.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc_status.h"
#include "spdlog/spdlog.h"

namespace parley::runtime {

absl::StatusOr<v1::ServerGroup> AwaitGroup(
    v1::Coordinator::StubInterface* coordinator, const std::string& group,
    const std::function<bool()>& stop) {
  grpc::Status last;
  int attempts = 0;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::GetGroupRequest request;
    request.set_name(group);
    v1::ServerGroup result;
    last = coordinator->GetGroup(&context, request, &result);
    if (last.ok()) return result;
    if (attempts++ % 20 == 0) {
      if (last.error_code() == grpc::StatusCode::NOT_FOUND) {
        spdlog::warn(
            "server group '{}' does not exist yet; waiting for it (create it "
            "with Coordinator/CreateGroup, e.g. scripts/rpc -d "
            "'{{\"name\": \"{}\"}}' <coordinator> "
            "parley.v1.Coordinator/CreateGroup)",
            group, group);
      } else {
        spdlog::warn("reading server group '{}' from the coordinator: {}",
                     group, last.error_message());
      }
    }
    if (stop()) {
      return absl::CancelledError(
          absl::StrCat("stopped while waiting for server group '", group,
                       "': ", last.error_message()));
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
}

}  // namespace parley::runtime
