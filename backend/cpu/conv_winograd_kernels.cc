// The Winograd tile transforms (see conv_winograd_kernels.h), written once with GCC vector extensions over W
// tiles per vector and compiled three times: for AVX-512 (W = 16) and AVX2+FMA (W = 8) through function target
// attributes, and for the baseline ISA (W = 8). Each entry point is `flatten`ed, so the inline helpers below are
// compiled with the entry's ISA; conv_winograd.cc calls an entry only when the CPU runs it.
//
// A tile's pixels are m apart along the row, so a vector of W tiles reads every m-th float: each transform
// splits (input) or interleaves (output) rows with two-source shuffles instead of gathering.
//
// Input:  V = B^T d B for the (m + 2)^2 input patch d of each tile: first down the columns of the patch rows
//         (contiguous loads from the input rows, zero rows in the padding) into T, then across each row of T.
// Output: Y = A^T O A for each tile's (m + 2)^2 products: across, then down, then bias and activation, then
//         the m x m tile rows interleaved into output rows.
#include "backend/cpu/conv_winograd_kernels.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgeai::cpu::winograd_internal {
namespace {

// The masks are built at compile time and the helpers are inlined into their entry point, so no vector
// crosses a call boundary compiled for another ISA (which is what -Wpsabi warns about).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
template <int W>
struct Lanes {
  typedef float F __attribute__((vector_size(4 * W)));
  typedef int32_t I __attribute__((vector_size(4 * W)));

  template <typename Fn, size_t... L>
  static constexpr I Make(Fn fn, std::index_sequence<L...>) {
    return I{fn(static_cast<int>(L))...};
  }
  // Masks over the 2W lanes of a:b.
  static constexpr I Even() { return Make([](int l) { return 2 * l; }, std::make_index_sequence<W>()); }
  static constexpr I Odd() { return Make([](int l) { return 2 * l + 1; }, std::make_index_sequence<W>()); }
  // a shifted down one lane, lane W-1 taken from b's lane `k`.
  template <int k>
  static constexpr I Next() {
    return Make([](int l) { return l + 1 < W ? l + 1 : W + k; }, std::make_index_sequence<W>());
  }
  // a[0], b[0], a[1], b[1], ... from the low (or high) halves.
  static constexpr I InterLo() {
    return Make([](int l) { return l % 2 == 0 ? l / 2 : W + l / 2; }, std::make_index_sequence<W>());
  }
  static constexpr I InterHi() {
    return Make([](int l) { return l % 2 == 0 ? W / 2 + l / 2 : W + W / 2 + l / 2; }, std::make_index_sequence<W>());
  }
};
#pragma GCC diagnostic pop

// The helpers take and fill vectors by reference: returning one by value from a function without the entry's
// target attribute would draw an ABI note for every level.
template <typename F>
inline void Load(F& v, const float* p) {
  std::memcpy(&v, p, sizeof v);
}

template <typename F>
inline void Store(float* p, const F& v) {
  std::memcpy(p, &v, sizeof v);
}

// Lanes [l0, l1) of a vector from p + l0 .. p + l1 (the others zero), and the first n lanes stored to p. Only
// the AVX-512 level (W = 16) has masked loads and stores that touch nothing outside the lanes; the others
// return false and the callers take their generic routes. Inlined into the AVX-512 entry points by `flatten`.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) inline void MaskedLoad16(Lanes<16>::F& v, const float* p, int64_t l0,
                                                            int64_t l1) {
  const unsigned bits = ((1u << l1) - 1u) & ~((1u << l0) - 1u);
  v = _mm512_maskz_loadu_ps(static_cast<__mmask16>(bits), p);
}
__attribute__((target("avx512f"))) inline void MaskedStore16(float* p, const Lanes<16>::F& v, int64_t n) {
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1u), v);
}
#endif

template <int W>
inline bool MaskedLoad(typename Lanes<W>::F& v, const float* p, int64_t l0, int64_t l1) {
#if defined(__x86_64__)
  if constexpr (W == 16) {
    MaskedLoad16(v, p, l0, l1);
    return true;
  }
#endif
  return false;
}

