#include "backend/cpu/data_movement.h"

#include <cstring>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

// Elements per side of the square tiles of the blocked transpose: 32x32 floats is 4 KiB, well inside L1.
constexpr int64_t kTile = 32;

// Drops dims of size 1 and merges neighbours whose source strides make them one longer dim, so that most
// copies reduce to a couple of dims with long contiguous rows.
void Coalesce(const Shape& dims, const Shape& strides, Shape* d, Shape* s) {
  d->resize(0);
  s->resize(0);
  for (size_t i = 0; i < dims.rank(); ++i) {
    if (dims[i] == 1) continue;
    size_t last = d->rank();
    if (last > 0 && (*s)[last - 1] == strides[i] * dims[i]) {
      (*d)[last - 1] *= dims[i];
      (*s)[last - 1] = strides[i];
    } else {
      d->push_back(dims[i]);
      s->push_back(strides[i]);
    }
  }
  if (d->rank() == 0) {
    d->push_back(1);
    s->push_back(1);
  }
}

Shape Prefix(const Shape& s, size_t n) { return Shape(s.data(), n); }

template <typename T>
void CopyRows(const ThreadPool& pool, const Shape& d, const Shape& s, const T* src, T* dst) {
  size_t r = d.rank();
  int64_t inner = d[r - 1];
  int64_t step = s[r - 1];
  Shape od = Prefix(d, r - 1);
  Shape os = Prefix(s, r - 1);
  int64_t rows = od.NumElements();
  int64_t grain = GrainFor(inner * static_cast<int64_t>(sizeof(T)));
  pool.ParallelFor(rows, grain, [&](int64_t begin, int64_t end) {
    IndexWalker w(od, os, os, begin);
    for (int64_t row = begin; row < end; ++row, w.Next()) {
      const T* in = src + w.a();
      T* out = dst + row * inner;
      if (step == 1) {
        std::memcpy(out, in, static_cast<size_t>(inner) * sizeof(T));
      } else if (step == 0) {
        std::fill_n(out, inner, *in);
      } else {
        for (int64_t k = 0; k < inner; ++k) out[k] = in[k * step];
      }
    }
  });
}

// dst[a * dst_stride + b] = src[a + b * src_stride] over an a_len x b_len block, tile by tile.
template <typename T>
void TransposeBlock(const T* src, T* dst, int64_t a_begin, int64_t a_end, int64_t b_len, int64_t src_stride,
                    int64_t dst_stride) {
  for (int64_t b0 = 0; b0 < b_len; b0 += kTile) {
    int64_t b1 = std::min(b_len, b0 + kTile);
    for (int64_t a = a_begin; a < a_end; ++a) {
      const T* in = src + a;
      T* out = dst + a * dst_stride;
      for (int64_t b = b0; b < b1; ++b) out[b] = in[b * src_stride];
    }
  }
}

#if defined(__SSE2__)
// 4-byte elements: 4x4 register transposes (SSE2 is baseline on x86-64); the shuffles move bits unchanged.
void TransposeBlock(const uint32_t* src, uint32_t* dst, int64_t a_begin, int64_t a_end, int64_t b_len,
                    int64_t src_stride, int64_t dst_stride) {
  const float* in = reinterpret_cast<const float*>(src);
  float* out = reinterpret_cast<float*>(dst);
  for (int64_t b0 = 0; b0 < b_len; b0 += kTile) {
    int64_t b1 = std::min(b_len, b0 + kTile);
    int64_t a = a_begin;
    for (; a + 4 <= a_end; a += 4) {
      int64_t b = b0;
      for (; b + 4 <= b1; b += 4) {
        const float* p = in + a + b * src_stride;
        __m128 r0 = _mm_loadu_ps(p);
        __m128 r1 = _mm_loadu_ps(p + src_stride);
        __m128 r2 = _mm_loadu_ps(p + 2 * src_stride);
        __m128 r3 = _mm_loadu_ps(p + 3 * src_stride);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        float* q = out + a * dst_stride + b;
        _mm_storeu_ps(q, r0);
        _mm_storeu_ps(q + dst_stride, r1);
        _mm_storeu_ps(q + 2 * dst_stride, r2);
        _mm_storeu_ps(q + 3 * dst_stride, r3);
      }
      for (; b < b1; ++b) {
        for (int64_t k = 0; k < 4; ++k) dst[(a + k) * dst_stride + b] = src[a + k + b * src_stride];
      }
    }
    for (; a < a_end; ++a) {
      for (int64_t b = b0; b < b1; ++b) dst[a * dst_stride + b] = src[a + b * src_stride];
    }
  }
}
#endif

