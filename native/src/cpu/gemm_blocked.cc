// The blocked SGEMM driver, in the Goto/BLIS style:
//   for each kNc-wide column block of C
//     for each depth slice of k (at most kKc): pack B's slice into nr-wide strips
//       (or take it from a pre-packed B), then tasks over
//       (kMc-row block of A) x (group of B strips); each task packs its A
//       block into mr-row strips (or takes a pre-packed A) and runs the
//       register-tiled micro-kernel over every (strip, A strip) pair, B's
//       strip staying in L1 while A's strips stream from L2.
// A GemmBSource may leave strips whose rows already lie in memory unpacked:
// the indirect micro-kernel reads them in place through a row table.
// The epilogue (bias, row bias, Relu) runs inside the micro-kernel on the
// last depth slice; other activations right after, on the tile just written.
#include <algorithm>

#include "cpu/activation.h"
#include "cpu/gemm_internal.h"

namespace maas {
namespace gemm {
namespace {

// A task packs its A block itself unless A is pre-packed; a group narrower
// than this many strips would spend too much of its time doing so.
constexpr int64_t kMinStripsPerGroup = 4;
// Tasks per thread: enough to even out blocks of unequal cost.
constexpr int64_t kTasksPerThread = 4;

thread_local AlignedFloats tls_a_pack;
thread_local AlignedFloats tls_b_pack;

// Unpacked fallback for when scratch memory cannot be had.
void NaiveBlock(const MatrixView& a, const MatrixView& b, int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t p0,
                int64_t p1, float alpha, float beta, float* c, int64_t ldc) {
  for (int64_t i = i0; i < i1; ++i)
    for (int64_t j = j0; j < j1; ++j) {
      float sum = 0.0f;
      for (int64_t p = p0; p < p1; ++p) sum += a.at(i, p) * b.at(p, j);
      float& out = c[i * ldc + j];
      out = alpha * sum + (beta != 0.0f ? beta * out : 0.0f);
    }
}

struct SliceTask {
  const IsaKernels& kernels;
  const SgemmArgs& args;
  const MatrixView& a;
  const MatrixView& b;
  const PackedA* packed_a;
  int64_t jc, nc, pc, kc, slice, k_slices;
  int64_t groups, strips_per_group, strips;
  float beta_now;
  bool last_slice;
  const float* b_pack;          // null: no scratch, use NaiveBlock
  const GemmBSource* in_place;  // strips it has a base for are read in place, not from b_pack

  const float* InPlaceBase(int64_t j) const {
    return in_place ? in_place->strip_base(in_place->context, j, kernels.nr) : nullptr;
  }

