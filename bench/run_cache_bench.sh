#!/bin/bash
# Benchmarks the cache tier next to Redis, on this machine, in one run:
#   1. installs what is missing (redis-server, redis-tools and the build's
#      packages) and builds cache_bench and the servers with -c opt;
#   2. starts a redis-server on 127.0.0.1 (no persistence);
#   3. for each of --rounds rounds (default 3): starts a private
#      coordinator and three cache nodes (replication factor 3, write
#      quorum 2) on 127.0.0.1 with fresh data in a temp dir, runs
#      cache_bench (ping, ping_spread, get_unary, get_unary_ping_node,
#      ping_pipelined, get_pipelined, put_unary, put_unary_ping_node,
#      put_pipelined: a warm-up, then a fixed time each), stops the tier, and runs redis-benchmark SET and GET with
#      the same value size and concurrency;
#   4. stops everything it started and prints the figures and the ratios
#      (taken within each round; median over the rounds) with their
#      targets, also written (markdown, with the machine and the command)
#      to bench/results/latest.md.
# It is a benchmark, not a test: it exits 0 when the measurements ran,
# whether or not the targets are met (unless --strict).
#
# usage: bench/run_cache_bench.sh [--duration SECONDS] [--warmup SECONDS]
#          [--concurrency N] [--value_bytes N] [--keys N] [--rounds N]
#          [--partitions N] [--results FILE] [--skip_build] [--strict]
#          [--keep]
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "${BENCH_DIR}/../scripts/lib.sh"

COMMAND_LINE="bench/run_cache_bench.sh${*:+ $*}"
DURATION=10
WARMUP=2
CONCURRENCY=32
VALUE_BYTES=1024
KEYS=10000
ROUNDS=3
PARTITIONS=256
RESULTS="${PARLEY_ROOT}/bench/results/latest.md"
SKIP_BUILD=0
STRICT=0
KEEP=0

# shellcheck source=bench/options.sh
source "${BENCH_DIR}/options.sh"

while (($# > 0)); do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --value_bytes) VALUE_BYTES=$2; shift 2 ;;
    --keys) KEYS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --partitions) PARTITIONS=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --skip_build) SKIP_BUILD=1; shift ;;
    --strict) STRICT=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
require_whole_numbers "${DURATION}" "${WARMUP}" "${CONCURRENCY}" \
    "${VALUE_BYTES}" "${KEYS}" "${ROUNDS}" "${PARTITIONS}"
((DURATION > 0 && CONCURRENCY > 0 && VALUE_BYTES > 0 && KEYS > 0 &&
  ROUNDS > 0)) ||
  die "--duration, --concurrency, --value_bytes, --keys and --rounds must be positive"

# ------------------------------------------------------------ packages

redis_installed() {
  dpkg-query -W -f='${Status}' redis-server 2>/dev/null |
    grep -q 'install ok installed'
}
had_redis=0
redis_installed && had_redis=1
PARLEY_PACKAGES+=(redis-server redis-tools python3)
ensure_packages
# Installing redis-server starts Debian's own redis service (port 6379)
# where no init system prevents it; this run needs only the binary, so
# stop the service that the install just started.
if ((had_redis == 0)) && [[ -s /run/redis/redis-server.pid ]]; then
  service_pid=$(cat /run/redis/redis-server.pid)
  if [[ -r "/proc/${service_pid}/cmdline" ]] &&
      tr '\0' ' ' <"/proc/${service_pid}/cmdline" | grep -q redis-server; then
    log "stopping the redis-server service the install started (pid ${service_pid})"
    kill -TERM "${service_pid}" 2>/dev/null || true
  fi
fi
for tool in redis-server redis-cli redis-benchmark python3; do
  command -v "${tool}" >/dev/null || die "${tool} is missing after install"
done

# ------------------------------------------------------------ build

