#!/usr/bin/env bash
# On a GPU machine (no Node, no npm, no network), from the repository root:
# unpacks the kit bench/pack-gpu-kit.sh made (node, dist/, node_modules),
# builds the addon with the CUDA backend (CMake + Ninja + nvcc 13.0), then
# runs the GPU parity suite (test:gpu) and the GPU benchmark (bench:gpu).
# Results go to $OUT (or bench/results/gpu-machine/): build.log,
# test-gpu.txt (TAP), bench-gpu.txt (tables, then one JSON line), gpu.txt.
#   bash bench/gpu-machine.sh                 build, test, bench
#   bash bench/gpu-machine.sh --build-only    stop after the build
#   bash bench/gpu-machine.sh --configure-only  stop after CMake's configure (a quick rehearsal here)
#   bash bench/gpu-machine.sh --require-gpu   fail when no GPU is visible
# Env: CUDA_ROOT (default: the directory of nvcc on PATH, else /usr/local/cuda),
# MAAS_CMAKE_ARGS (extra CMake arguments), BUILD_JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RESULTS=${OUT:-$ROOT/bench/results/gpu-machine}
BUILD_ONLY=0
CONFIGURE_ONLY=0
REQUIRE_GPU=0
for arg in "$@"; do
  case $arg in
    --build-only) BUILD_ONLY=1 ;;
    --configure-only) CONFIGURE_ONLY=1 ;;
    --require-gpu) REQUIRE_GPU=1 ;;
    *) echo "unknown argument $arg" >&2 && exit 2 ;;
  esac
done
mkdir -p "$RESULTS"

# ---- the kit: node, dist/, node_modules ------------------------------------------
if [ ! -f bench/gpu-kit/kit.tar.xz ]; then
  echo "bench/gpu-kit/kit.tar.xz is missing: run bench/pack-gpu-kit.sh where npm works and carry bench/gpu-kit" >&2
  exit 1
fi
KIT=$ROOT/bench/gpu-kit/unpacked
rm -rf "$KIT" && mkdir -p "$KIT"
xz -dc bench/gpu-kit/kit.tar.xz | tar -C "$KIT" -xf -
rm -rf node_modules dist
ln -s "$KIT/node_modules" node_modules
ln -s "$KIT/dist" dist
export PATH="$KIT/bin:$PATH"
echo "kit: $(cat "$KIT/KIT"); node here: $(node --version)"

# ---- the build --------------------------------------------------------------------
if [ -z "${CUDA_ROOT:-}" ]; then
  if command -v nvcc > /dev/null; then CUDA_ROOT=$(dirname "$(dirname "$(command -v nvcc)")")
  else CUDA_ROOT=/usr/local/cuda; fi
fi
NVCC=$CUDA_ROOT/bin/nvcc
[ -x "$NVCC" ] || { echo "no nvcc at $NVCC (set CUDA_ROOT to the CUDA 13.0 toolkit)" >&2; exit 1; }
"$NVCC" --version | tail -2
"$NVCC" --version | grep -q "release 13\." || echo "WARNING: nvcc is not CUDA 13.x; the addon is built and tested with 13.0"
GENERATOR=()
command -v ninja > /dev/null && GENERATOR=(-G Ninja)
LIBS=()
[ -d "$KIT/cuda-libs-include" ] && LIBS=("-DMAAS_CUDA_LIBS_INCLUDE=$KIT/cuda-libs-include")
# What cmake-js would pass (CMakeLists.txt builds the addon when CMAKE_JS_VERSION is set).
# shellcheck disable=SC2086
cmake -S . -B build-cuda "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_JS_VERSION=gpu-kit -DCMAKE_JS_SRC= -DCMAKE_JS_LIB= \
  "-DCMAKE_JS_INC=$ROOT/node_modules/node-api-headers/include;$ROOT/node_modules/node-addon-api" \
  -DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION \
  "-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=$ROOT/build-cuda/Release" \
  "-DCMAKE_CUDA_COMPILER=$NVCC" "-DCUDAToolkit_ROOT=$CUDA_ROOT" -DMAAS_REQUIRE_CUDA=ON -DMAAS_BUILD_TESTS=OFF \
  "${LIBS[@]}" ${MAAS_CMAKE_ARGS:-} > "$RESULTS/build.log" 2>&1 || { tail -30 "$RESULTS/build.log"; exit 1; }
[ "$CONFIGURE_ONLY" = 1 ] && { grep "maas:" "$RESULTS/build.log"; echo "configured build-cuda (--configure-only)"; exit 0; }
cmake --build build-cuda -j "${BUILD_JOBS:-$(nproc)}" >> "$RESULTS/build.log" 2>&1 || { tail -40 "$RESULTS/build.log"; exit 1; }
export MAAS_ADDON_PATH=$ROOT/build-cuda/Release/maas_addon.node
node -e "const m = require(process.env.MAAS_ADDON_PATH); console.log('addon loads; devices:', JSON.stringify(m.devices(), null, 1))" | tee "$RESULTS/gpu.txt"
[ "$BUILD_ONLY" = 1 ] && { echo "built $MAAS_ADDON_PATH (--build-only)"; exit 0; }

# ---- test:gpu and bench:gpu ---------------------------------------------------------
command -v nvidia-smi > /dev/null && nvidia-smi >> "$RESULTS/gpu.txt" 2>&1 || true
GPUS=$(node -e "console.log(require(process.env.MAAS_ADDON_PATH).devices().length)")
if [ "$GPUS" = 0 ]; then
  echo "WARNING: the addon sees no GPU: the parity suite will report every test SKIPPED"
  [ "$REQUIRE_GPU" = 1 ] && exit 1
fi
STATUS=0
node --test --test-reporter=tap dist/test/gpu/parity.test.js dist/test/gpu/runtime.test.js > "$RESULTS/test-gpu.txt" 2>&1 || STATUS=$?
grep -E '^# (tests|pass|fail|skipped)' "$RESULTS/test-gpu.txt" || true
grep -E '^not ok|^    not ok' "$RESULTS/test-gpu.txt" | head -40 || true
node dist/bench/gpu.js --json > "$RESULTS/bench-gpu.txt" 2>&1 || STATUS=$?
grep -v '^{' "$RESULTS/bench-gpu.txt" || true
echo "results in $RESULTS (exit $STATUS)"
exit $STATUS