  void Run(int64_t task0, int64_t task1) const {
    const SgemmShape& s = args.shape;
    const GemmEpilogue* epilogue = args.epilogue;
    const bool relu_in_tile = epilogue && epilogue->activation.kind == Activation::kRelu;
    const bool act_after_tile = epilogue && !relu_in_tile && epilogue->activation.kind != Activation::kNone;
    const int mr = kernels.mr, nr = kernels.nr;
    float* a_scratch = packed_a ? nullptr : tls_a_pack.Reserve(static_cast<size_t>(kMc * kc));
    int64_t packed_block = -1;
    for (int64_t task = task0; task < task1; ++task) {
      const int64_t block = task / groups, group = task % groups;
      const int64_t i0 = block * kMc;
      const int64_t mc = std::min(kMc, s.m - i0);
      const int64_t t0 = group * strips_per_group;
      const int64_t t1 = std::min(strips, t0 + strips_per_group);
      const float* a_pack;
      if (packed_a) {
        a_pack = packed_a->data.data() + packed_a->offsets[block * k_slices + slice];
      } else if (a_scratch && b_pack) {
        if (block != packed_block) {
          PackA(a, i0, mc, pc, kc, mr, a_scratch);
          packed_block = block;
        }
        a_pack = a_scratch;
      } else {
        const int64_t j0 = jc + t0 * nr, j1 = std::min(s.n, jc + t1 * nr);
        NaiveBlock(a, b, i0, i0 + mc, j0, j1, pc, pc + kc, args.alpha, beta_now, args.c, s.ldc);
        if (last_slice) ApplyEpilogue(epilogue, args.c, s.ldc, i0, i0 + mc, j0, j1);
        continue;
      }
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t j = jc + t * nr;
        const int cols = static_cast<int>(std::min<int64_t>(nr, nc - t * nr));
        const float* b_strip = b_pack + t * kc * nr;
        const float* b_base = InPlaceBase(j);
        for (int64_t ir = 0; ir < mc; ir += mr) {
          const int rows = static_cast<int>(std::min<int64_t>(mr, mc - ir));
          float* c_tile = args.c + (i0 + ir) * s.ldc + j;
          TileEpilogue tile;
          if (last_slice && epilogue) {
            tile.bias = epilogue->bias ? epilogue->bias + j : nullptr;
            tile.row_bias = epilogue->row_bias ? epilogue->row_bias + i0 + ir : nullptr;
            tile.relu = relu_in_tile;
          }
          if (b_base) {
            kernels.micro_indirect[rows - 1](kc, a_pack + ir * kc, b_base, in_place->row_offsets + pc, c_tile, s.ldc,
                                             args.alpha, beta_now, cols, tile);
          } else {
            kernels.micro[rows - 1](kc, a_pack + ir * kc, b_strip, c_tile, s.ldc, args.alpha, beta_now, cols, tile);
          }
          if (last_slice && act_after_tile)
            for (int r = 0; r < rows; ++r) ApplyActivation(epilogue->activation, c_tile + r * s.ldc, cols);
        }
      }
    }
  }
};

}  // namespace

bool GemmBlocked(const IsaKernels& kernels, const SgemmArgs& args, const MatrixView& a, const MatrixView& b,
                 ThreadPool* pool, const PackedA* packed_a, const PackedB* packed_b) {
  const SgemmShape& s = args.shape;
  const int nr = kernels.nr;
  const int64_t threads = pool ? pool->num_threads() : 1;
  const int64_t m_blocks = (s.m + kMc - 1) / kMc;
  const int64_t depth_step = DepthStep(s.k);
  const int64_t k_slices = (s.k + depth_step - 1) / depth_step;
  for (int64_t jc = 0; jc < s.n; jc += kNc) {
    const int64_t nc = std::min(kNc, s.n - jc);
    const int64_t strips = (nc + nr - 1) / nr;
    // Split B's strips into groups only as far as needed to feed every thread.
    const int64_t max_groups = packed_a ? strips : std::max<int64_t>(1, strips / kMinStripsPerGroup);
    int64_t groups = std::min(max_groups, (kTasksPerThread * threads + m_blocks - 1) / m_blocks);
    groups = std::max<int64_t>(1, threads == 1 ? 1 : groups);
    const int64_t strips_per_group = (strips + groups - 1) / groups;
    groups = (strips + strips_per_group - 1) / strips_per_group;

    for (int64_t pc = 0, slice = 0; pc < s.k; pc += depth_step, ++slice) {
      const int64_t kc = std::min(depth_step, s.k - pc);
      const float* b_pack = nullptr;
      if (packed_b) {
        b_pack = packed_b->data.data() + packed_b->offsets[(jc / kNc) * k_slices + slice];
      } else if (float* scratch = tls_b_pack.Reserve(static_cast<size_t>(strips * nr * kc))) {
        const GemmBSource* source = args.b_source;
        RunParallel(pool, strips, std::max<int64_t>(1, 16384 / (kc * nr)), [&](int64_t t0, int64_t t1) {
          if (!source) return PackBStrips(b, pc, kc, jc, nc, nr, t0, t1, scratch);
          for (int64_t t = t0; t < t1; ++t)  // strips read in place need no packing
            if (!source->strip_base || !source->strip_base(source->context, jc + t * nr, nr))
              source->pack(source->context, pc, kc, jc, nc, nr, t, t + 1, scratch);
        });
        b_pack = scratch;
      } else if (args.b_source) {
        return false;  // no B to fall back on
      }
      const SliceTask task{kernels,
                           args,
                           a,
                           b,
                           b_pack ? packed_a : nullptr,
                           jc,
                           nc,
                           pc,
                           kc,
                           slice,
                           k_slices,
                           groups,
                           strips_per_group,
                           strips,
                           pc == 0 ? args.beta : 1.0f,  // later slices accumulate
                           pc + kc >= s.k,
                           b_pack,
                           b_pack && args.b_source && args.b_source->strip_base ? args.b_source : nullptr};
      RunParallel(pool, m_blocks * groups, 1, [&](int64_t t0, int64_t t1) { task.Run(t0, t1); });
    }
  }
  return true;
}

}  // namespace gemm
}  // namespace maas
