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
