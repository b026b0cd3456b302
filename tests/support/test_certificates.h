#ifndef PARLEY_TESTS_SUPPORT_TEST_CERTIFICATES_H_
#define PARLEY_TESTS_SUPPORT_TEST_CERTIFICATES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/tls.h"

namespace parley::testing {

// Makes, with openssl, a throwaway CA under `dir` (created if missing) and
// for each of `names` a certificate it signed, with that subject CN and
// the SANs IP:127.0.0.1 and DNS:localhost, valid for two days. Returns each
// name's files (certificate, key, the CA), usable both as a server's and as
// a client's. FAILED_PRECONDITION with openssl's output if it fails.
absl::StatusOr<std::map<std::string, TlsFiles>> MakeTestCertificates(
    const std::string& dir, const std::vector<std::string>& names);

}  // namespace parley::testing

#endif  // PARLEY_TESTS_SUPPORT_TEST_CERTIFICATES_H_
