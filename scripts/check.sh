#!/usr/bin/env bash
# The project's gates, in the order a failure is cheapest to read: lint, format, types, tests.
# Usage: scripts/check.sh [--fast] [pytest args...]   (after scripts/setup.sh --dev)
#   --fast skips the tests marked slow (long replays, fault drills, whole-stack runs): the tier to run while editing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=.venv/bin
tier=()
if [[ "${1:-}" == "--fast" ]]; then
  tier=(-m "not slow")
  shift
fi
echo "== ruff check";  "$bin/ruff" check .
echo "== ruff format"; "$bin/ruff" format --check .
echo "== mypy";        "$bin/mypy" && "$bin/mypy" bench && "$bin/mypy" tests
echo "== pytest";      "$bin/pytest" -q "${tier[@]}" "$@"
