#ifndef PARLEY_TESTS_FAULT_NETWORK_NAMESPACE_H_
#define PARLEY_TESTS_FAULT_NETWORK_NAMESPACE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace parley::fault {

// Path of iproute2's `ip`, or empty when it is not installed.
std::string IpBinary();

// Moves this process into a network namespace and a mount namespace of its
// own, with its loopback up and a private tmpfs on /run/netns, so that the
// namespaces and links a test creates are seen by nobody else and vanish
// with the test. Processes started afterwards inherit both. Must be called
// while the process has a single thread (before any gRPC use). Needs root,
// or root in a user namespace (Bazel's sandbox); an error says why not.
// Done once per process: later calls return the first outcome.
// `log_dir` receives ip.log, the commands run and their output.
absl::Status EnterPrivateNetwork(const std::string& log_dir);

// A network namespace joined to the current one by a veth pair with a /30
// of 10.231.0.0/16 (derived from the pid): the namespace side can be cut off
// and reconnected. Names carry the pid ("parley-part-<pid>",
// "prlyp<pid>h"/"prlyp<pid>n"); both are deleted when the object is
// destroyed, and stale ones of dead processes when one is created.
class NetworkNamespace {
 public:
  // Creates the namespace and the veth pair, both ends up.
  static absl::StatusOr<std::unique_ptr<NetworkNamespace>> Create(
      const std::string& log_dir);
  ~NetworkNamespace();

  NetworkNamespace(const NetworkNamespace&) = delete;
  NetworkNamespace& operator=(const NetworkNamespace&) = delete;

  const std::string& name() const { return name_; }
  // The address of the veth end in the current namespace.
  const std::string& host_address() const { return host_address_; }
  // The address of the veth end inside the namespace.
  const std::string& namespace_address() const { return namespace_address_; }
  // What runs a command inside the namespace: {ip, "netns", "exec", name}.
  std::vector<std::string> ExecPrefix() const;

  // Sets the namespace's end of the veth down: whatever is sent to the
  // namespace is dropped without an answer, and the namespace has no route
  // out.
  absl::Status Cut();
  // Sets it up again.
  absl::Status Heal();

 private:
  NetworkNamespace(std::string log_dir, std::string name, std::string host_if,
                   std::string namespace_if, std::string host_address,
                   std::string namespace_address)
      : log_dir_(std::move(log_dir)),
        name_(std::move(name)),
        host_if_(std::move(host_if)),
        namespace_if_(std::move(namespace_if)),
        host_address_(std::move(host_address)),
        namespace_address_(std::move(namespace_address)) {}

  const std::string log_dir_;
  const std::string name_;
  const std::string host_if_;
  const std::string namespace_if_;
  const std::string host_address_;
  const std::string namespace_address_;
};

// Runs `ip` with `args`; its output, or an error with it. Appends both to
// <log_dir>/ip.log.
absl::StatusOr<std::string> RunIp(const std::string& log_dir,
                                  const std::vector<std::string>& args);

}  // namespace parley::fault

#endif  // PARLEY_TESTS_FAULT_NETWORK_NAMESPACE_H_
