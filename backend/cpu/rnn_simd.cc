// Vector kernels of the float32 recurrent fast path: the per-step product H * R^T against R packed once into
// column panels, and the gate math of GRU, LSTM and RNN fused per batch row with fast sigmoid and tanh.
//
// The kernels are written once with GCC/Clang vector extensions and always inlined into one entry point per ISA,
// whose target attribute decides the instructions: AVX-512 (16 lanes), AVX2+FMA (8 lanes) and the baseline
// (4 lanes; SSE2 on x86-64). Intrinsics would tie each copy of the code to one ISA; generic vector operators let
// one source serve all three. The level follows ActiveSgemmIsa(), so forcing a GEMM level also covers these.
#include "backend/cpu/rnn_simd.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "backend/cpu/gemm.h"

// Every vector-typed function is inlined into an entry point of its ISA, so no vector crosses a call boundary
// whose ABI would depend on the target.
#pragma GCC diagnostic ignored "-Wpsabi"

#define EDGEAI_RNN_INLINE inline __attribute__((always_inline))

namespace edgeai::cpu {
namespace rnn {
namespace {

template <int N>
struct Math {
  typedef float F __attribute__((vector_size(4 * N)));
  typedef int32_t I __attribute__((vector_size(4 * N)));

  // Lane by lane through memory, which compiles to one broadcast; F{} + x would add 0 first (it must, for -0).
  static EDGEAI_RNN_INLINE F Splat(float x) {
    float lanes[N];
#pragma GCC unroll 16
    for (int i = 0; i < N; ++i) lanes[i] = x;
    return Load(lanes);
  }
  static EDGEAI_RNN_INLINE F Load(const float* p) {
    F v;
    __builtin_memcpy(&v, p, sizeof(F));
    return v;
  }
  // n lanes (1..N) from p, the rest zero; n == N folds into a plain load once inlined with a constant n.
  static EDGEAI_RNN_INLINE F Load(const float* p, int n) {
    if (n == N) return Load(p);
    F v = F{};
    __builtin_memcpy(&v, p, sizeof(float) * n);
    return v;
  }
  static EDGEAI_RNN_INLINE void Store(float* p, F v, int n) { __builtin_memcpy(p, &v, sizeof(float) * n); }
  // Same-size vector casts reinterpret the bits.
  static EDGEAI_RNN_INLINE I Bits(F x) { return (I)x; }
  static EDGEAI_RNN_INLINE F FromBits(I x) { return (F)x; }

  // The spec clips the input of every activation when clip > 0. A NaN compares false and passes through.
  static EDGEAI_RNN_INLINE F Clip(F x, float clip) {
    if (clip > 0.0f) {
      const F lo = Splat(-clip), hi = Splat(clip);
      x = x < lo ? lo : x;
      x = x > hi ? hi : x;
    }
    return x;
  }

  // e^x with a relative error of about 1e-7: x = n ln2 + r, |r| <= ln2 / 2, e^r by its Taylor series to r^6
  // (the next term is below 2^-23 on that range), 2^n built in the exponent bits. The clamp keeps 2^n normal;
  // e^-87 ~ 1.6e-38 is close enough to zero for the gates.
  static EDGEAI_RNN_INLINE F Exp(F x) {
    const F lo = Splat(-87.0f), hi = Splat(87.0f);
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    // Adding 1.5 * 2^23 rounds x / ln2 to an integer held in the low mantissa bits of t.
    const F magic = Splat(12582912.0f);
    const F t = x * 1.44269504f + magic;
    const F n = t - magic;
    F r = x - n * 0.693145752f;  // ln2 in two parts: n * the high part is exact
    r = r - n * 1.42860677e-6f;
    F p = Splat(1.0f / 720.0f);
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * FromBits(((Bits(t) - Bits(magic)) + 127) << 23);
  }

  static EDGEAI_RNN_INLINE F Sigmoid(F x) { return 1.0f / (1.0f + Exp(-x)); }

