#!/usr/bin/env bash
# The project's gates, in the order a failure is cheapest to read: lint, format, types, tests.
# Usage: scripts/check.sh [pytest args...]   (after scripts/setup.sh --dev)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=.venv/bin
echo "== ruff check";  "$bin/ruff" check .
echo "== ruff format"; "$bin/ruff" format --check .
echo "== mypy";        "$bin/mypy" && "$bin/mypy" bench
echo "== pytest";      "$bin/pytest" -q "$@"
