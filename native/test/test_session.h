// Loading and running sessions in C++ tests.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "maas/engine.h"
#include "test_models.h"

namespace maas {

inline std::unique_ptr<Session> LoadSession(const std::string& bytes, const SessionOptions& options = {}) {
  std::unique_ptr<Session> session;
  Status status = Session::Load(Data(bytes), bytes.size(), options, &session);
  EXPECT_TRUE(status.ok()) << status.message();
  return session;
}

inline Status LoadStatus(const std::string& bytes, const SessionOptions& options = {}) {
  std::unique_ptr<Session> session;
  return Session::Load(Data(bytes), bytes.size(), options, &session);
}

// A float32 feed that owns its values (the tensor borrows them).
struct FloatFeed {
  std::string name;
  Shape shape;
  std::vector<float> values;
};

inline Status RunFloats(const Session& session, std::vector<FloatFeed>& feeds, std::vector<NamedTensor>* outputs) {
  std::vector<NamedTensor> named;
  for (FloatFeed& f : feeds)
    named.push_back({f.name, Tensor{DType::kFloat32, f.shape, Buffer::Borrow(f.values.data(), f.values.size() * 4)}});
  return session.Run(named, outputs);
}

inline std::vector<float> FloatsOf(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.num_elements());
}

inline std::vector<float> RandomFloats(size_t n, uint32_t seed, float low = -1.0f, float high = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace maas
