#!/usr/bin/env bash
# Builds build-asan/: the engine, the Node addon, the GoogleTest suite and the
# libFuzzer targets, all with clang 19, AddressSanitizer + UndefinedBehaviorSanitizer
# (CMake MAAS_SANITIZE) and the strict warnings as errors (MAAS_STRICT_WARNINGS).
# One build serves `npm run test:asan` and `npm run fuzz`. Incremental.
#   usage: .ci/build-sanitized.sh      (env: MAAS_SANITIZE, default address,undefined)
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/clang-tools.sh
[ -d node_modules/cmake-js ] || { echo "build-sanitized: run npm ci (or npm install) first" >&2; exit 1; }
npx cmake-js build --out build-asan --cxx clang++-19 --parallel "${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
  --CDMAAS_SANITIZE="${MAAS_SANITIZE:-address,undefined}" --CDMAAS_FUZZ=ON --CDMAAS_BUILD_TESTS=ON \
  --CDMAAS_CPU_ONLY=ON --CDMAAS_STRICT_WARNINGS=ON
[ -x build-asan/maas_tests ] || { echo "build-sanitized: no maas_tests (is GoogleTest installed? apt-get install libgtest-dev)" >&2; exit 1; }
