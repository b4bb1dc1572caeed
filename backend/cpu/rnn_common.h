// Shared machinery of the recurrent ops (RNN, GRU, LSTM): attribute parsing, shape inference, activation
// functions and the time-step driver. Each op supplies only its cell (the gate math of one step).
//
// The driver does the input projection of every time step and gate at once (one GEMM of X against all of W),
// so each step is left with the recurrent GEMM against R and elementwise gate math. Per-batch sequence_lens
// are handled by giving each batch row its own time index per step; rows past their length stop updating, so
// their state is already the one to report in Y_h / Y_c.
//
// float32 with the default activations takes a fast path: W and R packed once at load time when constant (R
// into column panels, see rnn_simd.h; a non-constant R is packed per run), each step one pass per chunk of
// hidden units that does the recurrent product and the fused vector gate math, no allocation and no fork per
// step. Large single-direction steps are split over the pool's threads through RunStages.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "backend/cpu/gemm.h"
#include "backend/cpu/rnn_simd.h"
#include "backend/kernel.h"
#include "backend/op_registry.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace rnn {

// Input positions shared by the three ops (LSTM adds initial_c and P).
enum RnnInput : size_t { kX = 0, kW, kR, kB, kSequenceLens, kInitialH, kInitialC, kP };

enum class ActivationKind {
  kSigmoid, kTanh, kRelu, kHardSigmoid, kAffine, kLeakyRelu, kThresholdedRelu, kScaledTanh, kElu, kSoftsign,
  kSoftplus,
};

struct Activation {
  ActivationKind kind = ActivationKind::kTanh;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// What distinguishes the three ops to the shared code.
struct RnnOpInfo {
  int num_gates;                                 // rows of W/R per direction, in units of hidden_size
  std::vector<std::string> default_activations;  // per direction, in the spec's order (f, g, h)
  int max_outputs;                               // Y, Y_h (and Y_c for LSTM)
  bool has_cell_state;                           // initial_c and P inputs exist
};

// Attributes, parsed and validated once.
struct RnnSpec {
  int64_t hidden_size = -1;  // -1 when absent: taken from R
  bool reverse = false;      // with num_directions == 1
  int num_directions = 1;
  std::vector<Activation> activations;  // num_directions * per-direction count, direction-major
  float clip = 0.0f;                    // 0: no clipping
  bool layout_batch_first = false;      // layout = 1 (opset 14+)
  bool linear_before_reset = false;     // GRU only
  bool input_forget = false;            // LSTM only