template <int W>
inline bool MaskedStore(float* p, const typename Lanes<W>::F& v, int64_t n) {
#if defined(__x86_64__)
  if constexpr (W == 16) {
    MaskedStore16(p, v, n);
    return true;
  }
#endif
  return false;
}

// One dimension of B^T: t = B^T d over the m + 2 points.
template <int M, typename F>
inline void InputTransform1D(const F* d, F* t) {
  if constexpr (M == 2) {
    t[0] = d[0] - d[2];
    t[1] = d[1] + d[2];
    t[2] = d[2] - d[1];
    t[3] = d[1] - d[3];
  } else {
    const F four = F{} + 4.0f, five = F{} + 5.0f, two = F{} + 2.0f;
    const F a = d[4] - d[2], b = d[3] - d[1];
    t[0] = four * d[0] - five * d[2] + d[4];
    t[1] = (d[3] + d[4]) - four * (d[1] + d[2]);
    t[2] = (d[4] - d[3]) + four * (d[1] - d[2]);
    t[3] = a + two * b;
    t[4] = a - two * b;
    t[5] = four * d[1] - five * d[3] + d[5];
  }
}

// One dimension of A^T: y = A^T o over the m + 2 points.
template <int M, typename F>
inline void OutputTransform1D(const F* o, F* y) {
  if constexpr (M == 2) {
    y[0] = o[0] + o[1] + o[2];
    y[1] = o[1] - o[2] - o[3];
  } else {
    const F s12 = o[1] + o[2], d12 = o[1] - o[2], s34 = o[3] + o[4], d34 = o[3] - o[4];
    y[0] = o[0] + s12 + s34;
    y[1] = d12 + (F{} + 2.0f) * d34;
    y[2] = s12 + (F{} + 4.0f) * s34;
    y[3] = d12 + (F{} + 8.0f) * d34 + o[5];
  }
}

// The m + 2 strided views of a row of T held in vectors q: p[s] lane l = row[l * m + s].
template <int M, int W>
inline void SplitRow(const typename Lanes<W>::F* q, typename Lanes<W>::F* p) {
  using L = Lanes<W>;
  using F = typename L::F;
  if constexpr (M == 2) {
    const F q0 = q[0], q1 = q[1], q2 = q[2];
    p[0] = __builtin_shuffle(q0, q1, L::Even());
    p[1] = __builtin_shuffle(q0, q1, L::Odd());
    p[2] = __builtin_shuffle(p[0], q2, L::template Next<0>());
    p[3] = __builtin_shuffle(p[1], q2, L::template Next<1>());
  } else {
    const F q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3], q4 = q[4];
    const F e01 = __builtin_shuffle(q0, q1, L::Even()), o01 = __builtin_shuffle(q0, q1, L::Odd());
    const F e23 = __builtin_shuffle(q2, q3, L::Even()), o23 = __builtin_shuffle(q2, q3, L::Odd());
    p[0] = __builtin_shuffle(e01, e23, L::Even());
    p[1] = __builtin_shuffle(o01, o23, L::Even());
    p[2] = __builtin_shuffle(e01, e23, L::Odd());
    p[3] = __builtin_shuffle(o01, o23, L::Odd());
    p[4] = __builtin_shuffle(p[0], q4, L::template Next<0>());
    p[5] = __builtin_shuffle(p[1], q4, L::template Next<1>());
  }
}

