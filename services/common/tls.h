#ifndef PARLEY_SERVICES_COMMON_TLS_H_
#define PARLEY_SERVICES_COMMON_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace parley {

// PEM files for TLS. All empty means plaintext. A certificate and key make
// a server speak TLS; a CA file on a server requires and verifies client
// certificates (mutual TLS); on a client it verifies the server, and a
// certificate and key are presented as the client's identity.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;

  // True when any file is named.
  bool enabled() const {
    return !cert_file.empty() || !key_file.empty() || !ca_file.empty();
  }
};

// Reads the TLS flags (--tls_cert_file, --tls_key_file, --tls_ca_file).
TlsFiles TlsFilesFromFlags();

// Credentials for a server: insecure when `files` is empty, TLS (mutual
// when a CA is given) otherwise. Fails if a file is missing or unreadable,
// or if only one of certificate and key is given.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);

// Credentials for a client channel, the counterpart of
// MakeServerCredentials.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const TlsFiles& files);

}  // namespace parley

#endif  // PARLEY_SERVICES_COMMON_TLS_H_