  const Activation* DirectionActivations(int d) const {
    return activations.data() + d * (activations.size() / num_directions);
  }
};

Status ParseRnnSpec(const InferenceContext& ctx, const RnnOpInfo& info, RnnSpec* spec);

// Shape inference for all three ops: validates every present input against the others and sets the outputs.
Status InferRnn(InferenceContext& ctx, const RnnOpInfo& info);

// --- activations -----------------------------------------------------------------------------------------------

template <typename T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

// Applies `act` to x[0..n) in place, after clipping to [-clip, clip] when clip > 0 (the spec clips the input of
// every activation).
template <typename T>
void ApplyActivation(const Activation& act, float clip, T* x, int64_t n) {
  ArrayMap<T> a(x, n);
  if (clip > 0.0f) a = a.max(T(-clip)).min(T(clip));
  const T alpha = T(act.alpha), beta = T(act.beta);
  switch (act.kind) {
    case ActivationKind::kSigmoid: a = a.logistic(); break;
    case ActivationKind::kTanh: a = a.tanh(); break;
    case ActivationKind::kRelu: a = a.max(T(0)); break;
    case ActivationKind::kHardSigmoid: a = (alpha * a + beta).max(T(0)).min(T(1)); break;
    case ActivationKind::kAffine: a = alpha * a + beta; break;
    case ActivationKind::kLeakyRelu: a = (a >= T(0)).select(a, alpha * a); break;
    case ActivationKind::kThresholdedRelu: a = (a >= alpha).select(a, T(0)); break;
    case ActivationKind::kScaledTanh: a = alpha * (beta * a).tanh(); break;
    case ActivationKind::kElu: a = (a >= T(0)).select(a, alpha * (a.exp() - T(1))); break;
    case ActivationKind::kSoftsign: a = a / (T(1) + a.abs()); break;
    // log(1 + e^x) without overflow for large x.
    case ActivationKind::kSoftplus: a = a.max(T(0)) + (-a.abs()).exp().log1p(); break;
  }
}

// --- the float32 fast path: the vector kernels are in rnn_simd.h -----------------------------------------------

// Recurrent multiply-adds per step from which a single-direction recurrence splits each step's hidden units over
// the pool's threads. Each step then ends in a wait for the other threads (a fraction of a microsecond when they
// are running), which a product of this size (several microseconds) repays; smaller steps stay on one thread.
constexpr int64_t kParallelStepMacs = int64_t{1} << 17;

// Runs task(stage, chunk) for stages [0, stages) of `chunks` tasks each, where a stage may start only once the
// previous one is complete: the steps (and phases) of a recurrence, each split into chunks of hidden units. The
// calling thread and any pool threads that join claim tasks in order from one counter and wait only for tasks
// already claimed by a running thread, so one thread alone completes everything and nothing can deadlock.
void RunStages(int64_t stages, int64_t chunks, const ThreadPool& pool, FunctionRef<void(int64_t, int64_t)> task);

// W and R packed at load time when they are constants (float32 only).
struct RnnWeights {
  SgemmPacked w;  // op(B) = W^T [input, directions * gates * hidden]
  const float* w_from = nullptr;
  AlignedFloatBuffer r;  // PackRecurrent layout
  const float* r_from = nullptr;
  int64_t r_hidden = 0, r_directions = 0;

  void Pack(const InferenceContext& ctx, int gates);
};

// --- the time-step driver --------------------------------------------------------------------------------------

inline void Gemm(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c,
                 const ThreadPool& pool) {
  Sgemm(s, alpha, a, b, beta, c, pool);
}
inline void Gemm(const GemmShape& s, double alpha, const double* a, const double* b, double beta, double* c,
                 const ThreadPool& pool) {
  Dgemm(s, alpha, a, b, beta, c, pool);
}

// C[m, n] (row stride ldc) = A[m, k] (row stride lda) * B^T, B stored [n, k] (row stride k), as W and R are.
template <typename T>
void GemmAbt(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, T beta, T* c, int64_t ldc,
             const ThreadPool& pool) {
  GemmShape s;
  s.trans_b = true;
  s.m = m;
  s.n = n;
  s.k = k;
  s.lda = lda;
  s.ldb = k;
  s.ldc = ldc;
  Gemm(s, T(1), a, b, beta, c, pool);
}

// The recurrent product C[m, n] = H[m, k] * R^T of one step (beta = 0). Batches are usually small, so the work is
// split over output columns: each task packs only its own slice of R, where splitting the few rows would have
// every task pack all of it.
template <typename T>
void RecurrentGemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, T* c, int64_t ldc,
                   const ThreadPool& pool) {
  if (m <= 0 || n <= 0) return;
  const int64_t grain = std::max<int64_t>(32, (int64_t{1} << 16) / std::max<int64_t>(1, m * k));
  if (pool.threads() == 1 || n < 2 * grain) {
    GemmAbt<T>(m, n, k, a, lda, b, T(0), c, ldc, pool);
    return;
  }
  pool.ParallelFor(n, grain, [&](int64_t begin, int64_t end) {
    GemmAbt<T>(m, end - begin, k, a, lda, b + begin * k, T(0), c + begin, ldc, ThreadPool::Serial());
  });
}

