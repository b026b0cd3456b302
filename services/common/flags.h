#ifndef PARLEY_SERVICES_COMMON_FLAGS_H_
#define PARLEY_SERVICES_COMMON_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"

// Flags every Parley server shares. Each role adds its own in its main.cc.

// host:port to serve gRPC on; port 0 picks a free port.
ABSL_DECLARE_FLAG(std::string, listen);
// Writes the bound port to this file once serving (for tests and scripts).
ABSL_DECLARE_FLAG(std::string, port_file);
// trace, debug, info, warn, error or off.
ABSL_DECLARE_FLAG(std::string, log_level);
// Seconds to let in-flight calls finish after SIGTERM/SIGINT.
ABSL_DECLARE_FLAG(int, shutdown_grace_seconds);
// Port serving Prometheus metrics over HTTP (GET /metrics) on the host of
// --listen: -1 (the default) serves none, 0 picks a free port.
ABSL_DECLARE_FLAG(int, metrics_port);
// Writes the bound metrics port to this file once serving.
ABSL_DECLARE_FLAG(std::string, metrics_port_file);
// PEM files for TLS; see services/common/tls.h.
ABSL_DECLARE_FLAG(std::string, tls_cert_file);
ABSL_DECLARE_FLAG(std::string, tls_key_file);
ABSL_DECLARE_FLAG(std::string, tls_ca_file);
// Authorization; see docs/security.md. A tokens file turns it on.
ABSL_DECLARE_FLAG(std::string, auth_tokens_file);
ABSL_DECLARE_FLAG(std::string, auth_admin_cert_names);
ABSL_DECLARE_FLAG(std::string, auth_node_cert_names);
// The bearer token this process sends on every call it makes.
ABSL_DECLARE_FLAG(std::string, auth_token_file);

#endif  // PARLEY_SERVICES_COMMON_FLAGS_H_
