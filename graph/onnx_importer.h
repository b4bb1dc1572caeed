// ONNX import: ModelProto bytes -> Graph. Checks everything a kernel will later rely on, so that a malformed
// model is refused here with a message naming the model and the node, tensor or field at fault:
// malformed or truncated protobuf, unsupported IR/opset, unknown op (named with its node), unsupported dtype,
// missing input, duplicate outputs, initializers whose data does not match their dims, external data paths that
// leave the model's folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/op_registry.h"
#include "edgeai/engine.h"
#include "graph/ir.h"

namespace edgeai {

struct ImportOptions {
  std::string model_name = "model";  // used in error messages
  std::string base_dir;              // folder of the model file, for external data; empty refuses external data
  uint64_t max_model_bytes = uint64_t{4} << 30;
};

struct ImportedModel {
  Graph graph;
  ModelInfo info;
};

// Highest ai.onnx opset this build accepts (kernels decide per op within it).
constexpr int kMaxSupportedOpset = 18;

Result<ImportedModel> ImportOnnxModel(const std::string& bytes, const ImportOptions& options,
                                      const OpRegistry& registry);

}  // namespace edgeai
