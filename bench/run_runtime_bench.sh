#!/bin/bash
# Benchmarks GetOffers on live DISTRIBUTED sessions next to the cache tier's
# Ping, on this machine, in one run:
#   1. installs what is missing (the build's packages, python3) and builds
#      runtime_bench, the coordinator, the cache node and the runtime server
#      with -c opt (copies of the binaries are run);
#   2. for each of --rounds rounds (default 3): starts a private coordinator,
#      three cache nodes (replication factor 3, write quorum 2) and two
#      runtime servers on 127.0.0.1 with fresh data in a temp dir, creates
#      the server group 'bench' (DISTRIBUTED sessions) through the
#      coordinator's CreateGroup, and runs runtime_bench: it deploys two
#      channels built from deploy/demo/demo_channel.json (100 and 10,000
#      treatment rules, the same ones matching), loads 2,000 profiles,
#      starts 2,000 sessions per channel, then runs ping, get_offers,
#      get_offers_many_rules, get_offers_sticky, get_offers_half_load,
#      get_offers_fixed_load and get_offers_serial (a warm-up, then a fixed
#      time each; concurrency 32; half load is an open loop paced at half of
#      get_offers' throughput, fixed load one paced at --fixed_load calls/s;
#      serial has one call in flight); then stops the cluster;
#   3. with --profile SECONDS (default 8; 0: none) and perf installed, in
#      the last round, records both runtime servers with perf (DWARF call
#      graphs) for that long during an extra get_offers run and an extra
#      get_offers_half_load run, and writes the top costs to
#      runtime_profile.txt next to the results;
#   4. stops everything it started and prints the figures and the targets
#      (ratios taken within each round; median over the rounds), also
#      written (markdown, with the machine and the command) to
#      bench/results/runtime_latest.md.
# It is a benchmark, not a test: it exits 0 when the measurements ran,
# whether or not the targets are met (unless --strict).
#
# usage: bench/run_runtime_bench.sh [--duration SECONDS] [--warmup SECONDS]
#          [--concurrency N] [--sessions N] [--customers N] [--rounds N]
#          [--base_rules N] [--many_rules N] [--partitions N]
#          [--fixed_load OPS_PER_SEC]
#          [--profile SECONDS] [--results FILE] [--skip_build] [--strict]
#          [--keep]
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "${BENCH_DIR}/../scripts/lib.sh"

COMMAND_LINE="bench/run_runtime_bench.sh${*:+ $*}"
DURATION=10
WARMUP=2
CONCURRENCY=32
SESSIONS=2000
CUSTOMERS=2000
ROUNDS=3
BASE_RULES=100
MANY_RULES=10000
PARTITIONS=256
FIXED_LOAD=1000
PROFILE=8
RESULTS="${PARLEY_ROOT}/bench/results/runtime_latest.md"
SKIP_BUILD=0
STRICT=0
KEEP=0
MODES="ping,get_offers,get_offers_many_rules,get_offers_sticky,get_offers_half_load,get_offers_fixed_load,get_offers_serial"
MODE_COUNT=7

# shellcheck source=bench/options.sh
source "${BENCH_DIR}/options.sh"

while (($# > 0)); do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --sessions) SESSIONS=$2; shift 2 ;;
    --customers) CUSTOMERS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --base_rules) BASE_RULES=$2; shift 2 ;;
    --many_rules) MANY_RULES=$2; shift 2 ;;
    --partitions) PARTITIONS=$2; shift 2 ;;
    --fixed_load) FIXED_LOAD=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --skip_build) SKIP_BUILD=1; shift ;;
    --strict) STRICT=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
require_whole_numbers "${DURATION}" "${WARMUP}" "${CONCURRENCY}" "${SESSIONS}" \
    "${CUSTOMERS}" "${ROUNDS}" "${BASE_RULES}" "${MANY_RULES}" \
    "${PARTITIONS}" "${PROFILE}" "${FIXED_LOAD}"
