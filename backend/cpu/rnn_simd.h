// The vector kernels of the recurrent ops' float32 fast path (rnn_simd.cc), used by rnn_common.h's driver.
#pragma once

#include <cstdint>

namespace edgeai::cpu {
namespace rnn {

// R is packed once into column panels so that the product of every step streams it without repacking: for each
// direction and gate, panel q holds R^T's columns [16q, 16q + 16) of that gate as `hidden` rows of 16 floats
// (zeros past hidden). Gate outputs of a step land in scratch rows with each gate at a multiple of the panel
// width (RecurrentGateStride), and fused row kernels do the gate math with vectorised sigmoid and tanh.

constexpr int64_t kRecurrentPanel = 16;
inline int64_t RecurrentGateStride(int64_t hidden) {
  return (hidden + kRecurrentPanel - 1) / kRecurrentPanel * kRecurrentPanel;
}
inline int64_t PackedRecurrentSize(int64_t directions, int64_t gates, int64_t hidden) {
  return directions * gates * RecurrentGateStride(hidden) * hidden;
}
// out: PackedRecurrentSize floats, from R [directions, gates * hidden, hidden].
void PackRecurrent(const float* r, int64_t directions, int64_t gates, int64_t hidden, float* out);

// C[m, panels] = H[m, k] * panels, over `gates` gates of `count` panels each: gate i's panel q at
// panels + i * gate_panels + q * kRecurrentPanel * k, its columns at c + i * c_gate + q * kRecurrentPanel.
struct RecurrentProductArgs {
  int64_t m = 0, k = 0;
  const float* h = nullptr;
  int64_t ldh = 0;
  const float* panels = nullptr;
  int64_t gate_panels = 0;
  int64_t gates = 0, count = 0;
  float* c = nullptr;
  int64_t c_gate = 0, ldc = 0;
};

// One batch row of a step's gate math, over the hidden units [j0, j1).
struct RnnRowArgs {
  const float* xw = nullptr;    // X*W^T, gate i at xw + i * hidden
  const float* in_bias = nullptr;  // the input-side biases to add to it, laid out alike; null when none
  float* g = nullptr;           // recurrent products, gate i at g + i * gate_stride
  int64_t gate_stride = 0, hidden = 0;
  const float* h_prev = nullptr;
  float* h_out = nullptr;       // a second buffer, except for the in-place GRU h gate (linear_before_reset = 0)
  float* c = nullptr;           // LSTM cell state, updated in place
  float* reset_h = nullptr;     // GRU linear_before_reset = 0: r (.) Ht-1
  const float* bias = nullptr;  // GRU: Rbh (linear_before_reset = 1), LSTM: peepholes; null when absent
  int64_t j0 = 0, j1 = 0;
  float clip = 0.0f;
  bool input_forget = false;
};

// The kernels of the active ISA. GRU/LSTM/RNN rows assume the default activations (sigmoid, tanh[, tanh]).
struct RnnSimdKernels {
  void (*product)(const RecurrentProductArgs&);
  void (*gru_linear)(const RnnRowArgs&);  // linear_before_reset = 1
  void (*gru_reset)(const RnnRowArgs&);   // linear_before_reset = 0: z and r (.) Ht-1
  void (*gru_hidden)(const RnnRowArgs&);  // linear_before_reset = 0: the h gate and Ht
  void (*lstm)(const RnnRowArgs&);
  void (*rnn_tanh)(const RnnRowArgs&);
};
const RnnSimdKernels& RnnSimd();

// The per-step product for gates [g0, g1) and the panels [q0, q1) of each, of direction `panels` (the packed R of
// one direction), into `c` laid out as the scratch rows (ldc, gates at RecurrentGateStride).
inline RecurrentProductArgs StepProduct(const float* panels, int64_t hidden, int64_t g0, int64_t g1, int64_t q0,
                                        int64_t q1, int64_t m, const float* h, float* c, int64_t ldc) {
  const int64_t gs = RecurrentGateStride(hidden);
  RecurrentProductArgs a;
  a.m = m;
  a.k = hidden;
  a.h = h;
  a.ldh = hidden;
  a.panels = panels + g0 * gs * hidden + q0 * kRecurrentPanel * hidden;
  a.gate_panels = gs * hidden;
  a.gates = g1 - g0;
  a.count = q1 - q0;
  a.c = c + g0 * gs + q0 * kRecurrentPanel;
  a.c_gate = gs;
  a.ldc = ldc;
  return a;
}

}  // namespace rnn
}  // namespace edgeai::cpu
