#!/usr/bin/env bash
# Run every test of the suite (pytest + Odoo's runner on a fresh database).
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
exec "${PYTHON:-python3}" tests/harness/run_tests.py "$@"