// The inverse of SplitRow for one output row: out[l * m + j] = y[j] lane l, as m vectors.
template <int M, int W>
inline void InterleaveRow(const typename Lanes<W>::F* y, typename Lanes<W>::F* out) {
  using L = Lanes<W>;
  using F = typename L::F;
  if constexpr (M == 2) {
    out[0] = __builtin_shuffle(y[0], y[1], L::InterLo());
    out[1] = __builtin_shuffle(y[0], y[1], L::InterHi());
  } else {
    const F a_lo = __builtin_shuffle(y[0], y[2], L::InterLo()), a_hi = __builtin_shuffle(y[0], y[2], L::InterHi());
    const F b_lo = __builtin_shuffle(y[1], y[3], L::InterLo()), b_hi = __builtin_shuffle(y[1], y[3], L::InterHi());
    out[0] = __builtin_shuffle(a_lo, b_lo, L::InterLo());
    out[1] = __builtin_shuffle(a_lo, b_lo, L::InterHi());
    out[2] = __builtin_shuffle(a_hi, b_hi, L::InterLo());
    out[3] = __builtin_shuffle(a_hi, b_hi, L::InterHi());
  }
}

// Vectors per row of the column-transformed patch rows T: a vector of tiles spans W * m + 2 input columns.
template <int M, int W>
constexpr int kRowVectors = ((W + 1) * M + W - 1) / W;

// t[v][a] = (B^T d)[a] for patch columns [v W, v W + W): rows[r] is input row r of the patches (null in the
// padding), columns [lo, hi) lie inside the input row at rows[r][base + k], the rest is padding. The vectors
// stay in registers (or aligned spills) on their way to SplitRow.
template <int M, int W>
inline void ColumnTransform(const float* const* rows, int64_t base, int64_t lo, int64_t hi,
                            typename Lanes<W>::F (*t)[M + 2]) {
  using L = Lanes<W>;
  using F = typename L::F;
  using I = typename L::I;
  constexpr int A = M + 2, kVectors = kRowVectors<M, W>;
  // The transformed columns [offset, offset + W) of `src`, moved `shift` lanes down (up when negative), with
  // zeros shifted in: B^T is linear, so a vector read inside the row and then shifted equals one read with the
  // padding in place.
  auto column_vector = [&](const float* const* src, int64_t offset, int64_t shift, F* out) {
    F d[A];
    for (int i = 0; i < A; ++i) {
      d[i] = F{};
      if (src[i] != nullptr) Load(d[i], src[i] + offset);
    }
    InputTransform1D<M>(d, out);
    if (shift != 0) {
      // Lanes l + shift outside [0, W) select the zero vector (indices count modulo 2W).
      const I index = L::Make([](int l) { return l; }, std::make_index_sequence<W>()) + static_cast<int32_t>(shift);
      for (int i = 0; i < A; ++i) out[i] = __builtin_shuffle(out[i], F{}, index);
    }
  };
  if constexpr (W == 16) {
    // The border vectors load their valid lanes under a mask.
    for (int v = 0; v < kVectors; ++v) {
      const int64_t k = v * W;
      const int64_t l0 = std::clamp<int64_t>(lo - k, 0, W), l1 = std::clamp<int64_t>(hi - k, l0, W);
      F d[A];
      for (int i = 0; i < A; ++i) {
        d[i] = F{};
        if (rows[i] == nullptr || l0 == l1) continue;
        if (l1 - l0 == W) {
          Load(d[i], rows[i] + base + k);
        } else {
          MaskedLoad<W>(d[i], rows[i] + base + k, l0, l1);
        }
      }
      InputTransform1D<M>(d, t[v]);
    }
    return;
  }
  if (hi - lo < W) {
    // Fewer valid columns than a vector (narrow images): zero-padded copies of the rows first.
    alignas(64) float staged[A][kVectors * W];
    const float* srcs[A];
    for (int i = 0; i < A; ++i) {
      srcs[i] = nullptr;
      if (rows[i] == nullptr) continue;
      for (int k = 0; k < kVectors * W; k += W) Store(staged[i] + k, F{});
      for (int64_t k = lo; k < hi; ++k) staged[i][k] = rows[i][base + k];
      srcs[i] = staged[i];
    }
    for (int v = 0; v < kVectors; ++v) column_vector(srcs, v * W, 0, t[v]);
    return;
  }
  for (int v = 0; v < kVectors; ++v) {
    const int64_t k = v * W;
    if (k >= hi || k + W <= lo) {
      for (int i = 0; i < A; ++i) t[v][i] = F{};
    } else if (k < lo) {
      column_vector(rows, base + lo, k - lo, t[v]);  // left border: lanes below lo are padding
    } else if (k + W > hi) {
      column_vector(rows, base + hi - W, k - (hi - W), t[v]);  // right border
    } else {
      column_vector(rows, base + k, 0, t[v]);
    }
  }
}