// A scratch buffer that reuses a per-thread allocation which only grows. Should the same thread re-enter
// (a task stolen while this one waits inside a parallel loop), the nested user gets a private buffer instead.
template <typename T>
class Scratch {
 public:
  explicit Scratch(size_t n) {
    Slot& slot = ThreadSlot();
    if (!slot.busy) {
      slot.busy = true;
      held_ = &slot;
      if (slot.buffer.size() < n) slot.buffer.resize(n);
      data_ = slot.buffer.data();
    } else {
      own_.resize(n);
      data_ = own_.data();
    }
  }
  ~Scratch() {
    if (held_ != nullptr) held_->busy = false;
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* data() { return data_; }

 private:
  struct Slot {
    std::vector<T> buffer;
    bool busy = false;
  };
  static Slot& ThreadSlot() {
    thread_local Slot slot;
    return slot;
  }
  Slot* held_ = nullptr;
  std::vector<T> own_;
  T* data_ = nullptr;
};

// One Compute call's sizes, inputs and outputs.
template <typename T>
struct RnnProblem {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, num_directions = 1, gates = 1;
  bool batch_first = false;
  const T* x = nullptr;
  const T* w = nullptr;
  const T* r = nullptr;
  const T* b = nullptr;   // [num_directions, 2 * gates * hidden] or null
  const T* h0 = nullptr;  // null: zeros
  const T* c0 = nullptr;
  const T* p = nullptr;   // [num_directions, 3 * hidden] or null
  const int64_t* lens = nullptr;
  T* y = nullptr;
  T* yh = nullptr;
  T* yc = nullptr;
  const T* xw = nullptr;  // [seq * batch, num_directions * gates * hidden]: X * W^T (+ input-side bias)
  const T* in_bias = nullptr;  // [num_directions, gates * hidden], when not added into xw (the fast path)
  const float* packed_r = nullptr;        // PackRecurrent of R: set when the cell takes the fast path
  const SgemmPacked* packed_w = nullptr;  // W packed at load time, when it is the W of this run

  int64_t GateWidth() const { return gates * hidden; }
  const T* InBias(int d) const { return in_bias != nullptr ? in_bias + d * GateWidth() : nullptr; }
  // The time index of batch row b at step s (-1 once its sequence has ended).
  int64_t TimeAt(int64_t b, int64_t s, bool reverse) const {
    return s < lens[b] ? (reverse ? lens[b] - 1 - s : s) : -1;
  }
  // The row of X (and of xw) holding time t of batch entry b.
  int64_t XRow(int64_t t, int64_t b) const { return batch_first ? b * seq + t : t * batch + b; }
  const T* XwAt(int64_t t, int64_t b, int d) const {
    return xw + XRow(t, b) * num_directions * GateWidth() + d * GateWidth();
  }
  int64_t YOffset(int64_t t, int d, int64_t b) const {
    return (batch_first ? (b * seq + t) * num_directions + d : (t * num_directions + d) * batch + b) * hidden;
  }
  // Offset of (direction, batch) in initial_h / initial_c / Y_h / Y_c.
  int64_t StateOffset(int d, int64_t b) const {
    return (batch_first ? b * num_directions + d : d * batch + b) * hidden;
  }
};

// What one step of a cell gets: the state rows to update in place and, per batch row, the time index to read
// (-1 for rows whose sequence has ended).
template <typename T>
struct StepArgs {
  const RnnProblem<T>* problem;
  int direction;
  const int64_t* time;
  T* h;        // [batch, hidden]
  T* c;        // [batch, hidden], LSTM only
  T* scratch;  // Cell::ScratchSize elements
  T* h_next;   // [batch, hidden]: the fast path's second state buffer
};

// One task of the fast path: phase `phase` of step `step` for the hidden units [q0, q1) * kRecurrentPanel of
// every batch row.
struct FastTask {
  const RnnProblem<float>* problem;
  int direction;
  bool reverse;
  int64_t step;
  int phase;
  int64_t q0, q1;
  const float* h;  // Ht-1 [batch, hidden]
  float* h_out;    // Ht: h itself for cells that update in place
  float* c;
  float* scratch;
};

// Rows per parallel task for `row_work` elementwise operations per row: keeps small batches inline.
inline int64_t RowGrain(int64_t row_work) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, row_work)); }

Status ReadSequenceLens(KernelContext& ctx, int64_t seq, int64_t batch, int64_t* lens);