// The rows have a non-unit source stride but dim `j` is contiguous in the source: a batched 2-D transpose of
// (dim j, last dim), blocked so that both the reads and the writes stay within cache lines.
template <typename T>
void CopyTransposed(const ThreadPool& pool, const Shape& d, const Shape& s, size_t j, const T* src, T* dst) {
  size_t r = d.rank();
  Shape ds = ContiguousStrides(d);
  Shape od, os, ods;
  for (size_t i = 0; i + 1 < r; ++i) {
    if (i == j) continue;
    od.push_back(d[i]);
    os.push_back(s[i]);
    ods.push_back(ds[i]);
  }
  int64_t a_len = d[j];
  int64_t b_len = d[r - 1];
  int64_t b_stride = s[r - 1];
  int64_t a_stride = ds[j];
  int64_t blocks = (a_len + kTile - 1) / kTile;
  int64_t items = od.NumElements() * blocks;
  int64_t grain = GrainFor(std::min(kTile, a_len) * b_len * static_cast<int64_t>(sizeof(T)));
  pool.ParallelFor(items, grain, [&](int64_t begin, int64_t end) {
    int64_t outer = begin / blocks;
    IndexWalker w(od, os, ods, outer);
    for (int64_t item = begin; item < end; ++item) {
      int64_t o = item / blocks;
      for (; outer < o; ++outer) w.Next();
      int64_t a0 = (item % blocks) * kTile;
      TransposeBlock(src + w.a(), dst + w.b(), a0, std::min(a_len, a0 + kTile), b_len, b_stride, a_stride);
    }
  });
}

template <typename T>
void StridedCopyTyped(const ThreadPool& pool, const Shape& d, const Shape& s, const void* src, void* dst) {
  const T* in = static_cast<const T*>(src);
  T* out = static_cast<T*>(dst);
  size_t r = d.rank();
  int64_t step = s[r - 1];
  if (step != 1 && step != 0) {
    for (size_t j = 0; j + 1 < r; ++j) {
      if (s[j] == 1) return CopyTransposed<T>(pool, d, s, j, in, out);
    }
  }
  CopyRows<T>(pool, d, s, in, out);
}

}  // namespace

const std::vector<DataType>& AllFixedSizeTypes() {
  static const std::vector<DataType> types = {
      DataType::kFloat32, DataType::kUint8,  DataType::kInt8,     DataType::kUint16,  DataType::kInt16,
      DataType::kInt32,   DataType::kInt64,  DataType::kBool,     DataType::kFloat16, DataType::kFloat64,
      DataType::kUint32,  DataType::kUint64, DataType::kBFloat16,
  };
  return types;
}

Status AddOp(OpRegistry& registry, const char* op_type, int since, int until, std::vector<DataType> types,
             InferFn infer, KernelFactory create, int type_input) {
  return registry.Register(MakeOpDef(op_type, since, until, std::move(types), infer, create, type_input));
}

const std::vector<int64_t>* FindInts(const AttributeMap& attrs, const char* name) {
  const Attribute* a = attrs.Find(name);
  return a && a->kind == Attribute::Kind::kInts ? &a->ints : nullptr;
}

Status ReadInts(const Tensor& t, std::string_view what, Shape* out) {
  if (t.rank() > 1 || (t.dtype() != DataType::kInt64 && t.dtype() != DataType::kInt32)) {
    return InvalidArgument(std::string(what) + " must be a 1-D int64 tensor, got " + t.Describe());
  }
  int64_t n = t.NumElements();
  out->resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    (*out)[i] = t.dtype() == DataType::kInt64 ? t.data<int64_t>()[i] : t.data<int32_t>()[i];
  }
  return Status::Ok();
}

Status ReadInputInts(const InferenceContext& ctx, size_t i, std::string_view what, Shape* out) {
  Status status = ReadInts(*ctx.input_value(i), what, out);
  return status.ok() ? status : ctx.Error(status.message());
}

ValueType RankFromLength(const InferenceContext& ctx, size_t i, DataType dtype) {
  const ValueType& t = ctx.input(i);
  if (!t.rank_known || t.dims.rank() != 1 || t.dims[0] < 0) return ValueType::UnknownRank(dtype);
  Shape dims;
  dims.resize(static_cast<size_t>(t.dims[0]), -1);
  return ValueType::Of(dtype, dims);
}