  // tanh x = 1 - 2 / (1 + e^2x): an absolute error of about 1e-7 (the gates need no better), and no branch.
  static EDGEAI_RNN_INLINE F Tanh(F x) { return 1.0f - 2.0f / (1.0f + Exp(x + x)); }
};

// --- the recurrent product -----------------------------------------------------------------------------------

// Rows of H per register tile and accumulator vectors the tile may hold (32 zmm, 16 ymm or 16 xmm registers,
// leaving room for the panel vectors and the broadcast).
template <int N>
struct TileConfig {
  static constexpr int kRows = N == 16 ? 8 : N == 8 ? 4 : 2;
  static constexpr int kAccumulators = N == 16 ? 24 : N == 8 ? 12 : 8;
  static constexpr int kVectorsPerPanel = static_cast<int>(kRecurrentPanel) / N;
  // Panels per tile for r rows: as many as the accumulators allow, at most 8.
  static constexpr int Panels(int r) {
    const int p = kAccumulators / (r * kVectorsPerPanel);
    return p < 1 ? 1 : p > 8 ? 8 : p;
  }
};

// C[R rows, NP panels] = A[R, k] * the NP panels (k rows of kRecurrentPanel floats each).
template <int N, int R, int NP>
EDGEAI_RNN_INLINE void Tile(int64_t k, const float* a, int64_t lda, const float* const* b, float* const* c,
                            int64_t ldc) {
  using M = Math<N>;
  using F = typename M::F;
  constexpr int VP = TileConfig<N>::kVectorsPerPanel;
  F acc[R][NP * VP];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 32
    for (int q = 0; q < NP * VP; ++q) acc[i][q] = F{};
  }
  for (int64_t kk = 0; kk < k; ++kk) {
    F bv[NP * VP];
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) {
#pragma GCC unroll 4
      for (int v = 0; v < VP; ++v) bv[p * VP + v] = M::Load(b[p] + kk * kRecurrentPanel + v * N);
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const F av = M::Splat(a[i * lda + kk]);
#pragma GCC unroll 32
      for (int q = 0; q < NP * VP; ++q) acc[i][q] += av * bv[q];
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) {
#pragma GCC unroll 4
      for (int v = 0; v < VP; ++v) M::Store(c[p] + i * ldc + v * N, acc[i][p * VP + v], N);
    }
  }
}

// Panels [v, v + NP) of the product's (gate, panel) sequence, for R rows from `row`.
template <int N, int R, int NP>
EDGEAI_RNN_INLINE void Group(const RecurrentProductArgs& p, int64_t row, int64_t v) {
  const float* b[NP];
  float* c[NP];
#pragma GCC unroll 8
  for (int j = 0; j < NP; ++j) {
    const int64_t gate = (v + j) / p.count, q = (v + j) % p.count;
    b[j] = p.panels + gate * p.gate_panels + q * kRecurrentPanel * p.k;
    c[j] = p.c + row * p.ldc + gate * p.c_gate + q * kRecurrentPanel;
  }
  Tile<N, R, NP>(p.k, p.h + row * p.ldh, p.ldh, b, c, p.ldc);
}

template <int N, int R>
EDGEAI_RNN_INLINE void RowBlock(const RecurrentProductArgs& p, int64_t row) {
  constexpr int NP = TileConfig<N>::Panels(R);
  constexpr int kHalf = NP / 2 > 0 ? NP / 2 : 1;
  const int64_t total = p.gates * p.count;
  int64_t v = 0;
  for (; v + NP <= total; v += NP) Group<N, R, NP>(p, row, v);
  if constexpr (kHalf > 1) {
    for (; v + kHalf <= total; v += kHalf) Group<N, R, kHalf>(p, row, v);
  }
  for (; v < total; ++v) Group<N, R, 1>(p, row, v);
}

// One tile height per row count below the full one, for the last rows.
template <int N, int R>
EDGEAI_RNN_INLINE void Rows(const RecurrentProductArgs& p, int64_t row, int64_t rows) {
  if constexpr (R > 1) {
    if (rows < R) {
      Rows<N, R - 1>(p, row, rows);
      return;
    }
  }
  RowBlock<N, R>(p, row);
}

template <int N>
EDGEAI_RNN_INLINE void Product(const RecurrentProductArgs& p) {
  constexpr int MR = TileConfig<N>::kRows;
  for (int64_t row = 0; row < p.m; row += MR) Rows<N, MR>(p, row, std::min<int64_t>(MR, p.m - row));
}

// --- gate math -----------------------------------------------------------------------------------------------

// Body::Run<N>(args, j, n) over the columns [j0, j1) of a row, N at a time; the last vector may be partial.
template <int N, typename Body>
EDGEAI_RNN_INLINE void ForColumns(const RnnRowArgs& a) {
  int64_t j = a.j0;
  for (; j + N <= a.j1; j += N) Body::template Run<N>(a, j, N);
  if (j < a.j1) Body::template Run<N>(a, j, static_cast<int>(a.j1 - j));
}

// Gate `gate` of X*W^T plus its input-side bias, which the fast path adds here instead of copying it into every
// row of X*W^T beforehand.
template <int N>
EDGEAI_RNN_INLINE typename Math<N>::F InputPart(const RnnRowArgs& a, int64_t gate, int64_t j, int n) {
  const int64_t at = gate * a.hidden + j;
  typename Math<N>::F x = Math<N>::Load(a.xw + at, n);
  if (a.in_bias != nullptr) x += Math<N>::Load(a.in_bias + at, n);
  return x;
}

// GRU, linear_before_reset = 1: z, r = f(...); ht = g(xh + r (.) (Rh*H + Rbh)); H = ht + z (.) (H - ht).
struct GruLinearBody {
  template <int N>
  static EDGEAI_RNN_INLINE void Run(const RnnRowArgs& a, int64_t j, int n) {
    using M = Math<N>;
    const int64_t gs = a.gate_stride;
    const typename M::F z = M::Sigmoid(M::Clip(InputPart<N>(a, 0, j, n) + M::Load(a.g + j, n), a.clip));
    const typename M::F r = M::Sigmoid(M::Clip(InputPart<N>(a, 1, j, n) + M::Load(a.g + gs + j, n), a.clip));
    typename M::F gh = M::Load(a.g + 2 * gs + j, n);
    if (a.bias != nullptr) gh += M::Load(a.bias + j, n);
    const typename M::F ht = M::Tanh(M::Clip(InputPart<N>(a, 2, j, n) + r * gh, a.clip));
    M::Store(a.h_out + j, ht + z * (M::Load(a.h_prev + j, n) - ht), n);
  }
};

// GRU, linear_before_reset = 0, before the h gate's product: z = f(...) kept in the z slot, r (.) H for it.
struct GruResetBody {
  template <int N>
  static EDGEAI_RNN_INLINE void Run(const RnnRowArgs& a, int64_t j, int n) {
    using M = Math<N>;
    const int64_t gs = a.gate_stride;
    M::Store(a.g + j, M::Sigmoid(M::Clip(InputPart<N>(a, 0, j, n) + M::Load(a.g + j, n), a.clip)), n);
    const typename M::F r = M::Sigmoid(M::Clip(InputPart<N>(a, 1, j, n) + M::Load(a.g + gs + j, n), a.clip));
    M::Store(a.reset_h + j, r * M::Load(a.h_prev + j, n), n);
  }
};

// GRU, linear_before_reset = 0, after it: ht = g(xh + (r (.) H)*Rh^T), H = ht + z (.) (H - ht).
struct GruHiddenBody {
  template <int N>
  static EDGEAI_RNN_INLINE void Run(const RnnRowArgs& a, int64_t j, int n) {
    using M = Math<N>;
    const int64_t gs = a.gate_stride;
    const typename M::F ht = M::Tanh(M::Clip(InputPart<N>(a, 2, j, n) + M::Load(a.g + 2 * gs + j, n), a.clip));
    const typename M::F z = M::Load(a.g + j, n);
    M::Store(a.h_out + j, ht + z * (M::Load(a.h_prev + j, n) - ht), n);
  }
};

// LSTM (gates i, o, f, c; peepholes i, o, f): see rnn_lstm.cc. The cell state is updated in place.
struct LstmBody {
  template <int N>
  static EDGEAI_RNN_INLINE void Run(const RnnRowArgs& a, int64_t j, int n) {
    using M = Math<N>;
    using F = typename M::F;
    const int64_t hid = a.hidden, gs = a.gate_stride;
    F in = InputPart<N>(a, 0, j, n) + M::Load(a.g + j, n);
    F out = InputPart<N>(a, 1, j, n) + M::Load(a.g + gs + j, n);
    F forget = InputPart<N>(a, 2, j, n) + M::Load(a.g + 2 * gs + j, n);
    const F cell = M::Tanh(M::Clip(InputPart<N>(a, 3, j, n) + M::Load(a.g + 3 * gs + j, n), a.clip));
    const F c_prev = M::Load(a.c + j, n);
    if (a.bias != nullptr) {
      in += M::Load(a.bias + j, n) * c_prev;
      forget += M::Load(a.bias + 2 * hid + j, n) * c_prev;
    }
    in = M::Sigmoid(M::Clip(in, a.clip));
    forget = a.input_forget ? 1.0f - in : M::Sigmoid(M::Clip(forget, a.clip));
    const F c_new = forget * c_prev + in * cell;
    M::Store(a.c + j, c_new, n);
    if (a.bias != nullptr) out += M::Load(a.bias + hid + j, n) * c_new;
    out = M::Sigmoid(M::Clip(out, a.clip));
    M::Store(a.h_out + j, out * M::Tanh(M::Clip(c_new, a.clip)), n);
  }
};

struct RnnTanhBody {
  template <int N>
  static EDGEAI_RNN_INLINE void Run(const RnnRowArgs& a, int64_t j, int n) {
    using M = Math<N>;
    M::Store(a.h_out + j, M::Tanh(M::Clip(InputPart<N>(a, 0, j, n) + M::Load(a.g + j, n), a.clip)), n);
  }
};

// One set of entry points per ISA: the target attribute of each decides the code of everything inlined into it.
#define EDGEAI_RNN_ENTRY_POINTS(ns, target, lanes)                                                 \
  namespace ns {                                                                                   \
  target void RunProduct(const RecurrentProductArgs& p) { Product<lanes>(p); }                     \
  target void GruLinear(const RnnRowArgs& a) { ForColumns<lanes, GruLinearBody>(a); }              \
  target void GruReset(const RnnRowArgs& a) { ForColumns<lanes, GruResetBody>(a); }                \
  target void GruHidden(const RnnRowArgs& a) { ForColumns<lanes, GruHiddenBody>(a); }              \
  target void Lstm(const RnnRowArgs& a) { ForColumns<lanes, LstmBody>(a); }                        \
  target void RnnTanh(const RnnRowArgs& a) { ForColumns<lanes, RnnTanhBody>(a); }                  \
  const RnnSimdKernels kKernels = {RunProduct, GruLinear, GruReset, GruHidden, Lstm, RnnTanh};     \
  }

EDGEAI_RNN_ENTRY_POINTS(portable, , 4)
#if defined(__x86_64__)
EDGEAI_RNN_ENTRY_POINTS(avx2, __attribute__((target("avx2,fma"))), 8)
EDGEAI_RNN_ENTRY_POINTS(avx512, __attribute__((target("avx512f,avx2,fma"))), 16)
#endif

}  // namespace

