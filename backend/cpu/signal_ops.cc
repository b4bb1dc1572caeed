// Signal processing: DFT, STFT, the Hann/Hamming/Blackman windows and MelWeightMatrix (all opset 17).
//
// Transforms run in double precision on one line (or frame) at a time. Power-of-two lengths use an iterative
// radix-2 FFT; other lengths use a direct DFT when short and Bluestein's chirp-z algorithm (a power-of-two
// convolution) when long, so every length costs O(n log n). Each thread keeps its own plan (twiddles, chirp)
// for the last length it saw and its own line buffers; they only grow, so warm runs do not allocate.
#include <cmath>
#include <complex>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

using Complex = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kDirectMax = 64;  // non-power-of-two lengths up to this use the direct O(n^2) sum

// ------------------------------------------------------------------------------------------------------- FFT

bool IsPowerOfTwo(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// In-place forward FFT of a[0..m), m a power of two; twiddle[j] = exp(-2 pi i j / m) for j < m / 2.
void Radix2(Complex* a, int64_t m, const Complex* twiddle) {
  for (int64_t i = 1, j = 0; i < m; ++i) {
    int64_t bit = m >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (int64_t len = 2; len <= m; len <<= 1) {
    const int64_t half = len >> 1;
    const int64_t step = m / len;
    for (int64_t i = 0; i < m; i += len) {
      for (int64_t j = 0; j < half; ++j) {
        const Complex u = a[i + j];
        const Complex v = a[i + j + half] * twiddle[j * step];
        a[i + j] = u + v;
        a[i + j + half] = u - v;
      }
    }
  }
}

// What a forward transform of length n needs; one per thread, rebuilt when n changes.
struct FftPlan {
  int64_t n = 0;
  int64_t m = 0;                 // radix-2 length actually run (n, or Bluestein's padded length)
  std::vector<Complex> twiddle;  // exp(-2 pi i j / m), j < m / 2; direct DFT: exp(-2 pi i j / n), j < n
  std::vector<Complex> chirp;    // Bluestein: exp(-pi i j^2 / n), j < n
  std::vector<Complex> filter;   // Bluestein: FFT of the conjugate chirp, wrapped to length m
  std::vector<Complex> work;     // Bluestein: length m
};

void FillTwiddles(std::vector<Complex>* t, int64_t count, int64_t period) {
  t->resize(static_cast<size_t>(count));
  for (int64_t j = 0; j < count; ++j) (*t)[j] = std::polar(1.0, -2.0 * kPi * static_cast<double>(j) / period);
}

void Prepare(FftPlan& p, int64_t n) {
  if (p.n == n) return;
  p.n = n;
  if (IsPowerOfTwo(n)) {
    p.m = n;
    FillTwiddles(&p.twiddle, n / 2, n);
    return;
  }
  if (n <= kDirectMax) {
    p.m = 0;
    FillTwiddles(&p.twiddle, n, n);
    return;
  }
  p.m = 1;
  while (p.m < 2 * n - 1) p.m <<= 1;
  FillTwiddles(&p.twiddle, p.m / 2, p.m);
  p.chirp.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    // j^2 mod 2n keeps the angle small, so it stays exact for long transforms.
    const int64_t sq = (j * j) % (2 * n);
    p.chirp[j] = std::polar(1.0, -kPi * static_cast<double>(sq) / n);
  }
  p.filter.assign(static_cast<size_t>(p.m), Complex(0, 0));
  p.filter[0] = std::conj(p.chirp[0]);
  for (int64_t j = 1; j < n; ++j) p.filter[j] = p.filter[p.m - j] = std::conj(p.chirp[j]);
  Radix2(p.filter.data(), p.m, p.twiddle.data());
  p.work.resize(static_cast<size_t>(p.m));
}

// y[k] = sum_j x[j] exp(-2 pi i j k / n), k < n. x and y do not overlap.
void Forward(FftPlan& p, const Complex* x, Complex* y) {
  const int64_t n = p.n;
  if (p.m == n) {
    std::copy(x, x + n, y);
    Radix2(y, n, p.twiddle.data());
  } else if (p.m == 0) {
    for (int64_t k = 0; k < n; ++k) {
      Complex sum(0, 0);
      for (int64_t j = 0, jk = 0; j < n; ++j, jk = (jk + k) % n) sum += x[j] * p.twiddle[jk];
      y[k] = sum;
    }
  } else {
    Complex* w = p.work.data();
    for (int64_t j = 0; j < n; ++j) w[j] = x[j] * p.chirp[j];
    std::fill(w + n, w + p.m, Complex(0, 0));
    Radix2(w, p.m, p.twiddle.data());
    // Convolution with the chirp; the inverse FFT is a forward one on conjugates.
    for (int64_t j = 0; j < p.m; ++j) w[j] = std::conj(w[j] * p.filter[j]);
    Radix2(w, p.m, p.twiddle.data());
    const double scale = 1.0 / static_cast<double>(p.m);
    for (int64_t k = 0; k < n; ++k) y[k] = std::conj(w[k]) * scale * p.chirp[k];
  }
}

// Transforms in[0..n) into out[0..n) with this thread's plan. The inverse is the conjugate of the forward
// transform of the conjugate, divided by n.
void Transform(const Complex* in, Complex* out, int64_t n, bool inverse) {
  thread_local FftPlan plan;
  thread_local std::vector<Complex> conj_in;
  Prepare(plan, n);
  if (!inverse) {
    Forward(plan, in, out);
    return;
  }
  conj_in.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) conj_in[j] = std::conj(in[j]);
  Forward(plan, conj_in.data(), out);
  const double scale = 1.0 / static_cast<double>(n);
  for (int64_t k = 0; k < n; ++k) out[k] = std::conj(out[k]) * scale;
}

