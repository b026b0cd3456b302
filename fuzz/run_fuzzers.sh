#!/bin/bash
# Builds and runs Parley's libFuzzer targets (fuzz/BUILD.bazel; clang with
# ASan + UBSan, Debian's clang and libclang-rt-14-dev).
#
# Usage:
#   fuzz/run_fuzzers.sh --smoke [SECONDS]
#       Each target replays its seed corpus (fuzz/corpus/<target>) and the
#       reproducers in fuzz/regressions/<target>, then fuzzes for SECONDS
#       (default 10; less when the build left less of the
#       PARLEY_FUZZ_SMOKE_BUDGET, default 300 s). Exits non-zero if any
#       target crashes.
#   fuzz/run_fuzzers.sh --long SECONDS [TARGET...]
#       Fuzzes each target (default: all) for SECONDS, keeping what it finds
#       in a corpus under the cache directory, so runs build on each other;
#       the figures in docs/reliability.md come from this.
#   fuzz/run_fuzzers.sh --regressions
#       Replays fuzz/regressions/ without the known-issue suppressions and
#       says which reproducers still fail (non-zero exit if any does).
#   fuzz/run_fuzzers.sh --make-seeds
#       Rewrites the generated seeds in fuzz/corpus/ (seed_generator.cc).
#   fuzz/run_fuzzers.sh --build
#       Only builds the targets.
#
# Every run prints one line per target:
#   fuzz <target>: N runs, cov X, ft Y, corpus FILES/SIZE (K files kept),
#     crashes C
# (cov: code edges covered, ft: libFuzzer features; corpus: the inputs
# libFuzzer holds at the end, then the files in the working corpus).
#
# The build uses an output base of its own (not the main gcc build's):
#   PARLEY_FUZZ_CACHE   default ${XDG_CACHE_HOME:-$HOME/.cache}/parley-fuzz
# holding output_base/ (Bazel), corpus/ (--long) and runs/ (logs and crash
# inputs of the latest run). A cold build takes several minutes; later
# builds only recompile what changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${ROOT}/scripts/lib.sh"

# What the fuzz build needs beyond the project's packages: clang, its
# sanitizer and libFuzzer runtimes, the lld linker and llvm-symbolizer.
PARLEY_PACKAGES+=(clang libclang-rt-14-dev lld-14 llvm-14)

TARGETS=(
  expression_fuzzer
  channel_json_fuzzer
  channel_proto_fuzzer
  profile_loader_fuzzer
  engine_fuzzer
  coordinator_fuzzer
  cache_node_fuzzer
  history_fuzzer
)

CACHE="${PARLEY_FUZZ_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/parley-fuzz}"
OUTPUT_BASE="${CACHE}/output_base"
FUZZ="${ROOT}/fuzz"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

fuzz_bazel() {
  (cd "${ROOT}" && bazel --output_base="${OUTPUT_BASE}" \
    --bazelrc="${FUZZ}/fuzz.bazelrc" "$@")
}

BIN=""
build() {
  local started=${SECONDS}
  log "building the fuzz targets (clang, ASan + UBSan) in ${OUTPUT_BASE}"
  fuzz_bazel build --config=fuzz //fuzz:all_fuzzers 2>&1 |
    grep -E --line-buffered '^(ERROR|FAILED|INFO: Elapsed|fuzz/.*error)' >&2 ||
    true
  if ((PIPESTATUS[0] != 0)); then
    die "the fuzz build failed (see above)"
  fi
  BIN="$(fuzz_bazel info --config=fuzz bazel-bin 2>/dev/null)/fuzz"
  log "fuzz build took $((SECONDS - started)) s"
}

# Sanitizer settings: every report is fatal. With "yes", the open bugs of
# fuzz/regressions/README.md are tolerated (UBSan suppressions in
# fuzz/known_issues.supp, PARLEY_FUZZ_KNOWN_ISSUES for the targets' checks)
# so that they do not hide new ones.
sanitizer_env() {
  local suppress=$1
  local symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
  export ASAN_SYMBOLIZER_PATH="${symbolizer}"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
  UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
  UBSAN_OPTIONS+=":external_symbolizer_path=${symbolizer}"
  if [[ "${suppress}" == yes ]]; then
    UBSAN_OPTIONS+=":suppressions=${FUZZ}/known_issues.supp"
    # The targets' own checks for the same open bugs (fuzz_support.h).
    export PARLEY_FUZZ_KNOWN_ISSUES=all
  else
    unset PARLEY_FUZZ_KNOWN_ISSUES
  fi
  export UBSAN_OPTIONS
}

dict_for() {
  case "$1" in
    expression_fuzzer) echo "-dict=${FUZZ}/dict/expression.dict" ;;
    channel_json_fuzzer) echo "-dict=${FUZZ}/dict/channel.dict" ;;
    profile_loader_fuzzer) echo "-dict=${FUZZ}/dict/csv.dict" ;;
  esac
}

# The value of "name: N" in the last libFuzzer status line of a log.
status_value() {
  local value
  value=$(grep -E '^#[0-9]+' "$2" | tail -1 | grep -oE "$1: [0-9]+" |
    grep -oE '[0-9]+' || true)
  echo "${value:-0}"
}

