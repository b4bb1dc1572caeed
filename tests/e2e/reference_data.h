// The reference tensors kept in tests/data beside each model: "<model>.in.<tensor>.npy" (inputs) and
// "<model>.ort.<tensor>.npy" (ONNX Runtime's outputs).
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "edgeai/engine.h"
#include "tools/npy.h"

namespace edgeai::test {

inline const std::string& TestDataDir() {
  static const std::string dir = EDGEAI_TEST_DATA_DIR;
  return dir;
}

// kind: "in" or "ort".
inline NamedTensors ReadReferenceTensors(const std::string& model, const std::string& kind) {
  namespace fs = std::filesystem;
  NamedTensors tensors;
  std::string prefix = model + "." + kind + ".";
  for (const auto& entry : fs::directory_iterator(TestDataDir())) {
    std::string file = entry.path().filename().string();
    if (file.rfind(prefix, 0) != 0 || entry.path().extension() != ".npy") continue;
    Result<Tensor> t = tools::ReadNpy(entry.path().string());
    REQUIRE(t.ok());
    tensors[file.substr(prefix.size(), file.size() - prefix.size() - 4)] = std::move(t).value();
  }
  return tensors;
}

}  // namespace edgeai::test
