#include "tests/fault/network_namespace.h"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "tests/support/child_process.h"

namespace parley::fault {
namespace {

constexpr char kNamespacePrefix[] = "parley-part-";
constexpr char kLinkPrefix[] = "prlyp";

std::string ReadFrom(const std::string& path, std::streamoff offset) {
  std::ifstream in(path);
  in.seekg(offset);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Whether the process `pid` (as this process sees pids) is gone.
bool Dead(int pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

// The pid in a name made of `prefix`, the pid and an optional one-letter
// suffix; 0 when it is not such a name.
int PidIn(absl::string_view name, absl::string_view prefix) {
  if (!absl::ConsumePrefix(&name, prefix)) return 0;
  if (!name.empty() && (name.back() == 'h' || name.back() == 'n')) {
    name.remove_suffix(1);
  }
  int pid = 0;
  return absl::SimpleAtoi(name, &pid) ? pid : 0;
}

// Best effort: deletes namespaces and links of this test left behind by
// processes that are gone.
void RemoveStale(const std::string& log_dir) {
  if (absl::StatusOr<std::string> list = RunIp(log_dir, {"netns", "list"});
      list.ok()) {
    for (absl::string_view line : absl::StrSplit(*list, '\n')) {
      const std::string name(line.substr(0, line.find(' ')));
      const int pid = PidIn(name, kNamespacePrefix);
      if (pid > 0 && pid != getpid() && Dead(pid)) {
        RunIp(log_dir, {"netns", "delete", name}).IgnoreError();
      }
    }
  }
  if (absl::StatusOr<std::string> links = RunIp(log_dir, {"-o", "link"});
      links.ok()) {
    for (absl::string_view line : absl::StrSplit(*links, '\n')) {
      // "7: prlyp123h@if6: <BROADCAST,..."
      std::vector<absl::string_view> fields =
          absl::StrSplit(line, absl::MaxSplits(": ", 2));
      if (fields.size() < 2) continue;
      const std::string name(fields[1].substr(0, fields[1].find('@')));
      const int pid = PidIn(name, kLinkPrefix);
      if (pid > 0 && pid != getpid() && Dead(pid)) {
        RunIp(log_dir, {"link", "delete", name}).IgnoreError();
      }
    }
  }
}

// The work of EnterPrivateNetwork.
absl::Status EnterPrivateNetworkOnce(const std::string& log_dir) {
  if (IpBinary().empty()) {
    return absl::NotFoundError(
        "iproute2's ip is not installed (apt-get install iproute2)");
  }
  // unshare(CLONE_NEWNS) fails in a process whose threads share their
  // filesystem information; and threads started before would stay behind.
  int threads = 0;
  for ([[maybe_unused]] const auto& task :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++threads;
  }
  if (threads != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("the process already runs ", threads, " threads"));
  }
  if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "unshare(CLONE_NEWNET | CLONE_NEWNS): ", std::strerror(errno),
        "; needs root (CAP_SYS_ADMIN)"));
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("making / private: ", std::strerror(errno)));
  }
  std::error_code ignored;
  std::filesystem::create_directories("/run/netns", ignored);
  if (mount("tmpfs", "/run/netns", "tmpfs", 0, "size=1m,mode=0755") != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("mounting a tmpfs on /run/netns: ", std::strerror(errno)));
  }
  return RunIp(log_dir, {"link", "set", "lo", "up"}).status();
}

}  // namespace

std::string IpBinary() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

absl::StatusOr<std::string> RunIp(const std::string& log_dir,
                                  const std::vector<std::string>& args) {
  const std::string ip = IpBinary();
  if (ip.empty()) {
    return absl::NotFoundError("iproute2's ip is not installed");
  }
  const std::string log = absl::StrCat(log_dir, "/ip.log");
  {
    std::ofstream out(log, std::ios::app);
    out << "$ ip " << absl::StrJoin(args, " ") << "\n";
  }
  std::error_code error;
  const std::streamoff offset =
      static_cast<std::streamoff>(std::filesystem::file_size(log, error));
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> process =
      testing::ChildProcess::Spawn(ip, args, log);
  if (!process.ok()) return process.status();
  absl::StatusOr<int> exit_code = (*process)->Wait(absl::Seconds(20));
  const std::string output = ReadFrom(log, offset);
  if (!exit_code.ok()) return exit_code.status();
  if (*exit_code != 0) {
    return absl::InternalError(absl::StrCat("ip ", absl::StrJoin(args, " "),
                                            " exited with ", *exit_code, ": ",
                                            output));
  }
  return output;
}

absl::Status EnterPrivateNetwork(const std::string& log_dir) {
  // Once per process: later calls (later tests) get the first outcome.
  static const absl::Status* const entered =
      new absl::Status(EnterPrivateNetworkOnce(log_dir));
  return *entered;
}

absl::StatusOr<std::unique_ptr<NetworkNamespace>> NetworkNamespace::Create(
    const std::string& log_dir) {
  RemoveStale(log_dir);
  const int pid = getpid();
  // A /30 per pid (16384 of them in 10.231.0.0/16): .1 here, .2 there.
  const int base = (pid % 16384) * 4;
  const std::string subnet = absl::StrCat("10.231.", base / 256, ".");
  std::unique_ptr<NetworkNamespace> ns(new NetworkNamespace(
      log_dir, absl::StrCat(kNamespacePrefix, pid),
      absl::StrCat(kLinkPrefix, pid, "h"), absl::StrCat(kLinkPrefix, pid, "n"),
      absl::StrCat(subnet, base % 256 + 1),
      absl::StrCat(subnet, base % 256 + 2)));
  // Leftovers of an earlier process with the same pid.
  RunIp(log_dir, {"link", "delete", ns->host_if_}).IgnoreError();
  RunIp(log_dir, {"netns", "delete", ns->name_}).IgnoreError();
  const std::vector<std::vector<std::string>> commands = {
      {"netns", "add", ns->name_},
      {"link", "add", ns->host_if_, "type", "veth", "peer", "name",
       ns->namespace_if_, "netns", ns->name_},
      {"address", "add", absl::StrCat(ns->host_address_, "/30"), "dev",
       ns->host_if_},
      {"link", "set", ns->host_if_, "up"},
      {"-n", ns->name_, "address", "add",
       absl::StrCat(ns->namespace_address_, "/30"), "dev", ns->namespace_if_},
      {"-n", ns->name_, "link", "set", ns->namespace_if_, "up"},
      {"-n", ns->name_, "link", "set", "lo", "up"},
  };
  for (const std::vector<std::string>& command : commands) {
    if (absl::StatusOr<std::string> run = RunIp(log_dir, command); !run.ok()) {
      return run.status();  // The destructor removes what was made.
    }
  }
  return ns;
}

NetworkNamespace::~NetworkNamespace() {
  RunIp(log_dir_, {"link", "delete", host_if_}).IgnoreError();
  RunIp(log_dir_, {"netns", "delete", name_}).IgnoreError();
}

std::vector<std::string> NetworkNamespace::ExecPrefix() const {
  return {IpBinary(), "netns", "exec", name_};
}

absl::Status NetworkNamespace::Cut() {
  return RunIp(log_dir_, {"-n", name_, "link", "set", namespace_if_, "down"})
      .status();
}

absl::Status NetworkNamespace::Heal() {
  return RunIp(log_dir_, {"-n", name_, "link", "set", namespace_if_, "up"})
      .status();
}

}  // namespace parley::fault
