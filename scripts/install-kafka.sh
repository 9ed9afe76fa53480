#!/usr/bin/env bash
# Installs what ferry's tests, quickstart and benchmarks need on a Debian machine that has the Rust
# toolchain, Java and Maven, and starts nothing:
#   - the C build prerequisites of rdkafka's bundled librdkafka (apt-get, only when missing);
#   - the jars of pinned Apache Kafka releases (broker, perf tools, MirrorMaker 2) from Maven Central,
#     copied by `mvn dependency:copy-dependencies` (testbed/kafka/pom.xml) into
#     $FERRY_KAFKA_CACHE/VERSION/libs (default ~/.cache/ferry/kafka/VERSION/libs); a release whose
#     jars are already there is skipped.
#
#   scripts/install-kafka.sh            # the default release (4.3.1)
#   scripts/install-kafka.sh 3.9.1      # another pinned release; several may be named
#
# Prints the libs directory of the first release on stdout (everything else goes to stderr).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The releases the project pins. 4.4.0 is the newest broker on Maven Central, but its
# connect-mirror (MirrorMaker 2) is not served, so 4.3.1 is the newest release that resolves whole.
readonly DEFAULT_VERSION=4.3.1
readonly PINNED_VERSIONS=(4.3.1 3.9.1)
# make + a C (and C++) compiler + libc headers: librdkafka's configure/make, zstd, lz4;
# libssl-dev + pkg-config: rdkafka's `ssl` feature (openssl-sys); zlib1g-dev: rdkafka's `libz`.
readonly BUILD_PACKAGES=(make gcc g++ libc6-dev pkg-config libssl-dev zlib1g-dev)

log() { echo "install-kafka: $*" >&2; }
fail() {
  echo "install-kafka: $*" >&2
  exit 1
}

cache="${FERRY_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry/kafka}"

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
    log "build prerequisites present"
    return 0
  fi
  log "installing missing build prerequisites: ${missing[*]}"
  as_root apt-get update >&2
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}" >&2
}

ensure_java_and_maven() {
  local java="${FERRY_JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}"
  if ! command -v "$java" >/dev/null 2>&1; then
    fail "no Java found (looked for '$java'): the Kafka brokers of the test bed run on a JVM (17 or newer).
Install one (on Debian: apt-get install openjdk-17-jre-headless) or point JAVA_HOME or FERRY_JAVA at it, then run this again."
  fi
  if ! command -v mvn >/dev/null 2>&1; then
    fail "no Maven found (mvn is not on PATH): the Kafka jars are fetched from Maven Central with it.
Install it (on Debian: apt-get install maven), then run this again."
  fi
}

is_pinned() {
  local v
  for v in "${PINNED_VERSIONS[@]}"; do
    [[ "$v" == "$1" ]] && return 0
  done
  return 1
}

install_release() {
  local version="$1" dir="$cache/$1" libs="$cache/$1/libs"
  if [[ -f "$dir/complete" ]]; then
    log "Apache Kafka $version already installed: $libs"
    return 0
  fi
  is_pinned "$version" || log "warning: $version is not one of the pinned releases (${PINNED_VERSIONS[*]})"
  mkdir -p "$dir"
  local staging="$dir/libs.partial" mvn_log="$dir/mvn.log"
  rm -rf "$staging"
  local line_args=()
  [[ "$version" == 3.* ]] && line_args=(-Dkafka.line3)
  log "fetching Apache Kafka $version (broker, tools, MirrorMaker 2) from Maven Central"
  if ! mvn -B -f testbed/kafka/pom.xml dependency:copy-dependencies \
    -Dkafka.version="$version" "${line_args[@]}" -DincludeScope=runtime \
    -DoutputDirectory="$staging" >"$mvn_log" 2>&1; then
    rm -rf "$staging"
    fail "Maven could not fetch the jars of Apache Kafka $version.
$(grep -m 3 -E '^\[ERROR\]' "$mvn_log" || tail -n 5 "$mvn_log")
The whole Maven log is $mvn_log. If Maven Central could not be reached, run this again later; if an
artifact of $version is not served, pick another release (scripts/install-kafka.sh VERSION and
FERRY_KAFKA_VERSION=VERSION for the tests; the pinned ones are ${PINNED_VERSIONS[*]})."
  fi
  rm -rf "$libs"
  mv "$staging" "$libs"
  echo "$version" >"$dir/complete"
  log "Apache Kafka $version installed: $libs ($(ls "$libs" | wc -l) jars)"
}

ensure_build_packages
ensure_java_and_maven
versions=("$@")
((${#versions[@]} > 0)) || versions=("${FERRY_KAFKA_VERSION:-$DEFAULT_VERSION}")
for version in "${versions[@]}"; do
  install_release "$version"
done
echo "$cache/${versions[0]}/libs"
