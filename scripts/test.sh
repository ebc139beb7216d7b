#!/usr/bin/env bash
# Quick start, command 2: install what is missing and run the whole test suite
# (lint and type check, then pytest on SpatiaLite, and on PostGIS when GROUNDWORK_TEST_POSTGRES_URL is set).
# Extra arguments go to pytest, e.g.  scripts/test.sh -k accounts
source "$(dirname "$0")/_setup.sh"
setup_groundwork test
cd "$GW_ROOT"
_say "ruff"
.venv/bin/ruff check .
_say "mypy"
.venv/bin/mypy app models routes
workers=$(nproc 2>/dev/null || echo 1)
parallel=()
[ "$workers" -gt 1 ] && parallel=(-n "$workers" --dist loadfile --no-loadscope-reorder)  # slowest files first: tests/conftest.py
_say "pytest (SpatiaLite${GROUNDWORK_TEST_POSTGRES_URL:+ and PostGIS})"
exec .venv/bin/pytest "${parallel[@]}" "$@"
