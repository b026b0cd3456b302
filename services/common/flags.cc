#include "services/common/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "host:port to serve gRPC on; port 0 picks a free port");
ABSL_FLAG(std::string, port_file, "",
          "if set, the bound port is written to this file once serving");
ABSL_FLAG(std::string, log_level, "info",
          "trace, debug, info, warn, error or off");
ABSL_FLAG(int, shutdown_grace_seconds, 10,
          "seconds in-flight calls get to finish after SIGTERM/SIGINT");
ABSL_FLAG(int, metrics_port, -1,
          "port serving Prometheus metrics over HTTP (GET /metrics) on the "
          "host of --listen; -1 serves none, 0 picks a free port");
ABSL_FLAG(std::string, metrics_port_file, "",
          "if set, the bound metrics port is written to this file");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate this process presents (TLS when set)");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA bundle: servers require client certificates signed by it "
          "(mutual TLS); clients verify servers with it");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "file of 'token principal role...' lines; when set, calls need a "
          "known bearer token or client certificate (docs/security.md); "
          "re-read when it changes");
ABSL_FLAG(std::string, auth_admin_cert_names, "",
          "comma-separated subject CN or SAN DNS names of verified client "
          "certificates that get role admin (with --auth_tokens_file)");
ABSL_FLAG(std::string, auth_node_cert_names, "",
          "comma-separated subject CN or SAN DNS names of verified client "
          "certificates that get role node (with --auth_tokens_file)");
ABSL_FLAG(std::string, auth_token_file, "",
          "file holding the bearer token this process sends on every call "
          "it makes to other Parley servers");