// Tiles [t0, t0 + n) (n <= W) of a segment, channel plane `plane`: their V columns for every point.
template <int M, int W>
inline void InputChunk(const InputSegment& s, const float* plane, int64_t t0, int64_t n, float* v) {
  using F = typename Lanes<W>::F;
  constexpr int A = M + 2, kVectors = kRowVectors<M, W>;
  const int64_t base = s.col0 + t0 * M;  // input column of patch column 0
  const int64_t span = n * M + 2;
  const int64_t lo = std::clamp<int64_t>(-base, 0, span), hi = std::clamp<int64_t>(s.in_w - base, lo, span);
  const float* rows[A];
  for (int i = 0; i < A; ++i) {
    const int64_t ih = s.row0 + i;
    rows[i] = ih >= 0 && ih < s.in_h && lo < hi ? plane + ih * s.in_w : nullptr;
  }
  F t[kVectors][A];
  ColumnTransform<M, W>(rows, base, lo, hi, t);
  for (int a = 0; a < A; ++a) {
    F q[kVectors], p[A], r[A];
    for (int k = 0; k < kVectors; ++k) q[k] = t[k][a];
    SplitRow<M, W>(q, p);
    InputTransform1D<M>(p, r);
    for (int b = 0; b < A; ++b) Store(v + (a * A + b) * s.point_stride, r[b]);
  }
}

template <int M, int W>
inline void InputSegmentImpl(const InputSegment& s, int64_t c0, int64_t c1) {
  const int64_t plane_size = s.in_h * s.in_w;
  for (int64_t c = c0; c < c1; ++c) {
    const float* plane = s.x + c * plane_size;
    for (int64_t t0 = 0; t0 < s.tiles; t0 += W) {
      InputChunk<M, W>(s, plane, t0, std::min<int64_t>(W, s.tiles - t0), s.v + c * s.ld + t0);
    }
  }
}

// The first `count` floats of an output row's m interleaved vectors: whole vectors, then the last few floats.
template <int M, int W>
inline void StoreOutputRow(const typename Lanes<W>::F* out, int64_t count, float* dst) {
  int j = 0;
  for (; j < M && (j + 1) * W <= count; ++j) Store(dst + j * W, out[j]);
  if (j == M || j * W == count) return;
  if (MaskedStore<W>(dst + j * W, out[j], count - j * W)) return;
  alignas(64) float staged[W];
  Store(staged, out[j]);
  for (int64_t l = 0; l < count - j * W; ++l) dst[j * W + l] = staged[l];
}

// Tiles [t0, t0 + n) of a segment for output channel `mo`.
template <int M, int W>
inline void OutputChunk(const OutputSegment& s, int64_t mo, int64_t t0, int64_t n) {
  using F = typename Lanes<W>::F;
  constexpr int A = M + 2;
  const float* o = s.o + mo * s.ld + t0;
  F z[A][M];
  for (int a = 0; a < A; ++a) {
    F row[A];
    for (int b = 0; b < A; ++b) Load(row[b], o + (a * A + b) * s.point_stride);
    OutputTransform1D<M>(row, z[a]);
  }
  F y[M][M];
  for (int j = 0; j < M; ++j) {
    F col[A], r[M];
    for (int a = 0; a < A; ++a) col[a] = z[a][j];
    OutputTransform1D<M>(col, r);
    for (int i = 0; i < M; ++i) y[i][j] = r[i];
  }
  const F bias = F{} + (s.bias != nullptr ? s.bias[mo] : 0.0f);
  const F lo = F{} + s.lo, hi = F{} + s.hi;
  const int64_t col = s.col0 + t0 * M;
  const int64_t count = std::min(n * M, s.out_w - col);
  const int64_t rows = std::min<int64_t>(M, s.out_h - s.row0);
  float* plane = s.y + mo * s.out_h * s.out_w;
  for (int64_t i = 0; i < rows; ++i) {
    for (int j = 0; j < M; ++j) {
      F v = y[i][j] + bias;
      if (s.clamp) {
        // Comparisons that are false for NaN keep it NaN, as the standalone ops do.
        v = v < lo ? lo : v;
        v = v > hi ? hi : v;
      }
      y[i][j] = v;
    }
    F out[M];
    InterleaveRow<M, W>(y[i], out);
    float* dst = plane + (s.row0 + i) * s.out_w + col;
    StoreOutputRow<M, W>(out, count, dst);
    if (s.act != nullptr) ApplyActivation(dst, count, *s.act);
  }
}

