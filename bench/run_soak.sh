#!/bin/bash
# Soaks a private cluster under a steady mixed session workload for a
# bounded time (about 15 minutes by default; outside CI):
#   1. installs what is missing (the build's packages, python3) and builds
#      soak_driver, the coordinator, the cache node and the runtime server
#      with -c opt (copies of the binaries are run);
#   2. starts a private coordinator, three cache nodes (replication factor
#      3, write quorum 2) and two runtime servers on 127.0.0.1 with fresh
#      data in a temp dir, each with a metrics endpoint; creates the server
#      group 'soak' (DISTRIBUTED sessions, --session_timeout, --near_cache
#      sessions per runtime server: the group's default 10000 unless
#      given); soak_driver
#      deploys the demo channel (deploy/demo/demo_channel.json) and loads
#      --customers profiles;
#   3. runs soak_driver for --warmup seconds (default 300: long enough for
#      the bounded buffers of this load to fill: the coordinator's
#      broadcast history in about 250 s, a cache node's first 64 MiB
#      memtable in about 290 s), then --duration
#      seconds (default 600): --concurrency visitors (16) keep --sessions
#      live sessions (1000), paced together at --rate calls per second
#      (400; an open loop, well below what two cores saturate at); each
#      visit is StartSession, GetOffers, PostEvent OfferShown, GetOffers,
#      PostEvent OfferAccepted or OfferRejected, GetOffers, EndSession
#      (--abandon of them leave without EndSession), each call to a random
#      runtime server, and an ended session is replaced by a new one;
#   4. every --interval seconds (10) samples calls per second, failed
#      calls, the interval's p50/p99 latency, the RSS (VmRSS) and CPU use of
#      every process, and a few metrics (RocksDB memtable and block cache,
#      near-cache sessions, the broadcast head); prints a line per sample;
#   5. stops everything it started (also on Ctrl-C or an error) and writes
#      the samples to bench/results/soak_latest.csv and a report with the
#      machine, the command, a table over time (a row every --md_every
#      seconds) and the RSS verdict per process to
#      bench/results/soak_latest.md. The target: RSS growth after warm-up
#      below 5% for every server process: (RSS at the end - RSS at the end
#      of the warm-up) / RSS at the end of the warm-up, or, for a process
#      whose RSS saw-tooths (a cache node flushing memtables), the growth of
#      the highest RSS of the second half of the measured time over that
#      of the first half.
# It exits 0 when the run completed, whether or not the target is met;
# with --strict, 1 when it is missed or any call failed.
#
# usage: bench/run_soak.sh [--duration SECONDS] [--warmup SECONDS]
#          [--interval SECONDS] [--concurrency N] [--rate CALLS_PER_SECOND]
#          [--sessions N] [--customers N] [--abandon FRACTION]
#          [--session_timeout SECONDS] [--near_cache ENTRIES]
#          [--md_every SECONDS]
#          [--results FILE.md] [--csv FILE.csv] [--skip_build] [--strict]
#          [--keep]
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "${BENCH_DIR}/../scripts/lib.sh"

COMMAND_LINE="bench/run_soak.sh${*:+ $*}"
DURATION=600
WARMUP=300
INTERVAL=10
CONCURRENCY=16
RATE=400
SESSIONS=1000
CUSTOMERS=2000
ABANDON=0.05
SESSION_TIMEOUT=60
NEAR_CACHE=""
MD_EVERY=60
RESULTS="${PARLEY_ROOT}/bench/results/soak_latest.md"
CSV="${PARLEY_ROOT}/bench/results/soak_latest.csv"
SKIP_BUILD=0
STRICT=0
KEEP=0

# shellcheck source=bench/options.sh
source "${BENCH_DIR}/options.sh"

while (($# > 0)); do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --sessions) SESSIONS=$2; shift 2 ;;
    --customers) CUSTOMERS=$2; shift 2 ;;
    --abandon) ABANDON=$2; shift 2 ;;
    --session_timeout) SESSION_TIMEOUT=$2; shift 2 ;;
    --near_cache) NEAR_CACHE=$2; shift 2 ;;
    --md_every) MD_EVERY=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --csv) CSV=$2; shift 2 ;;
    --skip_build) SKIP_BUILD=1; shift ;;
    --strict) STRICT=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