// Registers `op_type` for float32 and float64 once per schema version: [since[i], since[i+1] - 1], the last
// one open-ended.
Status RegisterVersions(OpRegistry& registry, const char* op_type, std::initializer_list<int> since_versions,
                        InferFn infer, KernelFactory create);

// True when every direction uses `kinds` as its activations (the fast path's fused gate math).
inline bool HasActivations(const RnnSpec& spec, std::initializer_list<ActivationKind> kinds) {
  const size_t per_direction = spec.activations.size() / spec.num_directions;
  if (per_direction != kinds.size()) return false;
  for (size_t i = 0; i < spec.activations.size(); ++i) {
    if (spec.activations[i].kind != kinds.begin()[i % per_direction]) return false;
  }
  return true;
}

// Gathers the inputs, runs the recurrence with `cell` over every direction and writes the outputs. Cell:
//   int Gates() const;
//   void InputBias(const T* b_direction, int64_t hidden, T* out) const;  // gates*hidden, added to X*W^T
//   int64_t ScratchSize(int64_t batch, int64_t gate_stride) const;
//   void Step(const StepArgs<T>& args, const ThreadPool& pool) const;
// and for the fast path (float32, R packed):
//   bool Fast() const;         // whether the fast path applies (the default activations)
//   int FastPhases() const;    // stages per step, each over all hidden units before the next starts
//   bool FastInPlace() const;  // Ht overwrites Ht-1 (else the task writes h_out, a second buffer)
//   void Run(const FastTask& task) const;
template <typename T, typename Cell>
Status RunRecurrence(KernelContext& ctx, const RnnSpec& spec, const RnnOpInfo& info, const RnnWeights& weights,
                     const Cell& cell);

// Compute() of the three ops: float32 and float64 through one template.
template <template <typename> class CellT, typename K>
Status ComputeRnn(KernelContext& ctx, const K& kernel) {
  const DataType dtype = ctx.input(kX)->dtype();
  if (dtype == DataType::kFloat32) {
    return RunRecurrence<float>(ctx, kernel.spec(), kernel.info(), kernel.weights(), CellT<float>(kernel.spec()));
  }
  if (dtype == DataType::kFloat64) {
    return RunRecurrence<double>(ctx, kernel.spec(), kernel.info(), kernel.weights(), CellT<double>(kernel.spec()));
  }
  return ctx.Error("unsupported dtype " + std::string(DataTypeName(dtype)));
}

// The kernel of RNN, GRU and LSTM: the cell and the op's fixed facts (gates, default activations) are all that
// differ. Constant W and R are packed at load.
template <template <typename> class CellT, const RnnOpInfo& (*kInfo)()>
class RecurrentKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    weights_.Pack(ctx, kInfo().num_gates);
    return ParseRnnSpec(ctx, info(), &spec_);
  }
  Status Compute(KernelContext& ctx) const override { return ComputeRnn<CellT>(ctx, *this); }
  const RnnSpec& spec() const { return spec_; }
  const RnnOpInfo& info() const { return kInfo(); }
  const RnnWeights& weights() const { return weights_; }

 private:
  RnnSpec spec_;
  RnnWeights weights_;
};

// --- driver implementation -------------------------------------------------------------------------------------