template <int M, int W>
inline void OutputSegmentImpl(const OutputSegment& s, int64_t m0, int64_t m1) {
  for (int64_t mo = m0; mo < m1; ++mo) {
    for (int64_t t0 = 0; t0 < s.tiles; t0 += W) OutputChunk<M, W>(s, mo, t0, std::min<int64_t>(W, s.tiles - t0));
  }
}

#define EDGEAI_WINOGRAD_ENTRIES(SUFFIX, ATTR, W)                                                           \
  ATTR __attribute__((flatten)) void Input2##SUFFIX(const InputSegment& s, int64_t c0, int64_t c1) {      \
    InputSegmentImpl<2, W>(s, c0, c1);                                                                     \
  }                                                                                                        \
  ATTR __attribute__((flatten)) void Input4##SUFFIX(const InputSegment& s, int64_t c0, int64_t c1) {      \
    InputSegmentImpl<4, W>(s, c0, c1);                                                                     \
  }                                                                                                        \
  ATTR __attribute__((flatten)) void Output2##SUFFIX(const OutputSegment& s, int64_t m0, int64_t m1) {    \
    OutputSegmentImpl<2, W>(s, m0, m1);                                                                    \
  }                                                                                                        \
  ATTR __attribute__((flatten)) void Output4##SUFFIX(const OutputSegment& s, int64_t m0, int64_t m1) {    \
    OutputSegmentImpl<4, W>(s, m0, m1);                                                                    \
  }

EDGEAI_WINOGRAD_ENTRIES(Portable, , 8)
#if defined(__x86_64__)
EDGEAI_WINOGRAD_ENTRIES(Avx2, __attribute__((target("avx2,fma"))), 8)
EDGEAI_WINOGRAD_ENTRIES(Avx512, __attribute__((target("avx512f,avx2,fma"))), 16)
#endif
#undef EDGEAI_WINOGRAD_ENTRIES


static_assert(kMaxLanes >= 16, "the block layouts must leave room for the widest vector of tiles");

}  // namespace

const TransformSet* WinogradTransforms(int m, TransformIsa isa) {
  static const TransformSet kPortable[2] = {{Input2Portable, Output2Portable}, {Input4Portable, Output4Portable}};
#if defined(__x86_64__)
  static const TransformSet kAvx2[2] = {{Input2Avx2, Output2Avx2}, {Input4Avx2, Output4Avx2}};
  static const TransformSet kAvx512[2] = {{Input2Avx512, Output2Avx512}, {Input4Avx512, Output4Avx512}};
#endif
  if (m != 2 && m != 4) return nullptr;
  const int i = m == 2 ? 0 : 1;
  switch (isa) {
    case TransformIsa::kPortable:
      return &kPortable[i];
    case TransformIsa::kAvx2:
#if defined(__x86_64__)
      return &kAvx2[i];
#else
      return nullptr;
#endif
    case TransformIsa::kAvx512:
#if defined(__x86_64__)
      return &kAvx512[i];
#else
      return nullptr;
#endif
  }
  return nullptr;
}

}  // namespace edgeai::cpu::winograd_internal