std::string IntsToString(const Shape& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.rank(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

void IntsToShape(const std::vector<int64_t>& ints, Shape* out) {
  out->resize(ints.size());
  for (size_t i = 0; i < ints.size(); ++i) (*out)[i] = ints[i];
}

Shape ContiguousStrides(const Shape& dims) {
  Shape strides;
  strides.resize(dims.rank());
  int64_t stride = 1;
  for (size_t i = dims.rank(); i-- > 0;) {
    strides[i] = stride;
    stride *= dims[i];
  }
  return strides;
}

bool HasUnknownDim(const Shape& dims) {
  for (int64_t d : dims) {
    if (d < 0) return true;
  }
  return false;
}

void CopyBytes(const ThreadPool& pool, void* dst, const void* src, size_t bytes) {
  if (bytes == 0 || dst == src) return;
  constexpr int64_t kChunk = 4 * kBytesPerTask;
  int64_t chunks = (static_cast<int64_t>(bytes) + kChunk - 1) / kChunk;
  char* out = static_cast<char*>(dst);
  const char* in = static_cast<const char*>(src);
  pool.ParallelFor(chunks, 1, [&](int64_t begin, int64_t end) {
    size_t from = static_cast<size_t>(begin * kChunk);
    size_t to = std::min(bytes, static_cast<size_t>(end * kChunk));
    std::memcpy(out + from, in + from, to - from);
  });
}

void StridedCopy(const ThreadPool& pool, size_t elem_size, const Shape& dims, const Shape& strides, const void* src,
                 void* dst) {
  for (int64_t dim : dims) {
    if (dim == 0) return;
  }
  Shape d, s;
  Coalesce(dims, strides, &d, &s);
  if (d.rank() == 1 && s[0] == 1) return CopyBytes(pool, dst, src, static_cast<size_t>(d[0]) * elem_size);
  switch (elem_size) {
    case 1:
      return StridedCopyTyped<uint8_t>(pool, d, s, src, dst);
    case 2:
      return StridedCopyTyped<uint16_t>(pool, d, s, src, dst);
    case 4:
      return StridedCopyTyped<uint32_t>(pool, d, s, src, dst);
    case 8:
      return StridedCopyTyped<uint64_t>(pool, d, s, src, dst);
    default:
      break;
  }
}

IndexWalker::IndexWalker(const Shape& dims, const Shape& strides_a, const Shape& strides_b, int64_t start)
    : dims_(dims), sa_(strides_a), sb_(strides_b) {
  index_.resize(dims.rank());
  for (size_t k = dims.rank(); k-- > 0;) {
    index_[k] = dims[k] > 0 ? start % dims[k] : 0;
    start = dims[k] > 0 ? start / dims[k] : 0;
    a_ += index_[k] * sa_[k];
    b_ += index_[k] * sb_[k];
  }
}

void IndexWalker::Next() {
  for (size_t k = dims_.rank(); k-- > 0;) {
    a_ += sa_[k];
    b_ += sb_[k];
    if (++index_[k] < dims_[k]) return;
    a_ -= sa_[k] * dims_[k];
    b_ -= sb_[k] * dims_[k];
    index_[k] = 0;
  }
}

namespace {
uint16_t FloatToBFloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);                                                      // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

template <typename T>
void Store(T value, void* out) {
  std::memcpy(out, &value, sizeof(T));
}
}  // namespace

Status ConvertScalar(double value, DataType dtype, void* out) {
  switch (dtype) {
    case DataType::kFloat32:
      Store(static_cast<float>(value), out);
      break;
    case DataType::kFloat64:
      Store(value, out);
      break;
    case DataType::kFloat16:
      Store(FloatToHalf(static_cast<float>(value)), out);
      break;
    case DataType::kBFloat16:
      Store(FloatToBFloat16(static_cast<float>(value)), out);
      break;
    case DataType::kBool:
      Store(static_cast<uint8_t>(value != 0.0), out);
      break;
    case DataType::kInt8:
      Store(static_cast<int8_t>(value), out);
      break;
    case DataType::kUint8:
      Store(static_cast<uint8_t>(value), out);
      break;
    case DataType::kInt16:
      Store(static_cast<int16_t>(value), out);
      break;
    case DataType::kUint16:
      Store(static_cast<uint16_t>(value), out);
      break;
    case DataType::kInt32:
      Store(static_cast<int32_t>(value), out);
      break;
    case DataType::kUint32:
      Store(static_cast<uint32_t>(value), out);
      break;
    case DataType::kInt64:
      Store(static_cast<int64_t>(value), out);
      break;
    case DataType::kUint64:
      Store(static_cast<uint64_t>(value), out);
      break;
    default:
      return UnsupportedDtype(dtype);
  }
  return Status::Ok();
}

}  // namespace edgeai::cpu
