#ifndef PARLEY_TESTS_SUPPORT_CHILD_PROCESS_H_
#define PARLEY_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace parley::testing {

// Path of a file the test depends on (Bazel runfiles), e.g.
// "services/coordinator/parley-coordinator".
std::string RunfilePath(const std::string& relative);

// A directory for this test's files, created fresh under $TEST_TMPDIR.
std::string FreshTempDir(const std::string& name);

// A real server process started for a test. Killed (SIGKILL) when destroyed
// if still running.
class ChildProcess {
 public:
  // Starts `binary` with `args`, stdout and stderr appended to `log_path`.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      const std::string& binary, const std::vector<std::string>& args,
      const std::string& log_path);

  ~ChildProcess();

  pid_t pid() const { return pid_; }

  // Sends `signal` (e.g. SIGTERM, SIGKILL, SIGSTOP, SIGCONT).
  void Signal(int signal);

  // Waits for the process to exit; returns its exit code (128+signal if a
  // signal ended it). DEADLINE_EXCEEDED if it is still running.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // The log written so far.
  std::string Log() const;

 private:
  ChildProcess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}

  pid_t pid_;
  std::string log_path_;
  bool exited_ = false;
};

// Waits until `path` holds a port number (a server's --port_file).
absl::StatusOr<int> WaitForPortFile(const std::string& path,
                                    absl::Duration timeout);

// A Parley server process started with --listen=127.0.0.1:0 and a port file.
struct StartedServer {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  std::string address() const;
};

// Starts `binary` with `args` plus --listen/--port_file, waits until it
// serves. `name` names its log and port files under `dir`.
absl::StatusOr<StartedServer> StartServer(const std::string& binary,
                                          std::vector<std::string> args,
                                          const std::string& dir,
                                          const std::string& name);

}  // namespace parley::testing

#endif  // PARLEY_TESTS_SUPPORT_CHILD_PROCESS_H_