# Fuzzes one target. Arguments: target, seconds, working corpus directory
# (new inputs go there), then read-only corpus directories. Prints the
# summary line; returns non-zero on a crash.
run_target() {
  local target=$1 seconds=$2 corpus=$3
  shift 3
  local extra=()
  local dir
  for dir in "$@"; do
    [[ -d "${dir}" ]] && extra+=("${dir}")
  done
  local logs="${RUN_DIR}/${target}"
  mkdir -p "${corpus}" "${logs}"
  local status=0
  # shellcheck disable=SC2046  # dict_for prints zero or one argument.
  "${BIN}/${target}" -max_total_time="${seconds}" -timeout=25 \
    -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="${logs}/" \
    $(dict_for "${target}") "${corpus}" "${extra[@]}" \
    >"${logs}/log.txt" 2>&1 || status=$?
  local log_file="${logs}/log.txt" runs cov ft files crashes=0
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "${log_file}" |
    tail -1)
  [[ -n "${runs}" ]] ||
    runs=$(grep -oE '^#[0-9]+' "${log_file}" | tail -1 | tr -d '#' || true)
  runs=${runs:-0}
  cov=$(status_value cov "${log_file}")
  ft=$(status_value ft "${log_file}")
  files=$(find "${corpus}" -type f | wc -l)
  # The corpus libFuzzer kept in memory: "corp: FILES/SIZE".
  local corp
  corp=$(grep -E '^#[0-9]+' "${log_file}" | tail -1 |
    grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' | cut -d' ' -f2 || true)
  if ((status != 0)); then
    crashes=1
  fi
  echo "fuzz ${target}: ${runs} runs, cov ${cov}, ft ${ft}," \
    "corpus ${corp:-0} (${files} files kept), crashes ${crashes}"
  if ((crashes)); then
    {
      echo "---- ${target} failed (exit ${status}); log: ${logs}/log.txt"
      grep -E -A30 'ERROR: |runtime error|fuzz check failed' "${logs}/log.txt" |
        head -60
      find "${logs}" -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' | sed 's/^/input: /'
    } >&2
    return 1
  fi
}

smoke() {
  local seconds=${1:-10}
  [[ "${seconds}" =~ ^[0-9]+$ ]] || usage
  local started=${SECONDS} failed=0 target work
  build
  # Within PARLEY_FUZZ_SMOKE_BUDGET seconds in all (build included) when it
  # can be: after a cold build only the seeds and regressions are replayed
  # (about 3 s per target go to start-up and seeds).
  local budget=${PARLEY_FUZZ_SMOKE_BUDGET:-300}
  local left=$((budget - (SECONDS - started)))
  local fit=$((left / ${#TARGETS[@]} - 3))
  if ((fit < seconds)); then
    seconds=$((fit > 1 ? fit : 1))
    log "the build took $((SECONDS - started)) s: fuzzing ${seconds} s per" \
      "target to stay within ${budget} s"
  fi
  sanitizer_env yes
  work="$(mktemp -d)"
  for target in "${TARGETS[@]}"; do
    # The seeds are read-only inputs; what the run adds is thrown away.
    run_target "${target}" "${seconds}" "${work}/${target}" \
      "${FUZZ}/corpus/${target}" "${FUZZ}/regressions/${target}" ||
      failed=$((failed + 1))
  done
  rm -rf "${work}"
  log "fuzz smoke run: ${#TARGETS[@]} targets, ${failed} crashed," \
    "$((SECONDS - started)) s in all"
  if [[ "${CI:-}" == "true" ]]; then
    # Keep the output base (the next run on this machine is warm), but not
    # an idle server.
    fuzz_bazel shutdown >/dev/null 2>&1 || true
  fi
  ((failed == 0))
}

long() {
  local seconds=${1:-}
  [[ "${seconds}" =~ ^[0-9]+$ ]] || usage
  shift
  local targets=("$@")
  ((${#targets[@]})) || targets=("${TARGETS[@]}")
  local failed=0 target
  build
  sanitizer_env yes
  for target in "${targets[@]}"; do
    log "fuzzing ${target} for ${seconds} s"
    run_target "${target}" "${seconds}" "${CACHE}/corpus/${target}" \
      "${FUZZ}/corpus/${target}" "${FUZZ}/regressions/${target}" ||
      failed=$((failed + 1))
    grep -E '^stat::' "${RUN_DIR}/${target}/log.txt" | sed 's/^/  /' || true
    echo "  corpus: $(find "${CACHE}/corpus/${target}" -type f | wc -l) files," \
      "$(du -sb "${CACHE}/corpus/${target}" | cut -f1) bytes in" \
      "${CACHE}/corpus/${target}"
  done
  ((failed == 0))
}

regressions() {
  local found=0 target input
  build
  sanitizer_env no
  for target in "${TARGETS[@]}"; do
    [[ -d "${FUZZ}/regressions/${target}" ]] || continue
    for input in "${FUZZ}/regressions/${target}"/*; do
      [[ -f "${input}" && "${input}" != *.md ]] || continue
      if "${BIN}/${target}" "${input}" >"${RUN_DIR}/replay.txt" 2>&1; then
        echo "regression ${target}/$(basename "${input}"): passes (fixed)"
      else
        found=$((found + 1))
        echo "regression ${target}/$(basename "${input}"): still fails:" \
          "$(grep -m1 -E 'runtime error|ERROR: |fuzz check failed' \
            "${RUN_DIR}/replay.txt" | cut -c1-200)"
      fi
    done
  done
  ((found == 0))
}

make_seeds() {
  build
  "${BIN}/seed_generator" "${FUZZ}/corpus"
  log "wrote the generated seeds under ${FUZZ}/corpus"
}

(($# > 0)) || usage
ensure_packages
mkdir -p "${CACHE}"
RUN_DIR="${CACHE}/runs/latest"
rm -rf "${RUN_DIR}"
mkdir -p "${RUN_DIR}"

case "$1" in
  --smoke) shift; smoke "$@" ;;
  --long) shift; long "$@" ;;
  --regressions) regressions ;;
  --make-seeds) make_seeds ;;
  --build) build ;;
  *) usage ;;
esac