require_whole_numbers "${DURATION}" "${WARMUP}" "${INTERVAL}" "${CONCURRENCY}" \
    "${SESSIONS}" "${CUSTOMERS}" "${SESSION_TIMEOUT}" "${MD_EVERY}"
[[ -z "${NEAR_CACHE}" || "${NEAR_CACHE}" =~ ^[0-9]+$ ]] ||
  die "--near_cache '${NEAR_CACHE}' is not a whole number"
[[ "${RATE}" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--rate '${RATE}' is not a number"
[[ "${ABANDON}" =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] ||
  die "--abandon '${ABANDON}' is not a fraction in [0, 1]"
((DURATION > 0 && INTERVAL > 0 && CONCURRENCY > 0 && CUSTOMERS > 0 &&
  SESSIONS >= CONCURRENCY && SESSION_TIMEOUT > 0 && MD_EVERY > 0)) ||
  die "--duration, --interval, --concurrency, --customers, --session_timeout and --md_every must be positive, --sessions at least --concurrency"

# ------------------------------------------------------------ packages

PARLEY_PACKAGES+=(python3)
ensure_packages
[[ -x /usr/bin/python3 ]] || die "/usr/bin/python3 is missing"

# ------------------------------------------------------------ build

TARGETS=(//bench:soak_driver //services/coordinator:parley-coordinator
  //cache_node:parley-cache-node //services/runtime/server:parley-runtime)
WORK=$(mktemp -d /tmp/parley-soak.XXXXXX)
mkdir -p "${WORK}"/{bin,logs,data}
# shellcheck source=bench/processes.sh
source "${BENCH_DIR}/processes.sh"
build_binaries
cp "${PARLEY_ROOT}/deploy/demo/demo_channel.json" "${WORK}/"

# ------------------------------------------------------------ processes


LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
DATA="${WORK}/data"
log "starting a coordinator, three cache nodes and two runtime servers"
start coordinator "${WORK}/bin/parley-coordinator" \
  --listen=127.0.0.1:0 --port_file="${DATA}/coordinator.port" \
  --metrics_port=0 --metrics_port_file="${DATA}/coordinator.metrics" \
  --data_dir="${DATA}/coordinator"
COORDINATOR="127.0.0.1:$(wait_port coordinator "${DATA}/coordinator.port")"
for n in 1 2 3; do
  start "node${n}" "${WORK}/bin/parley-cache-node" \
    --listen=127.0.0.1:0 --port_file="${DATA}/node${n}.port" \
    --metrics_port=0 --metrics_port_file="${DATA}/node${n}.metrics" \
    --node_id="soak-${n}" --data_dir="${DATA}/node${n}" \
    --coordinator="${COORDINATOR}" --write_quorum=2 \
    --shutdown_grace_seconds=3
done
for n in 1 2; do
  # They wait for their group, and listen once it exists.
  start "runtime${n}" "${WORK}/bin/parley-runtime" \
    --listen=127.0.0.1:0 --port_file="${DATA}/runtime${n}.port" \
    --metrics_port=0 --metrics_port_file="${DATA}/runtime${n}.metrics" \
    --member_id="soak-runtime-${n}" --group=soak \
    --coordinator="${COORDINATOR}" --shutdown_grace_seconds=3
done
for n in 1 2 3; do
  wait_port "node${n}" "${DATA}/node${n}.port" >/dev/null
done
timeout --foreground 150 "${WORK}/bin/soak_driver" \
  --coordinator="${COORDINATOR}" \
  --group=soak --session_timeout_seconds="${SESSION_TIMEOUT}" \
  --near_cache_max_entries="${NEAR_CACHE:--1}" --expect_nodes=3 \
  --ready_timeout_seconds=120 --prepare_only \
  2>>"${WORK}/logs/soak_driver.log" ||
  die "the tier did not become ready or the group was not created; logs in ${WORK}/logs"
RUNTIMES=""
for n in 1 2; do
  port=$(wait_port "runtime${n}" "${DATA}/runtime${n}.port" 60)
  wait_serving "runtime${n}" "127.0.0.1:${port}"
  RUNTIMES+="${RUNTIMES:+,}127.0.0.1:${port}"
done

SERVER_PIDS="" METRICS_PORTS=""
for name in coordinator node1 node2 node3 runtime1 runtime2; do
  SERVER_PIDS+="${SERVER_PIDS:+,}${name}=$(pid_of "${name}")"
  METRICS_PORTS+="${METRICS_PORTS:+,}${name}=$(wait_port "${name}" \
    "${DATA}/${name}.metrics")"
done

# ------------------------------------------------------------ soak

DRIVER_ARGS=(--coordinator="${COORDINATOR}" --runtimes="${RUNTIMES}"
  --group=soak --demo_channel="${WORK}/demo_channel.json"
  --customers="${CUSTOMERS}" --sessions="${SESSIONS}"
  --concurrency="${CONCURRENCY}" --rate="${RATE}"
  --abandon_fraction="${ABANDON}" --warmup_seconds="${WARMUP}"
  --duration_seconds="${DURATION}" --interval_seconds="${INTERVAL}"
  --server_pids="${SERVER_PIDS}" --metrics_ports="${METRICS_PORTS}"
  --csv="${WORK}/soak.csv" --summary="${WORK}/summary.json")
log "soak: ${WARMUP} s warm-up + ${DURATION} s measured, a sample every ${INTERVAL} s (Ctrl-C stops everything)"
STARTED_AT=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
# In the background and waited for: bash runs the Ctrl-C trap (which stops
# everything) only once a foreground command has ended, but interrupts a
# wait at once.
timeout $((WARMUP + DURATION + 300)) "${WORK}/bin/soak_driver" \
  "${DRIVER_ARGS[@]}" 2> >(tee -a "${WORK}/logs/soak_driver.log" >&2) &
PIDS+=($!)
NAMES+=(soak_driver)
wait "$(pid_of soak_driver)" ||
  die "soak_driver failed; logs in ${WORK}/logs"
stop soak_driver
LOAD_AT_END=$(cut -d' ' -f1-3 /proc/loadavg)

# Stops the cluster now (the runtime servers first), so that the report
# can say whether every process was still running and stopped cleanly.
EXITED=""
for name in runtime2 runtime1 node3 node2 node1 coordinator; do
  kill -0 "$(pid_of "${name}")" 2>/dev/null || EXITED+="${EXITED:+, }${name}"
  stop "${name}"
done

# ------------------------------------------------------------ report


if awk -v rate="${RATE}" 'BEGIN { exit !(rate > 0) }'; then
  PACING="paced at ${RATE} calls/s (open loop)"
else
  PACING="closed loop (no pacing)"
fi
mkdir -p "$(dirname "${RESULTS}")" "$(dirname "${CSV}")"
cp "${WORK}/soak.csv" "${CSV}"
report_args=(
  --csv "${CSV}"
  --summary "${WORK}/summary.json"
  --markdown "${RESULTS}"
  --md_every "${MD_EVERY}"
  --near_cache "${NEAR_CACHE:-10000}"
  --command "${COMMAND_LINE}"
  --driver_command "soak_driver ${DRIVER_ARGS[*]}"
  --fact "date=${STARTED_AT} (start of the load)"
  --fact "commit=$(commit)"
  --fact "uncommitted changes built=$(local_changes)"
  --fact "cpus=$(nproc)"
  --fact "cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  --fact "memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  --fact "kernel=$(uname -sr)"
  --fact "load average (1, 5, 15 min)=${LOAD_AT_START} before the cluster started, ${LOAD_AT_END} at the end (the machine is shared: other builds and tests run on it)"
  --fact "build=bazel -c opt"
  --fact "cluster=1 coordinator + 3 cache nodes (replication factor 3, write quorum 2, 64 MiB block cache each) + 2 runtime servers (group 'soak', DISTRIBUTED sessions, session timeout ${SESSION_TIMEOUT} s, near cache ${NEAR_CACHE:-10000} sessions each), all on 127.0.0.1"
  --fact "workload=${CONCURRENCY} visitors, ${SESSIONS} live sessions over ${CUSTOMERS} profiles, ${PACING}; channel demo; visits of 7 calls (StartSession, GetOffers x3, PostEvent x2, EndSession), a fraction ${ABANDON} of them left without EndSession; each call to a random runtime server of 2"
  --fact "processes at the end=${EXITED:+exited early: }${EXITED:-all still running}"
)
((STRICT == 1)) && report_args+=(--strict)
/usr/bin/python3 "${BENCH_DIR}/format_soak_results.py" "${report_args[@]}"
log "results written to ${RESULTS} and ${CSV}"
