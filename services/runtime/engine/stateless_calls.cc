// The SessionEngine calls that touch no session: GetVersion and TestRun.
#include "services/common/version.h"
#include "services/runtime/engine/engine.h"
#include "services/runtime/engine/test_run.h"

namespace parley::engine {

absl::StatusOr<v1::GetVersionResponse> SessionEngine::GetVersion(
    const v1::GetVersionRequest& /*request*/) {
  v1::GetVersionResponse response;
  response.set_api_version(kRuntimeApiVersion);
  response.set_server_version(kParleyVersion);
  response.set_status(v1::SUCCESS);
  return response;
}

absl::StatusOr<v1::TestRunResponse> SessionEngine::TestRun(
    const v1::TestRunRequest& request) {
  return RunFlowchartTest(request, channels_, clock_());
}

}  // namespace parley::engine
