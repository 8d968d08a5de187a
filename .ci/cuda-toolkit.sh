#!/usr/bin/env bash
# Installs the CUDA 13.0 toolkit (nvcc, headers, static cudart) from PyPI's
# NVIDIA wheels into DIR/toolkit, matching the GPU machines' CUDA 13.0.
# Usage: .ci/cuda-toolkit.sh DIR
set -euo pipefail
dir="${1:?usage: cuda-toolkit.sh DIR}"
if [ ! -x "$dir/toolkit/bin/nvcc" ]; then
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check --no-warn-script-location --target "$dir/site" \
    nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88 \
    nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85
  tree="$dir/site/nvidia/cu13"
  # nvcc and CMake expect lib64/ and an unversioned libcudart.so.
  ln -sfn lib "$tree/lib64"
  ln -sfn libcudart.so.13 "$tree/lib/libcudart.so"
  ln -sfn "$(cd "$tree" && pwd)" "$dir/toolkit"
fi
"$dir/toolkit/bin/nvcc" --version | tail -n 2
