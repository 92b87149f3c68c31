# Sourced by the GPU-host scripts: unpacks what a device call carries (.debs/sysroot.tar.xz,
# data/bundle.tar.xz, data/tokenizers.tar.xz) once, sets LD_LIBRARY_PATH/PATH for the host's
# LibTorch and the sysroot, and defines `gpu_build BUILD_DIR TARGET...` (configure once, build).
sysroot=${ZETT_SYSROOT:-/tmp/zett-sysroot}
if [ ! -d "$sysroot/usr" ] && [ -f .debs/sysroot.tar.xz ]; then
  mkdir -p "$sysroot" && tar -C "$sysroot" -xJf .debs/sysroot.tar.xz
fi
# (No sysroot on a Debian machine: its system libraries serve; a GPU host needs one.)
if [ ! -d data/corpus/train ] && [ -f data/bundle.tar.xz ]; then tar -C data -xJf data/bundle.tar.xz; fi
if [ ! -d data/tokenizers ] && [ -f data/tokenizers.tar.xz ]; then tar -C data -xJf data/tokenizers.tar.xz; fi
torch_dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))') ||
  { echo "python3 has no torch" >&2; return 1; }
export LD_LIBRARY_PATH="$sysroot/usr/lib/x86_64-linux-gnu:$torch_dir/lib:$torch_dir/../nvidia/nccl/lib:${LD_LIBRARY_PATH:-}"
export PATH="/usr/local/cuda/bin:$sysroot/usr/bin:$PATH"
export NCCL_NVLS_ENABLE=${NCCL_NVLS_ENABLE:-0}

gpu_build() {
  local build=$1
  shift
  mkdir -p "$(dirname "$build")"
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DZETT_WITH_CUDA=ON \
      -DZETT_SYSROOT="$sysroot" -DZETT_TORCH_DIR="$torch_dir" > "$build.configure.log" 2>&1 ||
      { tail -20 "$build.configure.log" >&2; return 1; }
  fi
  cmake --build "$build" -j"$(nproc)" --target "$@" 2>&1 | grep -E "error|FAILED" || true
}
