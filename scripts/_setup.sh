# Shared by scripts/run.sh and scripts/test.sh: install what is missing, idempotently.
# Usage: source scripts/_setup.sh; setup_groundwork [test]
set -euo pipefail

GW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

_say() { printf '\033[1;36m==>\033[0m %s\n' "$*" >&2; }
_die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

_apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"
    elif command -v sudo >/dev/null && [ -t 0 ]; then sudo="sudo"
    else _die "these system packages are missing: ${missing[*]}
Install them (as root) with:  apt-get install -y ${missing[*]}
then run this command again."
    fi
  fi
  command -v apt-get >/dev/null || _die "apt-get not found: install ${missing[*]} with your system's package manager."
  _say "installing system packages: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
    $sudo apt-get update -q >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  }
}

_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

setup_groundwork() {
  local with_tests=${1:-}
  local packages=(libsqlite3-mod-spatialite)
  local py
  py=$(_python) || { packages+=(python3 python3-venv); }
  if [ -n "$with_tests" ]; then
    packages+=(chromium fonts-dejavu-core wrk nginx-light)  # wrk, nginx: the peers harness smoke (tests/test_bench_peers.py)
    # PostGIS for the local PostgreSQL server the PostGIS tests use (CI: PostgreSQL 15).
    if command -v pg_lsclusters >/dev/null; then
      local version
      version=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1}')
      [ -n "$version" ] && packages+=("postgresql-${version}-postgis-3")
    fi
  fi
  _apt_install "${packages[@]}"
  py=$(_python) || _die "Python 3.11 or newer is required."
  if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then _apt_install python3-venv; fi

  cd "$GW_ROOT"
  if [ ! -x .venv/bin/python ]; then
    _say "creating the virtual environment in .venv"
    "$py" -m venv .venv
  fi
  local extras="" stamp=".venv/.groundwork-installed"
  [ -n "$with_tests" ] && extras="[test]" && stamp="$stamp-test"
  local digest
  digest=$(sha256sum pyproject.toml | cut -c1-16)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    _say "installing Python packages (first run takes a minute)"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".${extras}" >/dev/null
    echo "$digest" > "$stamp"
  fi
}
