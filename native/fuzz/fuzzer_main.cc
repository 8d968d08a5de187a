// libFuzzer's entry point for one target; MAAS_FUZZ_ENTRY names the function of
// fuzz_targets.h it calls (set per executable in native/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  maas::fuzz::MAAS_FUZZ_ENTRY(data, size);
  return 0;  // libFuzzer reserves other values
}
