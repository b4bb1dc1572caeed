// NumPy .npy files: read and write tensors (format versions 1.0 and 2.0, C order, little-endian).
// Supported dtypes: float32, float64, int32, int64, int8, uint8, bool. Anything else (Fortran order, big-endian,
// object arrays, truncated data, bad headers) is a clear invalid_argument error naming the file.
#pragma once

#include <string>

#include "edgeai/tensor.h"

namespace edgeai::tools {

Result<Tensor> ReadNpy(const std::string& path);
Result<Tensor> ParseNpy(const std::string& bytes, const std::string& name_for_errors);
Status WriteNpy(const std::string& path, const Tensor& tensor);
std::string SerializeNpy(const Tensor& tensor);

}  // namespace edgeai::tools
