#include "graph/onnx_tensor.h"

#include <cstring>
#include <filesystem>
#include <fstream>

namespace edgeai {
namespace {

namespace fs = std::filesystem;

Status CopyTyped(const onnx::TensorProto& proto, Tensor* t) {
  int64_t n = t->NumElements();
  auto mismatch = [&](int64_t have) {
    return InvalidArgument("tensor '" + proto.name() + "' has " + std::to_string(have) + " values but dims " +
                           t->shape().ToString() + " need " + std::to_string(n));
  };
  switch (t->dtype()) {
    case DataType::kFloat32:
      if (proto.float_data_size() != n) return mismatch(proto.float_data_size());
      std::memcpy(t->raw_data(), proto.float_data().data(), n * sizeof(float));
      return Status::Ok();
    case DataType::kFloat64:
      if (proto.double_data_size() != n) return mismatch(proto.double_data_size());
      std::memcpy(t->raw_data(), proto.double_data().data(), n * sizeof(double));
      return Status::Ok();
    case DataType::kInt64:
      if (proto.int64_data_size() != n) return mismatch(proto.int64_data_size());
      std::memcpy(t->raw_data(), proto.int64_data().data(), n * sizeof(int64_t));
      return Status::Ok();
    case DataType::kUint32:
    case DataType::kUint64: {
      if (proto.uint64_data_size() != n) return mismatch(proto.uint64_data_size());
      for (int64_t i = 0; i < n; ++i) {
        if (t->dtype() == DataType::kUint32) {
          t->data<uint32_t>()[i] = static_cast<uint32_t>(proto.uint64_data(i));
        } else {
          t->data<uint64_t>()[i] = proto.uint64_data(i);
        }
      }
      return Status::Ok();
    }
    case DataType::kInt32:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kBool:
    case DataType::kFloat16:
    case DataType::kBFloat16: {
      // These travel in int32_data, one element per entry (float16/bfloat16 as their bit patterns).
      if (proto.int32_data_size() != n) return mismatch(proto.int32_data_size());
      for (int64_t i = 0; i < n; ++i) {
        int32_t v = proto.int32_data(i);
        switch (DataTypeSize(t->dtype())) {
          case 1: t->data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
          case 2: t->data<uint16_t>()[i] = static_cast<uint16_t>(v); break;
          default: t->data<int32_t>()[i] = v; break;
        }
      }
      return Status::Ok();
    }
    default:
      return Unimplemented("tensor '" + proto.name() + "' has unsupported dtype " +
                           std::string(DataTypeName(t->dtype())));
  }
}

Status ReadExternal(const onnx::TensorProto& proto, const std::string& base_dir, uint64_t* budget, Tensor* t) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& entry : proto.external_data()) {
    try {
      if (entry.key() == "location") location = entry.value();
      if (entry.key() == "offset") offset = std::stoll(entry.value());
      if (entry.key() == "length") length = std::stoll(entry.value());
    } catch (...) {
      return InvalidArgument("tensor '" + proto.name() + "': bad external_data " + entry.key() + " '" +
                             entry.value() + "'");
    }
  }
  const std::string who = "tensor '" + proto.name() + "'";
  if (location.empty()) return InvalidArgument(who + ": external data without a location");
  if (base_dir.empty()) {
    return InvalidArgument(who + ": external data '" + location + "' needs the model's folder (load from a path)");
  }
  fs::path rel(location);
  if (rel.is_absolute()) return InvalidArgument(who + ": external data path '" + location + "' is absolute");
  std::error_code ec;
  fs::path base = fs::weakly_canonical(fs::path(base_dir), ec);
  fs::path full = fs::weakly_canonical(base / rel, ec);
  if (ec) return InvalidArgument(who + ": cannot resolve external data path '" + location + "'");
  auto [base_end, full_it] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (base_end != base.end() || full == base) {
    return InvalidArgument(who + ": external data path '" + location + "' escapes the model's folder");
  }
  std::ifstream in(full, std::ios::binary);
  if (!in) return NotFound(who + ": cannot open external data file '" + location + "'");
  in.seekg(0, std::ios::end);
  int64_t file_size = static_cast<int64_t>(in.tellg());
  int64_t need = static_cast<int64_t>(t->ByteSize());
  if (length >= 0 && length != need) {
    return InvalidArgument(who + ": external data length " + std::to_string(length) + " does not match dims " +
                           t->shape().ToString() + " (" + std::to_string(need) + " bytes)");
  }
  if (offset < 0 || offset > file_size || file_size - offset < need) {
    return InvalidArgument(who + ": external data file '" + location + "' is too short");
  }
  if (static_cast<uint64_t>(need) > *budget) {
    return ResourceExhausted(who + ": external data exceeds the model size limit");
  }
  *budget -= static_cast<uint64_t>(need);
  in.seekg(offset);
  in.read(static_cast<char*>(t->raw_data()), need);
  if (!in) return InvalidArgument(who + ": failed reading external data file '" + location + "'");
  return Status::Ok();
}

}  // namespace

Result<DataType> DataTypeFromOnnx(int32_t elem_type, const std::string& what) {
  if (!IsKnownDataType(elem_type)) {
    return Unimplemented(what + " has unsupported ONNX element type " + std::to_string(elem_type));
  }
  DataType dtype = static_cast<DataType>(elem_type);
  if (dtype == DataType::kString) return Unimplemented(what + " has unsupported dtype string");
  return dtype;
}

Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& base_dir, uint64_t* budget) {
  const std::string who = "tensor '" + proto.name() + "'";
  if (proto.has_segment()) return Unimplemented(who + ": segmented tensors are not supported");
  EDGEAI_ASSIGN_OR_RETURN(DataType dtype, DataTypeFromOnnx(proto.data_type(), who));
  Shape shape;
  for (int64_t d : proto.dims()) {
    if (d < 0) return InvalidArgument(who + " has a negative dimension " + std::to_string(d));
    shape.push_back(d);
  }
  Result<Tensor> allocated = Tensor::Allocate(dtype, shape);
  if (!allocated.ok()) return allocated.status().WithContext(who);
  Tensor t = std::move(allocated).value();
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    EDGEAI_RETURN_IF_ERROR(ReadExternal(proto, base_dir, budget, &t));
  } else if (proto.has_raw_data()) {
    if (proto.raw_data().size() != t.ByteSize()) {
      return InvalidArgument(who + ": raw_data has " + std::to_string(proto.raw_data().size()) +
                             " bytes but dims " + shape.ToString() + " of " + std::string(DataTypeName(dtype)) +
                             " need " + std::to_string(t.ByteSize()));
    }
    if (t.ByteSize() != 0) std::memcpy(t.raw_data(), proto.raw_data().data(), t.ByteSize());
  } else {
    EDGEAI_RETURN_IF_ERROR(CopyTyped(proto, &t));
  }
  return t;
}

}  // namespace edgeai
