// What each libFuzzer target does with one input. Shared by the fuzzer
// executables (fuzzer_main.cc, built with -DMAAS_FUZZ=ON) and by the GoogleTest
// suite, which replays every input under native/fuzz/regressions/<target>/ in
// the ordinary build (native/test/fuzz_regressions_test.cc). A bug shows as a
// crash or a sanitizer report; an engine contract broken on a valid run aborts
// with a message (ContractViolation).
#pragma once
#include <cstddef>
#include <cstdint>

namespace maas {
namespace fuzz {

// The bytes as a serialized ONNX ModelProto through the reader (onnx::ParseModel).
void ReadModel(const uint8_t* data, size_t size_bytes);

// The bytes as a model through Session::Load; when it loads, one Run on small
// deterministic feeds (unknown dims become 2), checking the outputs' contract
// (count, dtype, buffer size) when the run succeeds.
void LoadAndRun(const uint8_t* data, size_t size_bytes);

// The largest feed LoadAndRun builds, in elements; larger inputs skip the run.
constexpr int64_t kMaxFeedElements = 1 << 16;

}  // namespace fuzz
}  // namespace maas