// This thread's two line buffers, at least n long.
void LineBuffers(int64_t n, Complex** in, Complex** out) {
  thread_local std::vector<Complex> a, b;
  if (a.size() < static_cast<size_t>(n)) {
    a.resize(static_cast<size_t>(n));
    b.resize(static_cast<size_t>(n));
  }
  *in = a.data();
  *out = b.data();
}

// ------------------------------------------------------------------------------------------ scalar inputs

// A one-element integer input (int32/int64) as int64; false for other tensors.
bool ScalarInt(const Tensor& t, int64_t* out) {
  if ((t.dtype() != DataType::kInt32 && t.dtype() != DataType::kInt64) || t.NumElements() != 1) return false;
  *out = t.dtype() == DataType::kInt64 ? *t.data<int64_t>() : *t.data<int32_t>();
  return true;
}

std::string NotScalarInt(const char* what, const Tensor& t) {
  return std::string(what) + " must be a scalar int32/int64, got " + t.Describe();
}

// ctx.Error unless `t` is a one-element integer tensor, read into *out.
template <typename Ctx>
Status ReadScalarInt(const Ctx& ctx, const Tensor& t, const char* what, int64_t* out) {
  return ScalarInt(t, out) ? Status::Ok() : ctx.Error(NotScalarInt(what, t));
}

// A one-element float input (float32/float64/float16/bfloat16) as double; false for other tensors.
bool ScalarFloat(const Tensor& t, double* out) {
  if (t.NumElements() != 1) return false;
  switch (t.dtype()) {
    case DataType::kFloat32:
      *out = *t.data<float>();
      return true;
    case DataType::kFloat64:
      *out = *t.data<double>();
      return true;
    case DataType::kFloat16:
      *out = HalfToFloat(t.data<Float16>()->bits);
      return true;
    case DataType::kBFloat16: {
      uint32_t bits = static_cast<uint32_t>(*t.data<uint16_t>()) << 16;
      float f;
      std::memcpy(&f, &bits, sizeof(f));
      *out = f;
      return true;
    }
    default:
      return false;
  }
}

// ------------------------------------------------------------------------------------------------------- DFT

