# Command-line helpers of the benchmark scripts (run_cache_bench.sh,
# run_runtime_bench.sh, run_soak.sh), sourced after scripts/lib.sh.
# shellcheck shell=bash

# Prints the comment at the top of the running script (its help).
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

# Stops with an error unless every argument is a whole number.
require_whole_numbers() {
  local number
  for number in "$@"; do
    [[ "${number}" =~ ^[0-9]+$ ]] || die "'${number}' is not a whole number"
  done
}