((DURATION > 0 && CONCURRENCY > 0 && SESSIONS >= CONCURRENCY &&
  CUSTOMERS > 0 && ROUNDS > 0 && BASE_RULES > 0 && MANY_RULES > 0 &&
  FIXED_LOAD > 0)) ||
  die "--duration, --concurrency, --customers, --rounds, --fixed_load and the rule counts must be positive, --sessions at least --concurrency"
RESULTS_DIR=$(dirname "${RESULTS}")
PROFILE_REPORT="${RESULTS_DIR}/runtime_profile.txt"

# ------------------------------------------------------------ packages

PARLEY_PACKAGES+=(python3)
ensure_packages
command -v python3 >/dev/null || die "python3 is missing after install"
[[ -x /usr/bin/python3 ]] || die "/usr/bin/python3 is missing"
if ((PROFILE > 0)) && ! command -v perf >/dev/null; then
  log "perf is not installed: no profile (install linux-perf for one)"
  PROFILE=0
fi

# ------------------------------------------------------------ build

TARGETS=(//bench:runtime_bench //services/coordinator:parley-coordinator
  //cache_node:parley-cache-node //services/runtime/server:parley-runtime)
WORK=$(mktemp -d /tmp/parley-runtime-bench.XXXXXX)
mkdir -p "${WORK}"/{bin,logs}
# shellcheck source=bench/processes.sh
source "${BENCH_DIR}/processes.sh"
build_binaries
cp "${PARLEY_ROOT}/deploy/demo/demo_channel.json" "${WORK}/"

# ------------------------------------------------------------ processes


# ------------------------------------------------------------ profile

# The first LINES lines of a perf report, flat, without unresolved
# addresses and empty trailing columns.
perf_top() {
  local data=$1 lines=$2
  shift 2
  perf report -i "${data}" --stdio -g none "$@" >"${data}.report" 2>/dev/null ||
    true
  awk -v max="${lines}" 'NF && !/^#/ {
      sub(/( +-)+ *$/, ""); sub(/ +$/, "")
      if ($NF ~ /^(0x)?[0-9a-f]+$/) next
      print; if (++n == max) exit
    }' "${data}.report"
}

# Profiles both runtime servers (perf record with DWARF call graphs, which
# also unwind Debian's libraries) for PROFILE seconds of one mode on the
# round's cluster (its sessions) and appends the top costs to
# PROFILE_REPORT.
profile_mode() {
  local dir=$1 mode=$2
  shift 2
  local r1 r2 bench_pid data="${dir}/perf-${mode}.data"
  r1=$(pid_of "runtime1-${ROUNDS}")
  r2=$(pid_of "runtime2-${ROUNDS}")
  log "profile: perf record of both runtime servers for ${PROFILE} s of ${mode}"
  timeout $((PROFILE + WARMUP + 120)) "${WORK}/bin/runtime_bench" \
    "${BENCH_ARGS[@]}" --nosetup --modes="${mode}" \
    --duration_seconds=$((PROFILE + 2)) "$@" \
    >"${dir}/profile-${mode}.jsonl" 2>"${WORK}/logs/profile-${mode}.log" &
  bench_pid=$!
  sleep $((WARMUP + 1))
  perf record --call-graph dwarf,16384 -F 499 -p "${r1},${r2}" \
    -o "${data}" -- sleep "${PROFILE}" >"${WORK}/logs/perf-${mode}.log" 2>&1 ||
    log "perf record failed; see ${WORK}/logs/perf-${mode}.log"
  wait "${bench_pid}" ||
    log "the profiled ${mode} run failed; see ${WORK}/logs/profile-${mode}.log"
  [[ -s "${data}" ]] || return 0
  {
    echo
    echo "# ${mode}"
    echo
    echo "The run while recorded (runtime_bench JSON line):"
    echo
    sed 's/^/    /' "${dir}/profile-${mode}.jsonl"
    echo
    echo "## ${mode}: self time by shared object"
    echo
    perf_top "${data}" 12 --no-children --sort dso
    echo
    echo "## ${mode}: self time by symbol (top 30)"
    echo
    perf_top "${data}" 30 --no-children --sort dso,symbol
    echo
    echo "## ${mode}: inclusive time (self + callees) by symbol, >= 1.5%"
    echo
    perf_top "${data}" 120 --children --sort symbol --percent-limit 1.5
  } >>"${PROFILE_REPORT}"
  rm -f "${data}" "${data}.report"
}

