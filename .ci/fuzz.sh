#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time under ASan + UBSan (`npm run fuzz`).
#   usage: .ci/fuzz.sh [SECONDS]     (per target; default 60, env MAAS_FUZZ_SECONDS)
# Targets (native/fuzz/fuzz_targets.h): onnx_reader (the ONNX/protobuf reader),
# load_run (load, then one run on small feeds). Both run at once, one per core.
# The corpus starts from the seed models (native/fuzz/seeds.ts: the demo models
# and one small model per kernel family) plus every saved regression input, and
# grows in build-asan/fuzz/corpus/ across local runs.
# A crash leaves its input in build-asan/fuzz/artifacts/<target>/; once fixed,
# keep it as a regression input, replayed by the GoogleTest suite in every build:
#   cp build-asan/fuzz/artifacts/<target>/crash-<hash> native/fuzz/regressions/<target>/<what-it-broke>
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-${MAAS_FUZZ_SECONDS:-60}}"
TARGETS=(onnx_reader load_run)
bash .ci/build-sanitized.sh
[ -f dist/native/fuzz/seeds.js ] || npx tsc -p tsconfig.json

work="build-asan/fuzz"
rm -rf "$work/seeds" "$work/artifacts"
node dist/native/fuzz/seeds.js "$work/seeds" >/dev/null
pids=()
for target in "${TARGETS[@]}"; do
  corpus="$work/corpus/$target"
  mkdir -p "$corpus" "$work/artifacts/$target"
  cp "$work"/seeds/* "$corpus"/
  find "native/fuzz/regressions/$target" -type f -exec cp {} "$corpus"/ \;
  # max_len 16 KiB: the small seeds fit whole; mutating the 428 KiB demo MLP
  # whole would make each run slow (its prefix still exercises the reader).
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "build-asan/native/fuzz/maas_fuzz_$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=16384 \
    -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/$target/" "$corpus" >"$work/$target.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!TARGETS[@]}"; do
  target="${TARGETS[$i]}"
  if wait "${pids[$i]}"; then
    echo "fuzz $target: ${SECONDS_PER_TARGET}s, no crash; $(grep -E '^stat::number_of_executed_units' "$work/$target.log" | awk '{print $2}') runs, corpus $(ls "$work/corpus/$target" | wc -l) inputs"
  else
    status=1
    echo "fuzz $target: CRASH; input(s): $(ls "$work/artifacts/$target"/* 2>/dev/null | tr '\n' ' ')" >&2
    grep -E -A30 '==[0-9]+==ERROR|runtime error|engine contract broken|deadly signal' "$work/$target.log" | head -60 >&2
  fi
done
exit $status
