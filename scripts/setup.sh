#!/usr/bin/env bash
# Install what liftbrain needs on Debian/Ubuntu, idempotently: PostgreSQL + dev headers, Mosquitto,
# TimescaleDB (built from Debian trixie's source package, cached), and the venv with the project.
# Usage: scripts/setup.sh [--dev]     (--dev also installs the test/lint extras)
# Runs as root (or with passwordless sudo). Safe to run again: each step is skipped when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LIFTBRAIN_VENV:-$ROOT/.venv}"
CACHE="${LIFTBRAIN_BUILD_CACHE:-/var/cache/liftbrain}"
EXTRAS=""
[[ "${1:-}" == "--dev" ]] && EXTRAS="[dev]"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || die "run as root (or install sudo)"
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

APT_UPDATED=""
apt_install() {
  # apt-get update once per run, and only when something is missing.
  if [[ -z "$APT_UPDATED" ]]; then
    log "apt-get update"
    $SUDO apt-get update -q >/dev/null
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  $SUDO apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

missing=()
dpkg_has() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# mosquitto-clients: mosquitto_pub/_sub, so a newcomer can publish a sample by hand (see the README).
for pkg in postgresql mosquitto mosquitto-clients python3-venv python3-dev build-essential cmake dpkg-dev libssl-dev; do
  dpkg_has "$pkg" || missing+=("$pkg")
done
[[ ${#missing[@]} -gt 0 ]] && apt_install "${missing[@]}"
# --dev: the browser the console's tests drive headless (Playwright uses it by path; no browser download).
if [[ -n "$EXTRAS" ]] && ! dpkg_has chromium; then apt_install chromium; fi

PG_MAJOR="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
[[ -n "$PG_MAJOR" ]] || die "no PostgreSQL server found under /usr/lib/postgresql"
dpkg_has "postgresql-server-dev-$PG_MAJOR" || apt_install "postgresql-server-dev-$PG_MAJOR"
PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
log "PostgreSQL $PG_MAJOR ($PG_CONFIG)"

# --- TimescaleDB: no binary package in bookworm; build trixie's source package (Apache-2 edition) ------------
pkglibdir="$("$PG_CONFIG" --pkglibdir)"
sharedir="$("$PG_CONFIG" --sharedir)"
if ls "$pkglibdir"/timescaledb-*.so >/dev/null 2>&1 && [[ -f "$sharedir/extension/timescaledb.control" ]]; then
  log "TimescaleDB already installed: $(ls "$pkglibdir"/timescaledb-[0-9]*.so | head -n 1 | xargs basename)"
else
  mirror="$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
            | grep -v security | head -n 1 | awk '{print $2}' || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  aptdir="$CACHE/apt-trixie-src"
  $SUDO mkdir -p "$aptdir/lists/partial" "$CACHE/timescaledb"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" \
    | $SUDO tee "$aptdir/sources.list" >/dev/null
  apt_opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
            -o "Dir::State::Lists=$aptdir/lists")
  log "fetching timescaledb source from Debian trixie ($mirror)"
  $SUDO apt-get "${apt_opts[@]}" update -q >/dev/null || die "could not read trixie's source index from $mirror"
  cd "$CACHE/timescaledb"
  if ! ls timescaledb_*.dsc >/dev/null 2>&1; then
    $SUDO apt-get "${apt_opts[@]}" source --download-only timescaledb >/dev/null \
      || die "apt-get source timescaledb failed (is trixie's source package still there?)"
  fi
  dsc="$(ls timescaledb_*.dsc | sort -V | tail -n 1)"
  src="$CACHE/timescaledb/src-${dsc%.dsc}"
  [[ -d "$src" ]] || $SUDO dpkg-source --no-check -x "$dsc" "$src" >/dev/null
  log "building TimescaleDB from $dsc (about a minute)"
  cd "$src"
  if ! { BUILD_FORCE_REMOVE=true $SUDO ./bootstrap -DCMAKE_BUILD_TYPE=Release -DAPACHE_ONLY=ON -DREGRESS_CHECKS=OFF \
          -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DUSE_TELEMETRY=OFF -DPG_CONFIG="$PG_CONFIG" \
        && $SUDO make -C build -j"$(nproc)" \
        && $SUDO make -C build install; } >"$CACHE/timescaledb/build.log" 2>&1; then
    tail -n 30 "$CACHE/timescaledb/build.log" >&2
    die "TimescaleDB build failed; full log: $CACHE/timescaledb/build.log"
  fi
  log "TimescaleDB installed into $pkglibdir"
fi

# --- the venv ----------------------------------------------------------------------------------------------
stamp="$VENV/.liftbrain-installed"
want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)$EXTRAS"
if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  log "venv up to date: $VENV"
else
  [[ -x "$VENV/bin/python" ]] || { log "creating venv $VENV"; python3 -m venv "$VENV"; }
  log "installing liftbrain$EXTRAS into $VENV"
  "$VENV/bin/pip" install -q -e "$ROOT$EXTRAS"
  echo "$want" >"$stamp"
fi
log "ready"
