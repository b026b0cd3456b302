#!/bin/bash
# Runs tests/parleyctl_test.py under Debian's interpreter (its python3-grpcio
# lives there), from the runfiles tree.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 tests/parleyctl_test.py "$@"
