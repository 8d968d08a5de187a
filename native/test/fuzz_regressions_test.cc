// Replays every input the fuzzers ever broke the engine with (and the small
// models kept beside them) in the ordinary build, so a fixed crash stays fixed
// without clang or libFuzzer. Inputs live in native/fuzz/regressions/<target>/;
// .ci/fuzz.sh says how to add one.
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../fuzz/fuzz_targets.h"

namespace maas {
namespace {

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> files;
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return files;
  while (const dirent* entry = readdir(handle)) {
    const std::string name = entry->d_name;
    if (name.empty() || name[0] == '.') continue;
    files.push_back(dir + "/" + name);
  }
  closedir(handle);
  return files;
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void Replay(const std::string& target, void (*entry)(const uint8_t*, size_t)) {
  const std::vector<std::string> files = FilesIn(std::string(MAAS_FUZZ_REGRESSIONS_DIR) + "/" + target);
  ASSERT_FALSE(files.empty()) << "no inputs in native/fuzz/regressions/" << target;
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    const std::vector<uint8_t> bytes = ReadFile(path);
    entry(bytes.data(), bytes.size());  // a regression crashes or trips a sanitizer here
  }
}

TEST(FuzzRegressions, OnnxReader) { Replay("onnx_reader", fuzz::ReadModel); }
TEST(FuzzRegressions, LoadRun) { Replay("load_run", fuzz::LoadAndRun); }

}  // namespace
}  // namespace maas
