#!/usr/bin/env bash
# Prepares bench/gpu-kit/ here, for bench/gpu-machine.sh on a GPU machine that
# has no Node, no npm and no network (bench/README.md, "GPU"): this machine's
# `node` binary, the compiled TypeScript (dist/), the node_modules the GPU
# suite and benchmark load (onnxruntime-node with its linux-x64 binary only),
# and the Node-API headers kit (node-api-headers, node-addon-api) for
# building the addon there. One xz tarball, checked to stay under the 64 MiB
# a device run may carry.
#   bash bench/pack-gpu-kit.sh        (after `npm ci`; runs tsc first)
#   CUDA_LIBS_INCLUDE=DIR ...          where cublasLt.h and cudnn.h are (default .cuda/libs/include)
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=bench/gpu-kit
LIMIT_BYTES=$((60 * 1024 * 1024)) # under the carry limit, with room for the tree
npx tsc -p tsconfig.json

# What the suite and the benchmark require, found by loading them: every
# package under node_modules they pull in, plus the headers kit.
mapfile -t PACKAGES < <(node -e "
  const Module = require('module');
  const seen = new Set(['node-addon-api', 'node-api-headers']);
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    try {
      const file = Module._resolveFilename(request, parent, isMain);
      const at = file.lastIndexOf('node_modules/');
      if (at >= 0) {
        const parts = file.slice(at + 13).split('/');
        seen.add(parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0]);
      }
    } catch {}
    return load.apply(this, arguments);
  };
  require('./dist/common/logger.js').createLogger('silent');
  require('./dist/test/gpu/gpu-support.js');
  require('./dist/test/support/ort-cases.js');
  require('./dist/gateway/gpu-metrics.js');
  require('./dist/gateway/serving/model-service.js');
  require('./dist/gateway/catalog/filesystem.js');
  process.stdout.write([...seen].sort().join('\n') + '\n');
")
echo "packages: ${PACKAGES[*]}"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/node_modules" "$STAGE/bin"
cp "$(command -v node)" "$STAGE/bin/node"
cp -a dist "$STAGE/dist"
for p in "${PACKAGES[@]}"; do
  mkdir -p "$STAGE/node_modules/$(dirname "$p")"
  cp -a "node_modules/$p" "$STAGE/node_modules/$p"
done
# onnxruntime-node: only the binary for this platform (the others are 240 MiB).
if [ -d "$STAGE/node_modules/onnxruntime-node/bin" ]; then
  find "$STAGE/node_modules/onnxruntime-node/bin" -mindepth 3 -maxdepth 3 -type d ! -path '*/linux/x64' -exec rm -rf {} +
fi
# cuBLASLt and cuDNN headers (native/cuda/libs/ builds against them; the
# libraries themselves are opened at run time on the GPU machine).
LIBS_INCLUDE=${CUDA_LIBS_INCLUDE:-.cuda/libs/include}
if [ -f "$LIBS_INCLUDE/cublasLt.h" ] && [ -f "$LIBS_INCLUDE/cudnn.h" ]; then
  cp -a "$LIBS_INCLUDE" "$STAGE/cuda-libs-include"
else
  echo "WARNING: no cublasLt.h and cudnn.h in $LIBS_INCLUDE (set CUDA_LIBS_INCLUDE; .ci/cuda-toolkit.sh installs them)"
fi
echo "node $(node --version) $(node -p process.arch)" > "$STAGE/KIT"

rm -rf "$KIT"
mkdir -p "$KIT"
tar -C "$STAGE" -cf - . | xz -T2 -4 > "$KIT/kit.tar.xz"
SIZE=$(stat -c %s "$KIT/kit.tar.xz")
echo "wrote $KIT/kit.tar.xz: $((SIZE / 1024 / 1024)) MiB"
if [ "$SIZE" -gt "$LIMIT_BYTES" ]; then
  echo "the kit is over $((LIMIT_BYTES / 1024 / 1024)) MiB: it would not travel with a device run" >&2
  exit 1
fi
