#!/usr/bin/env bash
# C++ lint (`npm run lint:native`): clang-format 19 must leave native/ unchanged
# (.clang-format) and clang-tidy 19 must find nothing (.clang-tidy, every check
# an error). clang-tidy reads the compile commands of a configure-only build in
# build-lint/ (engine, addon, tests, fuzzers; nothing is compiled).
#   usage: .ci/lint-native.sh           check
#          .ci/lint-native.sh --fix     apply clang-format (clang-tidy stays a check)
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/clang-tools.sh
mapfile -t files < <(git ls-files --cached --others --exclude-standard 'native/*.cc' 'native/*.h' 'native/*.cu' 'native/*.cuh')

if [ "${1:-}" = "--fix" ]; then
  clang-format-19 -i "${files[@]}"
  echo "clang-format: formatted ${#files[@]} files"
  exit 0
fi

echo "== clang-format (${#files[@]} files)"
clang-format-19 --dry-run --Werror "${files[@]}"

echo "== clang-tidy"
[ -d node_modules/cmake-js ] || { echo "lint-native: run npm ci (or npm install) first" >&2; exit 1; }
npx cmake-js configure --out build-lint --cxx clang++-19 --CDMAAS_BUILD_TESTS=ON --CDMAAS_FUZZ=ON \
  --CDMAAS_CPU_ONLY=ON --CDCMAKE_EXPORT_COMPILE_COMMANDS=ON >build-lint.log 2>&1 ||
  { cat build-lint.log >&2; exit 1; }
rm -f build-lint.log
log="build-lint/clang-tidy.log"
if run-clang-tidy-19 -p build-lint -j "${CMAKE_BUILD_PARALLEL_LEVEL:-2}" -quiet "$PWD/native/" >"$log" 2>&1; then
  echo "clang-tidy: no findings in $(grep -c '"file"' build-lint/compile_commands.json) translation units"
else
  grep -v -E '^(Running clang-tidy|[0-9]+ warnings? (and [0-9]+ errors? )?generated\.|Suppressed [0-9]+ warnings|Use -header-filter)' "$log" >&2
  echo "clang-tidy: findings above (.clang-tidy says why each check is on)" >&2
  exit 1
fi
