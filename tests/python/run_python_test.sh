#!/bin/bash
# Runs a Python test under Debian's interpreter (its python3-grpcio lives
# there), from the runfiles tree.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 "$@"
