// NumPy .npy files: read and write tensors.
//
// Reads format versions 1.0, 2.0 and 3.0 (C order; little-endian, '|' or native byte order). Dtypes: float32,
// float64, float16, int8/16/32/64, uint8/16/32/64 and bool. Anything else (Fortran order, big-endian, object,
// string, complex or structured arrays, truncated or oversized data, bad headers) is an invalid_argument error
// whose message starts with the file's name; a file that cannot be opened is not_found.
// Writes version 1.0, or 2.0 when the header does not fit in 1.0's 16-bit length. Writing a dtype .npy cannot
// hold (string, bfloat16, undefined) is an invalid_argument error.
// Thread safety: free functions without shared state.
#pragma once

#include <string>

#include "edgeai/tensor.h"

namespace edgeai::tools {

Result<Tensor> ReadNpy(const std::string& path);
// `bytes` is a whole .npy file; `name_for_errors` is how messages refer to it.
Result<Tensor> ParseNpy(const std::string& bytes, const std::string& name_for_errors);
Status WriteNpy(const std::string& path, const Tensor& tensor);
// The whole .npy file for `tensor`; empty when its dtype has no .npy equivalent (WriteNpy reports that).
std::string SerializeNpy(const Tensor& tensor);

// The .npy descr of a dtype ("<f4", "|b1"); empty when there is none.
std::string NpyDescr(DataType dtype);

}  // namespace edgeai::tools
