#include "cpu/activation.h"

namespace maas {

namespace {

template <typename Fn>
void ApplyRow(float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Fn::Apply(y[i]);
}

}  // namespace

void ApplyActivation(const ActivationSpec& spec, float* y, int64_t n) {
  switch (spec.kind) {
    case Activation::kNone: return;
    case Activation::kRelu: ApplyRow<ReluFn>(y, n); return;
    case Activation::kSigmoid: ApplyRow<SigmoidFn>(y, n); return;
    case Activation::kTanh: ApplyRow<TanhFn>(y, n); return;
  }
}

}  // namespace maas
