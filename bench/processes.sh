# Binaries and background processes of a benchmark run, shared by
# run_cache_bench.sh, run_runtime_bench.sh and run_soak.sh (sourced after
# scripts/lib.sh). The sourcing script sets WORK (binaries go to
# ${WORK}/bin, logs to ${WORK}/logs), KEEP (1: keep ${WORK} on exit),
# TARGETS and SKIP_BUILD.
# Everything start() started is stopped on exit, in reverse order.
# shellcheck shell=bash

PIDS=()
NAMES=()
cleanup() {
  local status=$?
  local i
  # Stop in reverse start order, gracefully first, by PID.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    if [[ -n "${PIDS[$i]}" ]]; then
      kill -TERM "${PIDS[$i]}" 2>/dev/null || true
    fi
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop "${NAMES[$i]}"
  done
  if ((status != 0 || KEEP == 1)); then
    log "logs and data kept in ${WORK}"
  else
    rm -rf "${WORK}"
  fi
  exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops a process start() started: SIGTERM, then SIGKILL after 10 s.
stop() {
  local name=$1 i pid
  for i in "${!NAMES[@]}"; do
    [[ "${NAMES[$i]}" == "${name}" && -n "${PIDS[$i]}" ]] || continue
    pid=${PIDS[$i]}
    kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      log "${name} (pid ${pid}) did not stop in 10 s; killing it"
      kill -KILL "${pid}" 2>/dev/null || true
    fi
    wait "${pid}" 2>/dev/null || true
    PIDS[i]=""
  done
}

# Starts a process in the background, logging to logs/NAME.log.
start() {
  local name=$1
  shift
  "$@" >"${WORK}/logs/${name}.log" 2>&1 </dev/null &
  PIDS+=($!)
  NAMES+=("${name}")
}

# Waits for a --port_file and prints the port.
wait_port() {
  local name=$1 file=$2 seconds=${3:-30}
  for _ in $(seq 1 $((seconds * 10))); do
    if [[ -s "${file}" ]]; then
      cat "${file}"
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "${WORK}/logs/${name}.log" >&2 || true
  die "${name} did not report its port in ${seconds} s; log: ${WORK}/logs/${name}.log"
}


# The PID of a process start() started (empty once stopped).
pid_of() {
  local i
  for i in "${!NAMES[@]}"; do
    if [[ "${NAMES[$i]}" == "$1" ]]; then
      echo "${PIDS[$i]}"
    fi
  done
}

# The checked-out commit, read from .git without running git.
commit() {
  local git_dir="${PARLEY_ROOT}/.git" head ref
  [[ -f "${git_dir}/HEAD" ]] || { echo unknown; return; }
  head=$(cat "${git_dir}/HEAD")
  if [[ "${head}" == ref:* ]]; then
    ref=${head#ref: }
    if [[ -f "${git_dir}/${ref}" ]]; then
      cat "${git_dir}/${ref}"
    elif [[ -f "${git_dir}/packed-refs" ]]; then
      awk -v ref="${ref}" '$2 == ref { print $1 }' "${git_dir}/packed-refs"
    else
      echo unknown
    fi
  else
    echo "${head}"
  fi
}

# C++ and proto files changed (not committed) in the working tree outside
# bench/, which the build includes.
local_changes() {
  local changed
  changed=$(git -C "${PARLEY_ROOT}" --no-optional-locks status --porcelain \
    --untracked-files=no 2>/dev/null | awk '{ print $NF }' |
    grep -E '\.(cc|h|proto)$' | grep -v '^bench/' | tr '\n' ' ' || true)
  echo "${changed:-none}"
}

# Builds TARGETS with -c opt (unless SKIP_BUILD is 1) and copies the
# binaries to ${WORK}/bin: the run uses copies, so builds by others during
# the run change nothing.
build_binaries() {
  if ((SKIP_BUILD == 0)); then
    log "building ${TARGETS[*]} (-c opt)"
    bazel_in_root build -c opt "${TARGETS[@]}" 2>&1 |
      grep -E '^(ERROR|INFO: Elapsed)' >&2 || true
  fi
  local bin_dir target package built
  bin_dir=$(bazel_in_root info -c opt bazel-bin 2>/dev/null)
  for target in "${TARGETS[@]}"; do
    package=${target#//}
    package=${package%%:*}
    built="${bin_dir}/${package}/${target##*:}"
    [[ -x "${built}" ]] || die "${built} is missing: the build of ${target} failed"
    cp "${built}" "${WORK}/bin/"
  done
}

# Waits until a server's grpc.health.v1 check says SERVING.
wait_serving() {
  local name=$1 address=$2
  for _ in $(seq 1 120); do
    if /usr/bin/python3 "${PARLEY_ROOT}/scripts/health_check.py" \
        "${address}" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  tail -n 20 "${WORK}/logs/${name}.log" >&2 || true
  die "${name} at ${address} did not become SERVING in 60 s; log: ${WORK}/logs/${name}.log"
}