// The DFT axis: an attribute (default 1) until opset 19, an optional scalar input #2 (default -2) from 20.
// *known is false when it is an input whose value is not known yet (load time).
template <typename Ctx, typename Get>
Status RawDftAxis(const Ctx& ctx, int opset, int64_t attr_axis, Get get, bool* known, int64_t* axis) {
  *known = true;
  if (opset < 20) {
    *axis = attr_axis;
    return Status::Ok();
  }
  *axis = -2;
  bool present = false;
  const Tensor* value = get(2, &present);
  if (!present) return Status::Ok();
  if (value == nullptr) {
    *known = false;
    return Status::Ok();
  }
  return ReadScalarInt(ctx, *value, "axis", axis);
}

// Signal shape [..., n, ..., 1|2]: the axis is counted over all dims but the last (negative from the back).
template <typename Ctx>
Status NormalizeDftAxis(const Ctx& ctx, int64_t raw, int64_t rank, int64_t* axis) {
  *axis = raw < 0 ? raw + rank : raw;
  if (*axis < 0 || *axis > rank - 2) {
    return ctx.Error("axis " + std::to_string(raw) + " must name a signal dim of an input of rank " +
                     std::to_string(rank) + " (the last dim holds real and imaginary parts)");
  }
  return Status::Ok();
}

Status InferDft(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  const bool onesided = ctx.attrs().GetInt("onesided", 0) != 0;
  if (!x.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(x.dims.rank());
  if (rank < 2) return ctx.Error("input " + x.ToString() + " must have rank 2 or more ([..., n, ..., 1 or 2])");
  const int64_t parts = x.dims.back();
  if (parts >= 0 && parts != 1 && parts != 2) {
    return ctx.Error("the last dim of input " + x.ToString() + " must be 1 (real) or 2 (complex)");
  }
  if (onesided && parts == 2) return ctx.Error("onesided=1 needs a real input, got complex " + x.ToString());
  auto get = [&](size_t i, bool* present) {
    *present = ctx.has_input(i);
    return *present ? ctx.input_value(i) : nullptr;
  };
  bool known;
  int64_t raw, axis;
  EDGEAI_RETURN_IF_ERROR(RawDftAxis(ctx, ctx.opset(), ctx.attrs().GetInt("axis", 1), get, &known, &raw));
  Shape out = x.dims;
  out[rank - 1] = 2;
  if (!known) {  // any signal dim may change
    for (int64_t d = 0; d < rank - 1; ++d) out[d] = -1;
    ctx.output(0) = ValueType::Of(x.dtype, out);
    return Status::Ok();
  }
  EDGEAI_RETURN_IF_ERROR(NormalizeDftAxis(ctx, raw, rank, &axis));
  if (ctx.has_input(1)) {
    const Tensor* length = ctx.input_value(1);
    out[axis] = -1;
    if (length != nullptr) {
      EDGEAI_RETURN_IF_ERROR(ReadScalarInt(ctx, *length, "dft_length", &out[axis]));
      if (out[axis] < 1) return ctx.Error("dft_length must be positive, got " + std::to_string(out[axis]));
    }
  }
  if (onesided && out[axis] >= 0) out[axis] = out[axis] / 2 + 1;
  ctx.output(0) = ValueType::Of(x.dtype, out);
  return Status::Ok();
}

class DftKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    inverse_ = ctx.attrs().GetInt("inverse", 0) != 0;
    onesided_ = ctx.attrs().GetInt("onesided", 0) != 0;
    opset_ = ctx.opset();
    axis_attr_ = ctx.attrs().GetInt("axis", 1);
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Shape& dims = x.shape();
    const int64_t rank = static_cast<int64_t>(dims.rank());
    if (rank < 2 || (dims.back() != 1 && dims.back() != 2)) {
      return ctx.Error("input " + x.Describe() + " must be [..., 1 or 2]");
    }
    auto get = [&](size_t i, bool* present) {
      *present = ctx.input(i) != nullptr;
      return ctx.input(i);
    };
    bool known;
    int64_t raw, axis;
    EDGEAI_RETURN_IF_ERROR(RawDftAxis(ctx, opset_, axis_attr_, get, &known, &raw));
    EDGEAI_RETURN_IF_ERROR(NormalizeDftAxis(ctx, raw, rank, &axis));
    const int64_t len = dims[axis];
    int64_t n = len;
    if (ctx.input(1) != nullptr) EDGEAI_RETURN_IF_ERROR(ReadScalarInt(ctx, *ctx.input(1), "dft_length", &n));
    if (n < 1) return ctx.Error("dft_length must be positive, got " + std::to_string(n));
    const int64_t bins = onesided_ ? n / 2 + 1 : n;
    Shape out_dims = dims;
    out_dims[axis] = bins;
    out_dims[rank - 1] = 2;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, out_dims));
    const int64_t outer = dims.SizeFromTo(0, axis);
    const int64_t inner = dims.SizeFromTo(axis + 1, rank - 1);
    const int64_t parts = dims.back();
    const int64_t copy = std::min(len, n);
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      T* dst = y->data<T>();
      ctx.pool().ParallelFor(outer * inner, std::max<int64_t>(1, 4096 / n), [&](int64_t b, int64_t e) {
        Complex *in, *out;
        LineBuffers(n, &in, &out);
        for (int64_t line = b; line < e; ++line) {
          const int64_t o = line / inner, i = line % inner;
          const T* from = src + (o * len * inner + i) * parts;
          for (int64_t j = 0; j < copy; ++j) {
            const T* v = from + j * inner * parts;
            in[j] = Complex(v[0], parts == 2 ? v[1] : 0);
          }
          std::fill(in + copy, in + n, Complex(0, 0));
          Transform(in, out, n, inverse_);
          T* to = dst + (o * bins * inner + i) * 2;
          for (int64_t k = 0; k < bins; ++k) {
            to[k * inner * 2] = static_cast<T>(out[k].real());
            to[k * inner * 2 + 1] = static_cast<T>(out[k].imag());
          }
        }
      });
      return Status::Ok();
    });
  }

 private:
  bool inverse_ = false;
  bool onesided_ = false;
  int opset_ = 17;
  int64_t axis_attr_ = 1;
};

