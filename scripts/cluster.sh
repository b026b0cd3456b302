# The local cluster's processes, shared by scripts/up, scripts/down and
# scripts/status. Each line: name, Bazel target, listen address, extra flags.
# shellcheck shell=bash

PARLEY_PROCESSES=(
  "coordinator|//services/coordinator:parley-coordinator|127.0.0.1:7400|--data_dir=${PARLEY_STATE}/data/coordinator --metrics_port=9400"
  "cache-1|//cache_node:parley-cache-node|127.0.0.1:7501|--node_id=cache-1 --data_dir=${PARLEY_STATE}/data/cache-1 --coordinator=127.0.0.1:7400 --metrics_port=9501"
  "cache-2|//cache_node:parley-cache-node|127.0.0.1:7502|--node_id=cache-2 --data_dir=${PARLEY_STATE}/data/cache-2 --coordinator=127.0.0.1:7400 --metrics_port=9502"
  "cache-3|//cache_node:parley-cache-node|127.0.0.1:7503|--node_id=cache-3 --data_dir=${PARLEY_STATE}/data/cache-3 --coordinator=127.0.0.1:7400 --metrics_port=9503"
  "runtime-1|//services/runtime/server:parley-runtime|127.0.0.1:7601|--member_id=runtime-1 --group=default --coordinator=127.0.0.1:7400 --metrics_port=9601"
  "runtime-2|//services/runtime/server:parley-runtime|127.0.0.1:7602|--member_id=runtime-2 --group=default --coordinator=127.0.0.1:7400 --metrics_port=9602"
)

pid_file() { echo "${PARLEY_STATE}/pids/$1.pid"; }
log_file() { echo "${PARLEY_STATE}/logs/$1.log"; }

# The PID of a process `up` started and that still runs, or nothing.
running_pid() {
  local name=$1 binary=$2
  local file
  file=$(pid_file "${name}")
  [[ -f "${file}" ]] || return 1
  local pid
  pid=$(cat "${file}")
  [[ -n "${pid}" && -r "/proc/${pid}/cmdline" ]] || return 1
  # Only our own process, not whatever reused the PID.
  tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -q -- "${binary}" || return 1
  echo "${pid}"
}

binary_name() { echo "${1##*:}"; }

# TLS: `scripts/up --tls` runs the whole cluster over mutual TLS with a
# throwaway CA under .parley/tls; the marker file says the running cluster
# uses it, so status and the demo setup speak TLS too.
PARLEY_TLS_DIR="${PARLEY_STATE}/tls"
tls_enabled() { [[ -f "${PARLEY_TLS_DIR}/enabled" ]]; }

# Flags every server gets when TLS is on (one certificate, valid for
# 127.0.0.1 and localhost, serves as server and client certificate).
tls_server_flags() {
  tls_enabled || return 0
  echo "--tls_cert_file=${PARLEY_TLS_DIR}/node.pem --tls_key_file=${PARLEY_TLS_DIR}/node.key --tls_ca_file=${PARLEY_TLS_DIR}/ca.pem"
}

# The same for scripts/rpc and scripts/health_check.py.
tls_client_flags() {
  tls_enabled || return 0
  echo "--tls-ca ${PARLEY_TLS_DIR}/ca.pem --tls-cert ${PARLEY_TLS_DIR}/client.pem --tls-key ${PARLEY_TLS_DIR}/client.key"
}

# Makes the throwaway CA and the certificates (once; kept across runs).
make_tls_material() {
  local dir=${PARLEY_TLS_DIR}
  [[ -f "${dir}/node.pem" && -f "${dir}/client.pem" ]] && return 0
  mkdir -p "${dir}"
  (
    cd "${dir}"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
      -subj "/CN=Parley local CA" -keyout ca.key -out ca.pem 2>/dev/null
    for who in node client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=parley-${who}" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "${who}.key" -out "${who}.csr" 2>/dev/null
      openssl x509 -req -in "${who}.csr" -CA ca.pem -CAkey ca.key \
        -CAcreateserial -days 30 -copy_extensions copy -out "${who}.pem" \
        2>/dev/null
      rm -f "${who}.csr"
    done
  ) || die "openssl could not make the TLS material in ${dir}"
  log "made a throwaway CA and certificates in ${dir}"
}