namespace detail {

// The element count `expected` of optional input i, or null when absent.
template <typename T>
Result<const T*> OptionalInput(KernelContext& ctx, size_t i, const char* name, int64_t expected) {
  const Tensor* t = i < ctx.num_inputs() ? ctx.input(i) : nullptr;
  if (t == nullptr || !t->defined()) return static_cast<const T*>(nullptr);
  if (t->dtype() != DataTypeOf<T>::value) {
    return ctx.Error(std::string("input ") + name + " has dtype " + std::string(DataTypeName(t->dtype())) +
                     ", expected the dtype of X");
  }
  if (t->NumElements() != expected) {
    return ctx.Error(std::string("input ") + name + " has shape " + t->shape().ToString() + " with " +
                     std::to_string(t->NumElements()) + " elements, expected " + std::to_string(expected));
  }
  return t->data<T>();
}

template <typename T>
Status GatherProblem(KernelContext& ctx, const RnnSpec& spec, int gates, bool cell_state, RnnProblem<T>* p) {
  const Tensor& x = *ctx.input(kX);
  const Tensor& w = *ctx.input(kW);
  const Tensor& r = *ctx.input(kR);
  if (x.rank() != 3 || w.rank() != 3 || r.rank() != 3) {
    return ctx.Error("X, W and R must have rank 3, got " + x.shape().ToString() + ", " + w.shape().ToString() +
                     " and " + r.shape().ToString());
  }
  p->batch_first = spec.layout_batch_first;
  p->seq = x.shape()[p->batch_first ? 1 : 0];
  p->batch = x.shape()[p->batch_first ? 0 : 1];
  p->input = x.shape()[2];
  p->num_directions = spec.num_directions;
  p->gates = gates;
  p->hidden = r.shape()[2];
  const int64_t nd = p->num_directions, gw = p->GateWidth(), hidden = p->hidden;
  if (w.shape() != Shape{nd, gw, p->input} || r.shape() != Shape{nd, gw, hidden} ||
      (spec.hidden_size > 0 && spec.hidden_size != hidden)) {
    return ctx.Error("W " + w.shape().ToString() + " and R " + r.shape().ToString() +
                     " do not match X " + x.shape().ToString() + " and hidden_size " + std::to_string(hidden));
  }
  if (w.dtype() != x.dtype() || r.dtype() != x.dtype()) return ctx.Error("W and R must have the dtype of X");
  p->x = x.data<T>();
  p->w = w.data<T>();
  p->r = r.data<T>();
  const int64_t state = nd * p->batch * hidden;
  EDGEAI_ASSIGN_OR_RETURN(p->b, OptionalInput<T>(ctx, kB, "B", nd * 2 * gw));
  EDGEAI_ASSIGN_OR_RETURN(p->h0, OptionalInput<T>(ctx, kInitialH, "initial_h", state));
  if (cell_state) {
    EDGEAI_ASSIGN_OR_RETURN(p->c0, OptionalInput<T>(ctx, kInitialC, "initial_c", state));
    EDGEAI_ASSIGN_OR_RETURN(p->p, OptionalInput<T>(ctx, kP, "P", nd * 3 * hidden));
  }
  return Status::Ok();
}

template <typename T>
Status GatherOutputs(KernelContext& ctx, int max_outputs, RnnProblem<T>* p) {
  const int64_t nd = p->num_directions;
  const Shape y = p->batch_first ? Shape{p->batch, p->seq, nd, p->hidden} : Shape{p->seq, nd, p->batch, p->hidden};
  const Shape state = p->batch_first ? Shape{p->batch, nd, p->hidden} : Shape{nd, p->batch, p->hidden};
  T** targets[] = {&p->y, &p->yh, &p->yc};
  const size_t n = std::min<size_t>(ctx.num_outputs(), static_cast<size_t>(max_outputs));
  for (size_t i = 0; i < n; ++i) {
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(i, i == 0 ? y : state));
    *targets[i] = out->data<T>();
  }
  return Status::Ok();
}

// X * W^T for every time step, batch row, direction and gate, on top of the input-side bias unless the fast
// path's gate math adds it (then p->in_bias points to it).
template <typename T, typename Cell>
void ProjectInputs(RnnProblem<T>* problem, const Cell& cell, T* xw, T* bias, const ThreadPool& pool) {
  const RnnProblem<T>& p = *problem;
  const int64_t rows = p.seq * p.batch, width = p.num_directions * p.GateWidth();
  if (rows == 0 || width == 0) return;
  const bool into_xw = p.b != nullptr && p.packed_r == nullptr;
  if (p.b != nullptr) {
    for (int64_t d = 0; d < p.num_directions; ++d) {
      cell.InputBias(p.b + d * 2 * p.GateWidth(), p.hidden, bias + d * p.GateWidth());
    }
    if (!into_xw) problem->in_bias = bias;
  }
  if (into_xw) {
    for (int64_t row = 0; row < rows; ++row) std::memcpy(xw + row * width, bias, width * sizeof(T));
  }
  const T beta = into_xw ? T(1) : T(0);
  if constexpr (std::is_same_v<T, float>) {
    if (p.packed_w != nullptr) {
      SgemmPackedB(false, rows, p.x, p.input, *p.packed_w, 1.0f, beta, xw, width, pool);
      return;
    }
  }
  GemmAbt<T>(rows, width, p.input, p.x, p.input, p.w, beta, xw, width, pool);
}

