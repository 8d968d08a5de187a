#!/usr/bin/env bash
# Installs the Python clients used by the wire-compatibility tests
# (test/compat/tritonclient_http.py, tritonclient_grpc.py): tritonclient[http,grpc] and numpy, into a
# project-local folder so nothing touches the system or user site-packages.
# Idempotent: when the packages already import from that folder it exits at once.
#   usage: .ci/install-compat.sh            (folder: .pyenv-compat/site)
#   env:   PYTHON (default python3), MAAS_COMPAT_PYTHONPATH (override the folder)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
TARGET="${MAAS_COMPAT_PYTHONPATH:-$PWD/.pyenv-compat/site}"
# Pinned so a new client release cannot change what "compatible" means under us.
TRITONCLIENT_VERSION="2.73.0"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "install-compat: '$PYTHON' not found; install Python 3.8+ or set PYTHON=/path/to/python3" >&2
  exit 1
fi

probe() {
  PYTHONPATH="$TARGET" PYTHONNOUSERSITE=1 "$PYTHON" -c \
    "import tritonclient, tritonclient.http, tritonclient.grpc, numpy, sys; from importlib.metadata import version; sys.exit(0 if version('tritonclient') == '$TRITONCLIENT_VERSION' else 1)" \
    >/dev/null 2>&1
}

if probe; then
  echo "install-compat: tritonclient[http,grpc]==$TRITONCLIENT_VERSION and numpy already in $TARGET"
  exit 0
fi

echo "install-compat: installing tritonclient[http,grpc]==$TRITONCLIENT_VERSION and numpy into $TARGET"
mkdir -p "$TARGET"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-input --upgrade \
  --target "$TARGET" "tritonclient[http,grpc]==$TRITONCLIENT_VERSION" numpy

if ! probe; then
  echo "install-compat: installed, but 'import tritonclient.http, tritonclient.grpc, numpy' still fails with PYTHONPATH=$TARGET" >&2
  exit 1
fi
echo "install-compat: done (use PYTHONPATH=$TARGET)"