// ------------------------------------------------------------------------------------------------------ STFT

// Frame geometry from the inputs: signal [batch, length, 1|2], frame_step, window [n], frame_length.
struct StftGeometry {
  int64_t batch = -1, length = -1, parts = -1, step = -1, n = -1, frames = -1, bins = -1;
};

// Shared by inference (values may be unknown: -1) and the kernel; `get(i)` returns input i's value or nullptr.
template <typename Ctx, typename Get>
Status StftShape(const Ctx& ctx, const Shape& signal, const Shape* window, bool onesided, Get get, StftGeometry* g) {
  if (signal.rank() != 3 || (signal[2] >= 0 && signal[2] != 1 && signal[2] != 2)) {
    return ctx.Error("signal " + signal.ToString() + " must be [batch, length, 1 or 2]");
  }
  g->batch = signal[0];
  g->length = signal[1];
  g->parts = signal[2];
  if (onesided && g->parts == 2) return ctx.Error("onesided=1 needs a real signal, got a complex one");
  g->step = g->n = -1;
  if (const Tensor* step = get(1)) {
    if (step->NumElements() != 1) return ctx.Error("frame_step must be a scalar");
    g->step = step->dtype() == DataType::kInt64 ? *step->data<int64_t>() : *step->data<int32_t>();
    if (g->step < 1) return ctx.Error("frame_step must be positive, got " + std::to_string(g->step));
  }
  if (window != nullptr && window->rank() != 1) return ctx.Error("window must have rank 1, got " + window->ToString());
  const int64_t window_len = window != nullptr ? (*window)[0] : -1;
  if (const Tensor* length = get(3)) {
    if (length->NumElements() != 1) return ctx.Error("frame_length must be a scalar");
    g->n = length->dtype() == DataType::kInt64 ? *length->data<int64_t>() : *length->data<int32_t>();
    if (g->n < 1) return ctx.Error("frame_length must be positive, got " + std::to_string(g->n));
    if (window_len >= 0 && window_len != g->n) {
      return ctx.Error("window length " + std::to_string(window_len) + " differs from frame_length " +
                       std::to_string(g->n));
    }
  } else {
    g->n = window_len;
  }
  if (g->length >= 0 && g->n > g->length) {
    return ctx.Error("frame length " + std::to_string(g->n) + " exceeds the signal length " +
                     std::to_string(g->length));
  }
  const bool known = g->length >= 0 && g->n >= 0 && g->step >= 0;
  g->frames = known ? (g->length - g->n) / g->step + 1 : -1;
  g->bins = g->n < 0 ? -1 : onesided ? g->n / 2 + 1 : g->n;
  return Status::Ok();
}

