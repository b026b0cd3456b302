#!/bin/bash
# Runs a Python test under Debian's interpreter (python3-yaml and
# python3-jsonschema live there), from the runfiles tree.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 "$@"
