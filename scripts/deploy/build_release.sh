#!/usr/bin/env bash
# Builds what the container image ships with the project's CMake build and lays it out under
# PREFIX: bin/zett-server, bin/zett-manifest, bin/zett-healthcheck, etc/server.flags (the
# base deployment's flags). deploy/Dockerfile runs this in its build stages; CI runs it on
# build/cmake before tests/deploy/prometheus_scrape_test.sh, which serves from the result.
#   usage: scripts/deploy/build_release.sh BUILD_DIR PREFIX [CMAKE_ARGS...]
# ZETT_RELEASE_PREBUILT=1 stages what BUILD_DIR already holds without running CMake (a build
# directory of another checkout, whose cache names another source tree).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR PREFIX [CMAKE_ARGS...]" >&2; exit 2; }
build=$1
prefix=$2
shift 2
if [ "${ZETT_RELEASE_PREBUILT:-0}" != 1 ]; then
  cmake -S . -B "$build" -G Ninja "$@" > /dev/null
  cmake --build "$build" -j"$(nproc)" --target zett-server zett-manifest
fi
install -D -m 0755 "$build/server/zett-server" "$prefix/bin/zett-server"
install -D -m 0755 "$build/server/zett-manifest" "$prefix/bin/zett-manifest"
install -D -m 0755 deploy/healthcheck.sh "$prefix/bin/zett-healthcheck"
install -D -m 0644 deploy/k8s/base/server.flags "$prefix/etc/server.flags"
echo "build_release: $prefix/bin: $(ls "$prefix/bin" | tr '\n' ' ')"