const RnnSimdKernels& RnnSimd() {
#if defined(__x86_64__)
  switch (ActiveSgemmIsa()) {
    case SgemmIsa::kAvx512: return avx512::kKernels;
    case SgemmIsa::kAvx2: return avx2::kKernels;
    case SgemmIsa::kPortable: break;
  }
#endif
  return portable::kKernels;
}

void PackRecurrent(const float* r, int64_t directions, int64_t gates, int64_t hidden, float* out) {
  const int64_t gs = RecurrentGateStride(hidden);
  for (int64_t d = 0; d < directions; ++d) {
    for (int64_t g = 0; g < gates; ++g) {
      const float* src = r + (d * gates + g) * hidden * hidden;  // rows of gate g: [hidden, hidden]
      float* dst = out + (d * gates + g) * gs * hidden;
      for (int64_t q = 0; q < gs / kRecurrentPanel; ++q) {
        float* panel = dst + q * kRecurrentPanel * hidden;
        for (int64_t kk = 0; kk < hidden; ++kk) {
          for (int64_t l = 0; l < kRecurrentPanel; ++l) {
            const int64_t col = q * kRecurrentPanel + l;
            panel[kk * kRecurrentPanel + l] = col < hidden ? src[col * hidden + kk] : 0.0f;
          }
        }
      }
    }
  }
}

}  // namespace rnn
}  // namespace edgeai::cpu