template <typename T, typename Cell>
void RunDirection(const RnnProblem<T>& p, const Cell& cell, bool reverse, int64_t max_len, StepArgs<T> args,
                  int64_t* time, const ThreadPool& pool) {
  args.time = time;
  for (int64_t s = 0; s < max_len; ++s) {
    for (int64_t b = 0; b < p.batch; ++b) {
      const int64_t len = p.lens[b];
      time[b] = s < len ? (reverse ? len - 1 - s : s) : -1;
    }
    cell.Step(args, pool);
    if (p.y == nullptr) continue;
    for (int64_t b = 0; b < p.batch; ++b) {
      if (time[b] < 0) continue;
      std::memcpy(p.y + p.YOffset(time[b], args.direction, b), args.h + b * p.hidden, p.hidden * sizeof(T));
    }
  }
}

// The fast path's recurrence of one direction: every step's phases as stages of RunStages, split into chunks of
// hidden units when `split`. Each task also copies its part of Ht into Y; args.h holds the final state after.
template <typename Cell>
void RunFastDirection(const RnnProblem<float>& p, const Cell& cell, bool reverse, int64_t max_len, bool split,
                      StepArgs<float>& args, const ThreadPool& pool) {
  const int64_t panels = RecurrentGateStride(p.hidden) / kRecurrentPanel;
  const int64_t chunks = split ? std::min<int64_t>(pool.threads(), panels) : 1;
  const int phases = cell.FastPhases();
  const bool in_place = cell.FastInPlace();
  RunStages(max_len * phases, chunks, pool, [&](int64_t stage, int64_t chunk) {
    FastTask t;
    t.problem = &p;
    t.direction = args.direction;
    t.reverse = reverse;
    t.step = stage / phases;
    t.phase = static_cast<int>(stage % phases);
    t.q0 = chunk * panels / chunks;
    t.q1 = (chunk + 1) * panels / chunks;
    const bool odd = !in_place && (t.step & 1) != 0;  // the two buffers alternate
    t.h = odd ? args.h_next : args.h;
    t.h_out = in_place ? args.h : odd ? args.h : args.h_next;
    t.c = args.c;
    t.scratch = args.scratch;
    cell.Run(t);
    if (t.phase != phases - 1 || p.y == nullptr) return;
    const int64_t j0 = t.q0 * kRecurrentPanel, j1 = std::min(t.q1 * kRecurrentPanel, p.hidden);
    for (int64_t b = 0; b < p.batch; ++b) {
      const int64_t time = p.TimeAt(b, t.step, reverse);
      if (time < 0) continue;
      const float* from = t.h_out + b * p.hidden;
      std::copy(from + j0, from + j1, p.y + p.YOffset(time, args.direction, b) + j0);
    }
  });
  if (!in_place && (max_len & 1) != 0) std::swap(args.h, args.h_next);
}

// Copies initial (src != null) or zero states into `dst` [batch, hidden] of direction d, or back out when
// `to_output`.
template <typename T>
void MoveState(const RnnProblem<T>& p, int d, const T* src, T* dst, bool to_output) {
  const size_t bytes = p.hidden * sizeof(T);
  for (int64_t b = 0; b < p.batch; ++b) {
    T* row = to_output ? dst + p.StateOffset(d, b) : dst + b * p.hidden;
    const T* from = to_output ? src + b * p.hidden : (src != nullptr ? src + p.StateOffset(d, b) : nullptr);
    if (from != nullptr) {
      std::memcpy(row, from, bytes);
    } else {
      std::fill(row, row + p.hidden, T(0));
    }
  }
}

}  // namespace detail

