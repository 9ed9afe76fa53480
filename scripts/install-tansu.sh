#!/usr/bin/env bash
# Installs what ferry's tests need on a Debian machine with only the Rust toolchain:
#   - the C build prerequisites of rdkafka's bundled librdkafka (and of tansu's native crates),
#     installed with apt-get only when missing;
#   - tansu 0.6.0, the Kafka-protocol broker the test bed runs (cargo install, about 8-9 minutes
#     on 2 cores, skipped when a tansu 0.6.0 binary is already there).
# Prints the path of the tansu binary on stdout (everything else goes to stderr), so callers can do
#   FERRY_TANSU="$(scripts/install-tansu.sh)"
# Honours FERRY_TANSU (a binary to use if it is 0.6.0) and CARGO_HOME.
set -euo pipefail

readonly TANSU_VERSION=0.6.0
readonly TANSU_FEATURES=dynostore,libsql
# make + a C (and C++) compiler + libc headers: librdkafka's configure/make, zstd, lz4, sqlite;
# libssl-dev + pkg-config: rdkafka's `ssl` feature (openssl-sys); zlib1g-dev: rdkafka's `libz`.
readonly BUILD_PACKAGES=(make gcc g++ libc6-dev pkg-config libssl-dev zlib1g-dev)

log() { echo "install-tansu: $*" >&2; }

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_home/bin/cargo" ]]; then
  PATH="$cargo_home/bin:$PATH"
fi

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "need root to run: $*"
    return 1
  fi
}

ensure_build_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    log "not a Debian system: make sure these (or equivalents) are installed: ${BUILD_PACKAGES[*]}"
    return 0
  fi
  local missing=() pkg
  for pkg in "${BUILD_PACKAGES[@]}"; do
    # `dpkg -s` also succeeds for removed packages whose config files remain; check the status.
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    log "build prerequisites present (${BUILD_PACKAGES[*]})"
    return 0
  fi
  log "installing missing build prerequisites: ${missing[*]}"
  as_root apt-get update >&2
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}" >&2
}

# Succeeds when $1 is an executable that reports version $TANSU_VERSION.
is_wanted_tansu() {
  [[ -n "$1" && -x "$1" ]] || return 1
  local version
  version="$("$1" --version 2>/dev/null || true)"
  [[ " $version " == *[[:space:]]"$TANSU_VERSION"[[:space:]]* ]]
}

find_tansu() {
  local candidate
  for candidate in "${FERRY_TANSU:-}" "$(command -v tansu 2>/dev/null || true)" \
    "$cargo_home/bin/tansu"; do
    if is_wanted_tansu "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_build_packages

if tansu="$(find_tansu)"; then
  log "tansu $TANSU_VERSION already installed: $tansu"
else
  if ! command -v cargo >/dev/null 2>&1; then
    log "cargo not found (looked on PATH and in $cargo_home/bin)"
    exit 1
  fi
  log "installing tansu $TANSU_VERSION with cargo (takes several minutes)"
  cargo install tansu --version "$TANSU_VERSION" --locked --features "$TANSU_FEATURES" >&2
  tansu="$cargo_home/bin/tansu"
  if ! is_wanted_tansu "$tansu"; then
    log "after cargo install, $tansu does not report version $TANSU_VERSION"
    exit 1
  fi
fi
echo "$tansu"
