#!/usr/bin/env bash
# The engine under AddressSanitizer + UndefinedBehaviorSanitizer (`npm run test:asan`):
#   1. the GoogleTest suite (ctest in build-asan/; leaks are reported too);
#   2. the JS engine tests (every engine-ort* suite: engine vs onnxruntime,
#      about 15 s unsanitized; engine API, addon memory)
#      in a Node.js that preloads clang's ASan runtime and loads the sanitized
#      addon through MAAS_ADDON_PATH. Node itself is not instrumented, so its
#      leaks at exit are not reported (detect_leaks=0).
# Any sanitizer report fails the run.
#   usage: .ci/test-asan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/build-sanitized.sh

echo "== GoogleTest suite, sanitized"
(cd build-asan && ctest --output-on-failure -j "${CMAKE_BUILD_PARALLEL_LEVEL:-2}")

echo "== JS engine tests against the sanitized addon"
npx tsc -p tsconfig.json
ASAN_RUNTIME="$(clang++-19 -print-file-name=libclang_rt.asan-x86_64.so)"
LD_PRELOAD="$ASAN_RUNTIME" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  MAAS_ADDON_PATH="build-asan/Release/maas_addon.node" \
  node --test --test-concurrency=1 \
  dist/test/engine-ort*.test.js dist/native/test/engine_api.test.js dist/native/test/addon-memory.test.js