TARGETS=(//bench:cache_bench //services/coordinator:parley-coordinator
  //cache_node:parley-cache-node)
WORK=$(mktemp -d /tmp/parley-bench.XXXXXX)
mkdir -p "${WORK}"/{bin,logs,data}
# shellcheck source=bench/processes.sh
source "${BENCH_DIR}/processes.sh"
build_binaries

# ------------------------------------------------------------ processes


# ------------------------------------------------------------ Redis

# Started once; idle (and its keys kept) while the tier runs.
REDIS_PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
log "starting redis-server on 127.0.0.1:${REDIS_PORT} (no persistence)"
start redis redis-server --bind 127.0.0.1 --port "${REDIS_PORT}" \
  --save '' --appendonly no --daemonize no --dir "${WORK}/data" \
  --protected-mode yes
for _ in $(seq 1 100); do
  if [[ "$(redis-cli -h 127.0.0.1 -p "${REDIS_PORT}" ping 2>/dev/null)" == \
      PONG ]]; then
    break
  fi
  sleep 0.1
done
[[ "$(redis-cli -h 127.0.0.1 -p "${REDIS_PORT}" ping 2>/dev/null)" == PONG ]] ||
  die "redis-server did not answer; log: ${WORK}/logs/redis.log"
REDIS_VERSION=$(redis-server --version | head -n 1)

# Runs redis-benchmark for one command with N requests, CSV on stdout.
redis_bench() {
  local test=$1 requests=$2
  timeout $((3 * DURATION + 60)) redis-benchmark -h 127.0.0.1 \
    -p "${REDIS_PORT}" -t "${test}" -d "${VALUE_BYTES}" -c "${CONCURRENCY}" \
    -r "${KEYS}" -n "${requests}" --csv
}

# The rps column of redis-benchmark's CSV.
csv_rps() {
  python3 -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(int(float(rows[0]["rps"])))' "$1"
}

# Warm-up and calibration: how many requests take about DURATION seconds.
log "calibrating redis-benchmark"
redis_bench set 50000 >"${WORK}/redis_calibrate_set.csv"
redis_bench get 50000 >"${WORK}/redis_calibrate_get.csv"
SET_N=$(($(csv_rps "${WORK}/redis_calibrate_set.csv") * DURATION))
GET_N=$(($(csv_rps "${WORK}/redis_calibrate_get.csv") * DURATION))

# ------------------------------------------------------------ rounds

# One round: a fresh tier (coordinator and three nodes, new data), every
# cache_bench mode, the tier stopped, then Redis SET and GET. Ratios are
# taken within a round; the report gives their median over the rounds.
run_round() {
  local round=$1
  local dir="${WORK}/round${round}"
  local n coordinator server_pids
  mkdir -p "${dir}"
  log "round ${round}/${ROUNDS}: starting a coordinator and three cache nodes"
  start "coordinator-${round}" "${WORK}/bin/parley-coordinator" \
    --listen=127.0.0.1:0 --port_file="${dir}/coordinator.port" \
    --data_dir="${dir}/coordinator" --partitions="${PARTITIONS}"
  coordinator="127.0.0.1:$(wait_port "coordinator-${round}" \
    "${dir}/coordinator.port")"
  for n in 1 2 3; do
    start "node${n}-${round}" "${WORK}/bin/parley-cache-node" \
      --listen=127.0.0.1:0 --port_file="${dir}/node${n}.port" \
      --node_id="bench-${n}" --data_dir="${dir}/node${n}" \
      --coordinator="${coordinator}" --shutdown_grace_seconds=3
  done
  for n in 1 2 3; do
    wait_port "node${n}-${round}" "${dir}/node${n}.port" >/dev/null
  done
  timeout 120 "${WORK}/bin/cache_bench" --coordinator="${coordinator}" \
    --expect_nodes=3 --ready_timeout_seconds=90 --wait_only ||
    die "the tier did not become ready; logs in ${WORK}/logs"

  server_pids="coordinator=$(pid_of "coordinator-${round}")"
  for n in 1 2 3; do
    server_pids+=",node${n}=$(pid_of "node${n}-${round}")"
  done
  BENCH_ARGS=(--coordinator="${coordinator}" --duration_seconds="${DURATION}"
    --warmup_seconds="${WARMUP}" --concurrency="${CONCURRENCY}"
    --value_bytes="${VALUE_BYTES}" --keys="${KEYS}"
    --server_pids="${server_pids}")
  log "round ${round}/${ROUNDS}: cache_bench, 9 modes of ${WARMUP} s warm-up + ${DURATION} s"
  timeout $((9 * (DURATION + WARMUP) + 300)) "${WORK}/bin/cache_bench" \
    "${BENCH_ARGS[@]}" >"${dir}/cache_bench.jsonl" ||
    die "cache_bench failed; logs in ${WORK}/logs"

  # Stop the tier before Redis runs, so that its flushes and compactions
  # do not take CPU from Redis.
  for n in 3 2 1; do
    kill -TERM "$(pid_of "node${n}-${round}")" 2>/dev/null || true
  done
  for n in 3 2 1; do
    stop "node${n}-${round}"
  done
  stop "coordinator-${round}"

  log "round ${round}/${ROUNDS}: redis-benchmark SET, GET (~${DURATION} s each)"
  redis_bench set "${SET_N}" >"${dir}/redis_set.csv"
  redis_bench get "${GET_N}" >"${dir}/redis_get.csv"
}

BENCH_ARGS=()
ROUND_DIRS=()
for ((round = 1; round <= ROUNDS; round++)); do
  run_round "${round}"
  ROUND_DIRS+=(--round "${WORK}/round${round}")
done

# ------------------------------------------------------------ report

mkdir -p "$(dirname "${RESULTS}")"
report_args=(
  "${ROUND_DIRS[@]}"
  --markdown "${RESULTS}"
  --command "${COMMAND_LINE}"
  --bench_command "cache_bench ${BENCH_ARGS[*]} (last round)"
  --redis_command "redis-benchmark -h 127.0.0.1 -p PORT -t get|set -d ${VALUE_BYTES} -c ${CONCURRENCY} -r ${KEYS} -n ${GET_N}|${SET_N} --csv"
  --fact "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  --fact "commit=$(commit)"
  --fact "cpus=$(nproc)"
  --fact "cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  --fact "memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  --fact "kernel=$(uname -sr)"
  --fact "redis=${REDIS_VERSION}"
  --fact "build=bazel -c opt"
  --fact "rounds=${ROUNDS} (each: fresh tier, 9 modes, then Redis; ${WARMUP} s warm-up + ${DURATION} s per mode)"
  --fact "tier=1 coordinator + 3 cache nodes, ${PARTITIONS} partitions, replication factor 3, write quorum 2, all on 127.0.0.1"
)
((STRICT == 1)) && report_args+=(--strict)
python3 "${BENCH_DIR}/format_results.py" "${report_args[@]}"
log "results written to ${RESULTS}"
