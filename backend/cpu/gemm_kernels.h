// Internal to the SGEMM: what one instruction-set level provides (register-blocked micro-kernels, the matching
// operand packers and cache-blocking sizes). gemm.cc picks one level at startup and gemm_driver.cc drives it;
// the kernels live in one file per level so that each is compiled for its instruction set only (function
// target attributes: nothing else in the library depends on CPU features the build machine happens to have).
//
// Packed layouts, shared by every level (MR, NR: the level's register tile):
//   A block (mb rows x kb): panels of MR rows, each stored k-major: panel[k * MR + i] = A(row0 + i, k0 + k);
//     the last panel is zero-padded to MR rows.
//   B block (kb x nb): panels of NR columns, each stored k-major: panel[k * NR + j] = B(k0 + k, col0 + j);
//     the last panel is zero-padded to NR columns.
#pragma once

#include <cstdint>

namespace edgeai::cpu::gemm_internal {

// How a register tile is stored: C = alpha * (Apanel * Bpanel) + beta * C (+ bias[i] on row i and col_bias[j]
// on column j when not null), then clamped to [lo, hi] when `clamp` (a fused Relu or Clip, on the last K block
// only).
struct TileStore {
  float alpha = 1.0f, beta = 0.0f;
  const float* bias = nullptr;
  const float* col_bias = nullptr;  // cols floats (read as whole vectors only where the tile is padded)
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
};

// C[rows x cols] from the product of the panels over kb steps, stored as `st` says, for rows <= MR and cols <= NR; beta == 0 ignores what C held (NaN included). Row k of the B panel
// starts at b + k * ldb: ldb == NR for a packed panel, or a row stride for rows read in place. `padded`: whole
// vectors may be read past column `cols` (packed panels and zero-padded rows); otherwise nothing past it is.
// The A panel is always packed (MR floats per k step).
using MicroKernelFn = void (*)(int64_t kb, const float* a, const float* b, int64_t ldb, bool padded, float* c,
                               int64_t ldc, int rows, int cols, const TileStore& st);
// Packs rows [0, mb) x k [0, kb) of op(A) (src points at element (0, 0) of the block; trans: A is stored
// K x M) into MR-row panels at dst.
using PackAFn = void (*)(bool trans, const float* src, int64_t ld, int64_t mb, int64_t kb, float* dst);
// Packs k [0, kb) x columns [0, nb) of op(B) (trans: B is stored N x K) into NR-column panels at dst.
using PackBFn = void (*)(bool trans, const float* src, int64_t ld, int64_t kb, int64_t nb, float* dst);
// C[m x n] = alpha * A * B^T + beta * C with A [m x k] and B [n x k] row-major: dot products of rows, for
// products with too few rows of A to repay packing B (recurrent cells, one input at a time).
using DotRowsFn = void (*)(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                           int64_t ldb, float* c, int64_t ldc, float alpha, float beta);

// C[m x n] = op(A) * B for a few rows of A against a prepacked B (a fully connected layer at batch 1..4),
// stored as `st` says (st.bias[i] on row i, st.col_bias[j] on column j, both indexed from C's origin), for the
// B panels [p0, p1) only. A(i, k) is a[i * a_row + k * a_k]: read in place, since packing a single row costs
// as much as the product. B's K blocks run back to back for each panel so that the accumulators hold a whole
// dot product and the weights stream once; the product is bound by reading B, not by arithmetic.
using PackedRowsFn = void (*)(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_k,
                              const float* packed_b, int64_t kblock, int64_t n, int64_t p0, int64_t p1, float* c,
                              int64_t ldc, const TileStore& st);
// The most rows a PackedRowsFn takes.
constexpr int64_t kPackedRowsMax = 8;

// The store of a tile computed for C^T = B^T A^T: C(j, i) = alpha * t(i, j) + beta * C(j, i) + bias[j]
// (+ col_bias[i]), clamped, from the tile t[rows x cols] (row stride ldt) into C^T at c; each of C's rows takes
// a run of `rows` consecutive values.
using StoreTransposedFn = void (*)(const float* t, int64_t ldt, int rows, int cols, float* c, int64_t ldc,
                                   const TileStore& st);

// The register tile of every level fits in this many floats (the driver keeps one on the stack).
constexpr int kMaxTileFloats = 1024;

struct KernelSet {
  const char* name;
  int mr, nr;
  int vec;     // floats per vector: the kernel rounds its columns up to whole vectors
  int64_t kc;  // largest K block
  int64_t mc;  // rows of A per block (a multiple of mr)
  int64_t nc;  // columns of B per block (a multiple of nr)
  MicroKernelFn kernel;
  PackAFn pack_a;
  PackBFn pack_b;
  DotRowsFn dot_rows;
  PackedRowsFn packed_rows;  // nullptr where the level has none (the blocked path then serves few rows too)
  StoreTransposedFn store_transposed;  // nullptr: the driver's scalar loop
};

// nullptr where the level is not compiled in (non-x86 builds); whether the CPU runs it is the caller's check.
const KernelSet* Avx512KernelSet();
const KernelSet* Avx512NarrowKernelSet();  // 16 x 16 tiles, for products of 15-16 rows
const KernelSet* Avx2KernelSet();
const KernelSet* PortableKernelSet();

}  // namespace edgeai::cpu::gemm_internal