Status InferStft(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& signal = ctx.input(0);
  if (!ctx.has_input(2) && !ctx.has_input(3)) return ctx.Error("needs a window or a frame_length input");
  for (size_t i : {size_t{1}, size_t{3}}) {
    if (ctx.has_input(i) && ctx.input(i).dtype != DataType::kInt32 && ctx.input(i).dtype != DataType::kInt64) {
      return ctx.Error("input #" + std::to_string(i) + " must be int32 or int64, got " + ctx.input(i).ToString());
    }
  }
  if (ctx.has_input(2) && ctx.input(2).dtype != signal.dtype) {
    return ctx.Error("window " + ctx.input(2).ToString() + " must have the dtype of the signal");
  }
  if (!signal.rank_known || (ctx.has_input(2) && !ctx.input(2).rank_known)) {
    ctx.output(0) = ValueType::UnknownRank(signal.dtype);
    return Status::Ok();
  }
  const Shape* window = ctx.has_input(2) ? &ctx.input(2).dims : nullptr;
  auto get = [&](size_t i) { return ctx.has_input(i) ? ctx.input_value(i) : nullptr; };
  StftGeometry g;
  EDGEAI_RETURN_IF_ERROR(StftShape(ctx, signal.dims, window, ctx.attrs().GetInt("onesided", 1) != 0, get, &g));
  ctx.output(0) = ValueType::Of(signal.dtype, Shape{g.batch, g.frames, g.bins, 2});
  return Status::Ok();
}

class StftKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    onesided_ = ctx.attrs().GetInt("onesided", 1) != 0;
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& signal = *ctx.input(0);
    const Tensor* window = ctx.input(2);
    Shape window_dims = window != nullptr ? window->shape() : Shape{};
    auto get = [&](size_t i) { return ctx.input(i); };
    StftGeometry g;
    EDGEAI_RETURN_IF_ERROR(
        StftShape(ctx, signal.shape(), window != nullptr ? &window_dims : nullptr, onesided_, get, &g));
    if (g.n < 0) return ctx.Error("needs a window or a frame_length input");
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, Shape{g.batch, g.frames, g.bins, 2}));
    return VisitFloat(signal.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = signal.data<T>();
      const T* win = window != nullptr ? window->data<T>() : nullptr;
      T* dst = y->data<T>();
      ctx.pool().ParallelFor(g.batch * g.frames, std::max<int64_t>(1, 4096 / g.n), [&](int64_t b, int64_t e) {
        Complex *in, *out;
        LineBuffers(g.n, &in, &out);
        for (int64_t item = b; item < e; ++item) {
          const int64_t batch = item / g.frames, frame = item % g.frames;
          const T* from = src + (batch * g.length + frame * g.step) * g.parts;
          for (int64_t j = 0; j < g.n; ++j) {
            const double w = win != nullptr ? static_cast<double>(win[j]) : 1.0;
            in[j] = Complex(from[j * g.parts] * w, g.parts == 2 ? from[j * g.parts + 1] * w : 0.0);
          }
          Transform(in, out, g.n, false);
          T* to = dst + item * g.bins * 2;
          for (int64_t k = 0; k < g.bins; ++k) {
            to[2 * k] = static_cast<T>(out[k].real());
            to[2 * k + 1] = static_cast<T>(out[k].imag());
          }
        }
      });
      return Status::Ok();
    });
  }

 private:
  bool onesided_ = true;
};

// ---------------------------------------------------------------------------------------------------- windows

// The output dtypes the window and mel ops may produce (every numeric type).
bool IsGeneratedType(int64_t onnx_type) {
  if (!IsKnownDataType(static_cast<int32_t>(onnx_type))) return false;
  const DataType t = static_cast<DataType>(onnx_type);
  return t != DataType::kString && t != DataType::kBool && t != DataType::kUndefined;
}