# Profiles get_offers and get_offers_half_load in the last round.
profile_round() {
  local dir=$1 rate
  rate=$(/usr/bin/python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(next((r["ops_per_sec"] for r in rows if r["mode"] == "get_offers"), 0) / 2)' \
    "${dir}/runtime_bench.jsonl")
  mkdir -p "$(dirname "${PROFILE_REPORT}")"
  {
    echo "# Profile of both runtime servers (bench/run_runtime_bench.sh)"
    echo
    echo "${COMMAND_LINE}; $(date -u '+%Y-%m-%d %H:%M:%S UTC'); last round."
    echo "perf record --call-graph dwarf,16384 -F 499 -p RUNTIME1,RUNTIME2 -- sleep ${PROFILE},"
    echo "during an extra run of each mode; percentages are of the samples of"
    echo "both servers (their CPU time)."
  } >"${PROFILE_REPORT}"
  profile_mode "${dir}" get_offers
  profile_mode "${dir}" get_offers_half_load --half_load_ops_per_sec="${rate}"
  log "profile written to ${PROFILE_REPORT}"
}

# ------------------------------------------------------------ rounds

# One round: a fresh cluster (coordinator, three cache nodes, two runtime
# servers, new data), the group, runtime_bench's setup and modes, the
# cluster stopped. Ratios are taken within a round; the report gives their
# median over the rounds.
run_round() {
  local round=$1
  local dir="${WORK}/round${round}"
  local n coordinator runtimes="" server_pids port
  mkdir -p "${dir}"
  log "round ${round}/${ROUNDS}: starting a coordinator, three cache nodes and two runtime servers"
  start "coordinator-${round}" "${WORK}/bin/parley-coordinator" \
    --listen=127.0.0.1:0 --port_file="${dir}/coordinator.port" \
    --data_dir="${dir}/coordinator" --partitions="${PARTITIONS}"
  coordinator="127.0.0.1:$(wait_port "coordinator-${round}" \
    "${dir}/coordinator.port")"
  for n in 1 2 3; do
    start "node${n}-${round}" "${WORK}/bin/parley-cache-node" \
      --listen=127.0.0.1:0 --port_file="${dir}/node${n}.port" \
      --node_id="bench-${n}" --data_dir="${dir}/node${n}" \
      --coordinator="${coordinator}" --write_quorum=2 \
      --shutdown_grace_seconds=3
  done
  for n in 1 2; do
    # They wait for their group, and listen once it exists.
    start "runtime${n}-${round}" "${WORK}/bin/parley-runtime" \
      --listen=127.0.0.1:0 --port_file="${dir}/runtime${n}.port" \
      --member_id="bench-runtime-${n}" --group=bench \
      --coordinator="${coordinator}" --shutdown_grace_seconds=3
  done
  for n in 1 2 3; do
    wait_port "node${n}-${round}" "${dir}/node${n}.port" >/dev/null
  done
  timeout 150 "${WORK}/bin/runtime_bench" --coordinator="${coordinator}" \
    --group=bench --expect_nodes=3 --ready_timeout_seconds=120 \
    --prepare_only 2>>"${WORK}/logs/runtime_bench-${round}.log" ||
    die "the tier did not become ready or the group was not created; logs in ${WORK}/logs"
  for n in 1 2; do
    port=$(wait_port "runtime${n}-${round}" "${dir}/runtime${n}.port" 60)
    wait_serving "runtime${n}-${round}" "127.0.0.1:${port}"
    runtimes+="${runtimes:+,}127.0.0.1:${port}"
  done

  server_pids="coordinator=$(pid_of "coordinator-${round}")"
  for n in 1 2 3; do
    server_pids+=",node${n}=$(pid_of "node${n}-${round}")"
  done
  for n in 1 2; do
    server_pids+=",runtime${n}=$(pid_of "runtime${n}-${round}")"
  done
  BENCH_ARGS=(--coordinator="${coordinator}" --runtimes="${runtimes}"
    --group=bench --demo_channel="${WORK}/demo_channel.json"
    --base_rules="${BASE_RULES}" --many_rules="${MANY_RULES}"
    --customers="${CUSTOMERS}" --sessions="${SESSIONS}"
    --concurrency="${CONCURRENCY}" --duration_seconds="${DURATION}"
    --warmup_seconds="${WARMUP}" --fixed_load_ops_per_sec="${FIXED_LOAD}"
    --server_pids="${server_pids}")
  log "round ${round}/${ROUNDS}: runtime_bench setup, then ${MODE_COUNT} modes of ${WARMUP} s warm-up + ${DURATION} s"
  timeout $((MODE_COUNT * (DURATION + WARMUP) + 400)) \
    "${WORK}/bin/runtime_bench" "${BENCH_ARGS[@]}" --modes="${MODES}" \
    >"${dir}/runtime_bench.jsonl" 2> >(tee -a "${WORK}/logs/runtime_bench-${round}.log" >&2) ||
    die "runtime_bench failed; logs in ${WORK}/logs"

  if ((round == ROUNDS && PROFILE > 0)); then
    profile_round "${dir}"
  fi

  for n in 2 1; do
    kill -TERM "$(pid_of "runtime${n}-${round}")" 2>/dev/null || true
  done
  for n in 2 1; do
    stop "runtime${n}-${round}"
  done
  for n in 3 2 1; do
    kill -TERM "$(pid_of "node${n}-${round}")" 2>/dev/null || true
  done
  for n in 3 2 1; do
    stop "node${n}-${round}"
  done
  stop "coordinator-${round}"
}

BENCH_ARGS=()
ROUND_DIRS=()
for ((round = 1; round <= ROUNDS; round++)); do
  run_round "${round}"
  ROUND_DIRS+=(--round "${WORK}/round${round}")
done

# ------------------------------------------------------------ report


mkdir -p "${RESULTS_DIR}"
report_args=(
  "${ROUND_DIRS[@]}"
  --markdown "${RESULTS}"
  --command "${COMMAND_LINE}"
  --bench_command "runtime_bench ${BENCH_ARGS[*]} --modes=${MODES} (last round)"
  --fact "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  --fact "commit=$(commit)"
  --fact "uncommitted changes built=$(local_changes)"
  --fact "cpus=$(nproc)"
  --fact "cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  --fact "memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  --fact "kernel=$(uname -sr)"
  --fact "build=bazel -c opt"
  --fact "rounds=${ROUNDS} (each: fresh cluster, setup, ${MODE_COUNT} modes of ${WARMUP} s warm-up + ${DURATION} s)"
  --fact "cluster=1 coordinator (${PARTITIONS} partitions) + 3 cache nodes (replication factor 3, write quorum 2) + 2 runtime servers (group 'bench', DISTRIBUTED sessions, 64 worker threads), all on 127.0.0.1"
  --fact "load=${SESSIONS} live sessions per channel over ${CUSTOMERS} profiles; concurrency ${CONCURRENCY}; fixed load ${FIXED_LOAD} calls/s; channels of ${BASE_RULES} and ${MANY_RULES} treatment rules"
)
if ((PROFILE > 0)) && [[ -s "${PROFILE_REPORT}" ]]; then
  report_args+=(--fact "profile=${PROFILE_REPORT#"${PARLEY_ROOT}/"} (perf, both runtime servers, ${PROFILE} s each of get_offers and get_offers_half_load, last round)")
fi
((STRICT == 1)) && report_args+=(--strict)
/usr/bin/python3 "${BENCH_DIR}/format_runtime_results.py" "${report_args[@]}"
log "results written to ${RESULTS}"
