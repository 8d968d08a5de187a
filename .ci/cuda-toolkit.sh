#!/usr/bin/env bash
# Installs the CUDA 13.0 toolkit (nvcc, headers, static cudart) from PyPI's
# NVIDIA wheels into DIR/toolkit, matching the GPU machines' CUDA 13.0, and
# the cuBLAS/cuBLASLt and cuDNN headers (only their include/ folders, read
# out of the wheels by .ci/wheel-headers.py) into DIR/libs/include, where
# CMake finds them (MAAS_CUDA_LIBS_INCLUDE). The libraries themselves are
# loaded at run time when present (native/cuda/libs/), so no build needs them.
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
if [ ! -f "$dir/libs/include/cublasLt.h" ] || [ ! -f "$dir/libs/include/cudnn.h" ]; then
  python3 "$(dirname "$0")/wheel-headers.py" nvidia-cublas 13.0.2.14 "$dir/libs/include"
  python3 "$(dirname "$0")/wheel-headers.py" nvidia-cudnn-cu13 9.13.1.26 "$dir/libs/include"
fi
