#!/usr/bin/env bash
# Installs the C++ tools of the lint, sanitizer and fuzz jobs from Debian's
# packages: clang 19 (compiler, ASan/UBSan runtimes, libFuzzer), clang-tidy 19
# and clang-format 19. One pinned major version: clang-format's output and
# clang-tidy's findings change between releases.
# Idempotent and quiet: exits at once when everything is there; fails loudly
# when something cannot be installed.
#   usage: .ci/clang-tools.sh
set -euo pipefail

LLVM=19
RUNTIME_PROBE="libclang_rt.asan-x86_64.so"

missing=()
command -v "clang++-$LLVM" >/dev/null 2>&1 || missing+=("clang-$LLVM")
command -v "clang-tidy-$LLVM" >/dev/null 2>&1 || missing+=("clang-tidy-$LLVM")
command -v "clang-format-$LLVM" >/dev/null 2>&1 || missing+=("clang-format-$LLVM")
if ! command -v "clang++-$LLVM" >/dev/null 2>&1 || [ ! -e "$("clang++-$LLVM" -print-file-name=$RUNTIME_PROBE)" ]; then
  missing+=("libclang-rt-$LLVM-dev")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "clang-tools: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
log="$(mktemp -t clang-tools.XXXXXX.log)"
echo "clang-tools: installing ${missing[*]} from Debian"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
  echo "clang-tools: apt-get could not install ${missing[*]}:" >&2
  tail -20 "$log" >&2
  exit 1
fi
for tool in "clang++-$LLVM" "clang-tidy-$LLVM" "clang-format-$LLVM" "run-clang-tidy-$LLVM"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "clang-tools: $tool is still missing after the install" >&2; exit 1; }
done
[ -e "$("clang++-$LLVM" -print-file-name=$RUNTIME_PROBE)" ] || {
  echo "clang-tools: the sanitizer runtime $RUNTIME_PROBE is still missing" >&2
  exit 1
}
rm -f "$log"
