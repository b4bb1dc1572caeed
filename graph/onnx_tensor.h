// Conversion of ONNX TensorProto (typed fields, raw_data, external data files) into Tensors.
#pragma once

#include <string>

#include "edgeai/tensor.h"
#include "onnx/onnx_pb.h"

namespace edgeai {

// `base_dir` resolves external data; an empty base_dir refuses it. External locations must stay inside
// base_dir (no absolute paths, no "..", no symlink escapes). `bytes_budget` is decremented by the bytes read
// from external files, which fail with resource_exhausted past it.
Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& base_dir, uint64_t* bytes_budget);

// Maps an ONNX elem_type to a DataType; error naming `what` for unknown or unsupported (string) types.
Result<DataType> DataTypeFromOnnx(int32_t elem_type, const std::string& what);

}  // namespace edgeai
