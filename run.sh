#!/usr/bin/env bash
# Run the product: demo database with the three addons on http://localhost:8069 (admin / admin).
set -euo pipefail
cd "$(dirname "$0")"
exec "${PYTHON:-python3}" tests/harness/run_demo.py "$@"
