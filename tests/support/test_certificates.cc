#include "tests/support/test_certificates.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace parley::testing {
namespace {

// P-256 keys: as good as RSA for a test and much faster to make.
constexpr char kNewKey[] =
    "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace

absl::StatusOr<std::map<std::string, TlsFiles>> MakeTestCertificates(
    const std::string& dir, const std::vector<std::string>& names) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", dir, ": ", error.message()));
  }
  std::string script = absl::StrCat(
      "set -e; cd '", dir, "'; exec 2>openssl.log; openssl req -x509 ", kNewKey,
      " -days 2 -subj '/CN=Parley test CA' -keyout ca.key", " -out ca.pem;");
  for (const std::string& name : names) {
    absl::StrAppend(
        &script, " openssl req ", kNewKey, " -subj '/CN=", name, "'",
        " -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' -keyout '", name,
        ".key' -out '", name, ".csr'; openssl x509 -req -in '", name,
        ".csr' -CA ca.pem -CAkey ca.key -CAcreateserial -days 2",
        " -copy_extensions copy -out '", name, ".pem';");
  }
  if (std::system(script.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("openssl could not make test certificates in ", dir, ":\n",
                     ReadAll(dir + "/openssl.log")));
  }
  std::map<std::string, TlsFiles> files;
  for (const std::string& name : names) {
    files[name] = TlsFiles{absl::StrCat(dir, "/", name, ".pem"),
                           absl::StrCat(dir, "/", name, ".key"),
                           absl::StrCat(dir, "/ca.pem")};
  }
  return files;
}

}  // namespace parley::testing