Status OutputDatatype(const InferenceContext& ctx, DataType* out) {
  const int64_t t = ctx.attrs().GetInt("output_datatype", 1);
  if (!IsGeneratedType(t)) return ctx.Error("output_datatype " + std::to_string(t) + " is not a numeric dtype");
  *out = static_cast<DataType>(t);
  return Status::Ok();
}

Status InferWindow(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  DataType dtype;
  EDGEAI_RETURN_IF_ERROR(OutputDatatype(ctx, &dtype));
  int64_t size = -1;
  if (const Tensor* value = ctx.input_value(0)) {
    EDGEAI_RETURN_IF_ERROR(ReadScalarInt(ctx, *value, "size", &size));
    if (size < 0) return ctx.Error("size must not be negative, got " + std::to_string(size));
  }
  ctx.output(0) = ValueType::Of(dtype, Shape{size});
  return Status::Ok();
}

// Generalised cosine window a0 - a1 cos(2 pi k / N) + a2 cos(4 pi k / N); N = size (periodic) or size - 1.
template <int kA0Num, int kA0Den, int kA2Milli>
class WindowKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    periodic_ = ctx.attrs().GetInt("periodic", 1) != 0;
    return OutputDatatype(ctx, &dtype_);
  }

  Status Compute(KernelContext& ctx) const override {
    int64_t size;
    EDGEAI_RETURN_IF_ERROR(ReadScalarInt(ctx, *ctx.input(0), "size", &size));
    if (size < 0) return ctx.Error("size must not be negative, got " + std::to_string(size));
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, Shape{size}));
    const double a0 = static_cast<double>(kA0Num) / kA0Den;
    const double a1 = kA2Milli != 0 ? 0.5 : 1.0 - a0;  // Blackman: 0.42, 0.5, 0.08; the others: a0 + a1 = 1
    const double a2 = kA2Milli / 1000.0;
    // A one-point symmetric window has N = 0; its only point is k = 0, where every cosine is 1.
    const double period = static_cast<double>(periodic_ ? size : size - 1);
    const size_t elem = DataTypeSize(dtype_);
    auto* out = static_cast<uint8_t*>(y->raw_data());
    for (int64_t k = 0; k < size; ++k) {
      const double angle = k == 0 ? 0.0 : 2.0 * kPi * static_cast<double>(k) / period;
      const double value = a0 - a1 * std::cos(angle) + a2 * std::cos(2.0 * angle);
      EDGEAI_RETURN_IF_ERROR(ConvertScalar(value, dtype_, out + k * elem));
    }
    return Status::Ok();
  }

 private:
  bool periodic_ = true;
  DataType dtype_ = DataType::kFloat32;
};

using HannKernel = WindowKernel<1, 2, 0>;
using HammingKernel = WindowKernel<25, 46, 0>;
using BlackmanKernel = WindowKernel<42, 100, 80>;

// ---------------------------------------------------------------------------------------------- MelWeightMatrix

Status InferMel(InferenceContext& ctx) {
  for (size_t i = 0; i < 5; ++i) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
  DataType dtype;
  EDGEAI_RETURN_IF_ERROR(OutputDatatype(ctx, &dtype));
  int64_t bins = -1, mels = -1;
  if (const Tensor* v = ctx.input_value(0)) EDGEAI_RETURN_IF_ERROR(ReadScalarInt(ctx, *v, "num_mel_bins", &mels));
  if (const Tensor* v = ctx.input_value(1)) {
    EDGEAI_RETURN_IF_ERROR(ReadScalarInt(ctx, *v, "dft_length", &bins));
    if (bins < 1) return ctx.Error("dft_length must be positive, got " + std::to_string(bins));
    bins = bins / 2 + 1;
  }
  if (ctx.input_value(0) != nullptr && mels < 1) {
    return ctx.Error("num_mel_bins must be positive, got " + std::to_string(mels));
  }
  ctx.output(0) = ValueType::Of(dtype, Shape{bins, mels});
  return Status::Ok();
}

class MelKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return OutputDatatype(ctx, &dtype_); }

  Status Compute(KernelContext& ctx) const override {
    int64_t mels = 0, dft_length = 0, rate = 0;
    EDGEAI_RETURN_IF_ERROR(ReadScalarInt(ctx, *ctx.input(0), "num_mel_bins", &mels));
    EDGEAI_RETURN_IF_ERROR(ReadScalarInt(ctx, *ctx.input(1), "dft_length", &dft_length));
    EDGEAI_RETURN_IF_ERROR(ReadScalarInt(ctx, *ctx.input(2), "sample_rate", &rate));
    double lower, upper;
    if (!ScalarFloat(*ctx.input(3), &lower) || !ScalarFloat(*ctx.input(4), &upper)) {
      return ctx.Error("lower_edge_hertz and upper_edge_hertz must be float scalars");
    }
    if (mels < 1 || dft_length < 1 || rate < 1 || lower < 0 || upper < lower) {
      return ctx.Error(
          "needs num_mel_bins, dft_length, sample_rate > 0 and 0 <= lower_edge_hertz <= "
          "upper_edge_hertz");
    }
    const int64_t bins = dft_length / 2 + 1;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, Shape{bins, mels}));
    std::memset(y->raw_data(), 0, y->ByteSize());
    // Band edges: mels + 2 points evenly spaced on the mel scale, mapped back to spectrogram bins.
    thread_local std::vector<int64_t> edges;
    edges.resize(static_cast<size_t>(mels + 2));
    const double low_mel = 2595.0 * std::log10(1.0 + lower / 700.0);
    const double high_mel = 2595.0 * std::log10(1.0 + upper / 700.0);
    const double mel_step = (high_mel - low_mel) / static_cast<double>(mels + 2);
    for (int64_t i = 0; i < mels + 2; ++i) {
      const double hz = 700.0 * (std::pow(10.0, (static_cast<double>(i) * mel_step + low_mel) / 2595.0) - 1.0);
      edges[i] = static_cast<int64_t>(std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(rate)));
    }
    const size_t elem = DataTypeSize(dtype_);
    auto* out = static_cast<uint8_t*>(y->raw_data());
    auto set = [&](int64_t bin, int64_t mel, double value) {
      if (bin < 0 || bin >= bins) return Status::Ok();  // a band edge beyond Nyquist has no column to fill
      return ConvertScalar(value, dtype_, out + (bin * mels + mel) * elem);
    };
    for (int64_t m = 0; m < mels; ++m) {
      const int64_t left = edges[m], center = edges[m + 1], right = edges[m + 2];
      if (center == left) {
        EDGEAI_RETURN_IF_ERROR(set(center, m, 1.0));
      } else {
        for (int64_t j = left; j <= center; ++j) {
          EDGEAI_RETURN_IF_ERROR(set(j, m, static_cast<double>(j - left) / static_cast<double>(center - left)));
        }
      }
      for (int64_t j = center; j < right; ++j) {
        EDGEAI_RETURN_IF_ERROR(set(j, m, static_cast<double>(right - j) / static_cast<double>(right - center)));
      }
    }
    return Status::Ok();
  }

 private:
  DataType dtype_ = DataType::kFloat32;
};

}  // namespace

Status RegisterSignalOps(OpRegistry& registry) {
  const std::vector<DataType> floats = {DataType::kFloat32, DataType::kFloat64};
  const std::vector<DataType> ints = {DataType::kInt32, DataType::kInt64};
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "DFT", 17, 19, floats, InferDft, MakeKernel<DftKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "DFT", 20, kMaxOpset, floats, InferDft, MakeKernel<DftKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "STFT", 17, kMaxOpset, floats, InferStft, MakeKernel<StftKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "HannWindow", 17, kMaxOpset, ints, InferWindow, MakeKernel<HannKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "HammingWindow", 17, kMaxOpset, ints, InferWindow, MakeKernel<HammingKernel>));
  EDGEAI_RETURN_IF_ERROR(
      AddOp(registry, "BlackmanWindow", 17, kMaxOpset, ints, InferWindow, MakeKernel<BlackmanKernel>));
  return AddOp(registry, "MelWeightMatrix", 17, kMaxOpset, ints, InferMel, MakeKernel<MelKernel>);
}

}  // namespace edgeai::cpu
