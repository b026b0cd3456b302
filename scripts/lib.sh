# Shared by scripts/up, scripts/down, scripts/status and scripts/test.
# shellcheck shell=bash

PARLEY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PARLEY_STATE="${PARLEY_ROOT}/.parley"

# Debian packages the build, the tests and the local cluster need.
PARLEY_PACKAGES=(
  bazel-bootstrap
  g++
  pkg-config
  protobuf-compiler
  libprotobuf-dev
  protobuf-compiler-grpc
  libgrpc++-dev
  grpc-proto
  libabsl-dev
  librocksdb-dev
  liblz4-dev
  libspdlog-dev
  libfmt-dev
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libyaml-cpp-dev
  libcpp-httplib-dev
  python3-grpcio
  python3-grpc-tools
  python3-protobuf
  python3-yaml
  python3-jsonschema
  openssl
  procps
  iproute2
  curl
)

log() { printf '[parley] %s\n' "$*" >&2; }
die() { printf '[parley] error: %s\n' "$*" >&2; exit 1; }

# Installs whichever of PARLEY_PACKAGES are missing (apt-get update first);
# does nothing, quickly, when all are present.
ensure_packages() {
  local missing=()
  local package
  for package in "${PARLEY_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "${package}" 2>/dev/null |
        grep -q 'install ok installed'; then
      missing+=("${package}")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    die "missing Debian packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}"
  fi
  log "installing ${#missing[@]} Debian package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install failed for: ${missing[*]}"
}

# Runs bazel from the repository root.
bazel_in_root() {
  (cd "${PARLEY_ROOT}" && bazel "$@")
}