template <typename T, typename Cell>
Status RunRecurrence(KernelContext& ctx, const RnnSpec& spec, const RnnOpInfo& info, const RnnWeights& weights,
                     const Cell& cell) {
  RnnProblem<T> p;
  EDGEAI_RETURN_IF_ERROR(detail::GatherProblem<T>(ctx, spec, cell.Gates(), info.has_cell_state, &p));
  EDGEAI_RETURN_IF_ERROR(detail::GatherOutputs<T>(ctx, info.max_outputs, &p));
  const int64_t nd = p.num_directions, batch = p.batch, hidden = p.hidden;
  const bool fast = cell.Fast();
  int64_t pack_size = 0;  // R packed for this run only, when it was not packed at load time
  if constexpr (std::is_same_v<T, float>) {
    if (weights.w_from == p.w && weights.w.rows() == p.input && weights.w.cols() == nd * p.GateWidth()) {
      p.packed_w = &weights.w;
    }
    if (fast && weights.r_from == p.r && weights.r_hidden == hidden && weights.r_directions == nd) {
      p.packed_r = weights.r.data();
    } else if (fast) {
      pack_size = PackedRecurrentSize(nd, p.gates, hidden);
    }
  }

  Scratch<int64_t> ints(batch * (1 + nd));
  int64_t* lens = ints.data();
  EDGEAI_RETURN_IF_ERROR(ReadSequenceLens(ctx, p.seq, batch, lens));
  p.lens = lens;
  const int64_t max_len = batch == 0 ? 0 : *std::max_element(lens, lens + batch);
  const bool ragged = std::any_of(lens, lens + batch, [&](int64_t len) { return len < p.seq; });
  if (p.y != nullptr && ragged) std::fill(p.y, p.y + p.seq * nd * batch * hidden, T(0));

  // Layout: xw, input-side bias, then per direction h, c, h_next and the cell's own scratch; last R packed for
  // this run when it was not at load time.
  const int64_t xw_size = p.seq * batch * nd * p.GateWidth();
  const int64_t state = batch * hidden;
  const int64_t per_direction = 3 * state + cell.ScratchSize(batch, RecurrentGateStride(hidden));
  Scratch<T> scratch(xw_size + nd * p.GateWidth() + nd * per_direction + pack_size);
  T* xw = scratch.data();
  if constexpr (std::is_same_v<T, float>) {
    if (pack_size > 0) {
      T* packed = xw + xw_size + nd * p.GateWidth() + nd * per_direction;
      PackRecurrent(p.r, nd, p.gates, hidden, packed);
      p.packed_r = packed;
    }
  }
  detail::ProjectInputs(&p, cell, xw, xw + xw_size, ctx.pool());
  p.xw = xw;

  T* direction_base = xw + xw_size + nd * p.GateWidth();
  ctx.pool().ParallelFor(nd, 1, [&](int64_t d_begin, int64_t d_end) {
    for (int64_t d = d_begin; d < d_end; ++d) {
      T* base = direction_base + d * per_direction;
      StepArgs<T> args{&p, static_cast<int>(d), nullptr, base, base + state, base + 3 * state, base + 2 * state};
      detail::MoveState(p, args.direction, p.h0, args.h, false);
      if (info.has_cell_state) detail::MoveState(p, args.direction, p.c0, args.c, false);
      const bool reverse = nd == 2 ? d == 1 : spec.reverse;
      bool fast_path = false;
      if constexpr (std::is_same_v<T, float>) {
        if (p.packed_r != nullptr) {
          const bool split = nd == 1 && batch * hidden * p.gates * RecurrentGateStride(hidden) >= kParallelStepMacs;
          detail::RunFastDirection(p, cell, reverse, max_len, split, args, ctx.pool());
          fast_path = true;
        }
      }
      if (!fast_path) detail::RunDirection(p, cell, reverse, max_len, args, lens + batch * (1 + d), ctx.pool());
      if (p.yh != nullptr) detail::MoveState(p, args.direction, args.h, p.yh, true);
      if (p.yc != nullptr) detail::MoveState(p, args.direction, args.c, p.yc, true);
    }
  });
  return Status::Ok();
}
}  // namespace rnn
}  // namespace edgeai::cpu
