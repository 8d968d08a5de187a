// Pad's semantics, shared by its schema and every backend's kernel: where
// the pads come from per opset (attribute before 11, input after; opset 18's
// axes), the modes, and the output shape. Negative pads crop.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"

namespace maas {

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

Status ParsePadMode(const Attributes* attrs, PadMode* mode);

// Begin and end pads per axis of a rank-`rank` input: from the `pads`
// attribute (opset < 11) or the contents of the pads input, with the axes
// input (opset 18, may be null) naming the axes they apply to.
Status ResolvePads(const Attributes* attrs, int opset, int64_t rank, const Tensor* pads, const Tensor* axes,
                   StatusCode bad_code, std::vector<int64_t>* begin, std::vector<int64_t>* end);

// Output dims for `shape` and the pads; checks what the mode can do
// (reflect needs pads smaller than the dim, edge and reflect a non-empty dim).
// The source index of output index i along an axis of n elements padded by
// `begin` at its start; -1 for padding (constant mode). Inline and, in CUDA
// builds, callable from device code: the CPU and CUDA kernels share it.
#ifdef __CUDACC__
#define MAAS_PAD_HOST_DEVICE __host__ __device__
#else
#define MAAS_PAD_HOST_DEVICE
#endif
inline MAAS_PAD_HOST_DEVICE int64_t PadSourceIndex(PadMode mode, int64_t i, int64_t begin, int64_t n) {
  int64_t s = i - begin;
  if (s >= 0 && s < n) return s;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return s < 0 ? 0 : n - 1;
    case PadMode::kWrap: return ((s % n) + n) % n;
    case PadMode::kReflect:
      if (n == 1) return 0;
      while (s < 0 || s >= n) s = s < 0 ? -s : 2 * (n - 1) - s;
      return s;
  }
  return -1;
}
#undef MAAS_PAD_HOST_DEVICE

Status PaddedShape(PadMode mode, const Shape& shape, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                   StatusCode bad_code, Shape* out);

}  // namespace maas
