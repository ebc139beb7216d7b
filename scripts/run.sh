#!/usr/bin/env bash
# Quick start, command 1: install what is missing, load the demo city into the embedded
# SpatiaLite database (groundwork.sqlite) unless it already holds layers, and serve Groundwork on http://127.0.0.1:8000.
source "$(dirname "$0")/_setup.sh"
setup_groundwork
cd "$GW_ROOT"
export GROUNDWORK_DATABASE_URL=${GROUNDWORK_DATABASE_URL:-sqlite:///groundwork.sqlite}
.venv/bin/groundwork db upgrade
.venv/bin/groundwork demo --if-empty
_say "Groundwork is starting on http://${GROUNDWORK_HOST:-127.0.0.1}:${GROUNDWORK_PORT:-8000}  (Ctrl+C to stop)"
exec .venv/bin/groundwork serve --host "${GROUNDWORK_HOST:-127.0.0.1}" --port "${GROUNDWORK_PORT:-8000}"
