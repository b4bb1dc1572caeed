// Scan: opset 8 (a leading batch axis, sequences on axis 1, optional sequence_lens) and opset 9+ (no batch;
// per-input and per-output axes and directions). Scan-input elements are passed to the body as views, never
// copies; an input scanned along a non-leading axis is first copied once with that axis moved to the front so
// that every element is contiguous.
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "backend/cpu/control_flow_common.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/subgraph.h"

namespace edgeai::cpu {
namespace {

using namespace control_flow;

std::string Str(size_t v) { return std::to_string(v); }

// Scan's arity: N state variables, M scan inputs, K scan outputs.
struct ScanArity {
  size_t states = 0;
  size_t inputs = 0;
  size_t outputs = 0;
};

// `leading` counts the declared inputs before the states (opset 8's sequence_lens).
Result<ScanArity> CheckScanArity(const InferenceContext& ctx, const Subgraph& body, size_t leading) {
  if (!ctx.attrs().Has("num_scan_inputs")) return ctx.Error("missing attribute 'num_scan_inputs'");
  const int64_t m = ctx.attrs().GetInt("num_scan_inputs", 0);
  if (m < 1) return ctx.Error("num_scan_inputs must be positive, got " + std::to_string(m));
  ScanArity arity;
  arity.inputs = static_cast<size_t>(m);
  if (body.num_inputs() < arity.inputs) {
    return ctx.Error("body takes " + Str(body.num_inputs()) + " inputs, fewer than num_scan_inputs = " + Str(m));
  }
  arity.states = body.num_inputs() - arity.inputs;
  if (body.num_outputs() < arity.states) {
    return ctx.Error("body returns " + Str(body.num_outputs()) + " outputs, fewer than its " + Str(arity.states) +
                     " state variables");
  }
  arity.outputs = body.num_outputs() - arity.states;
  if (ctx.num_inputs() < leading + arity.states + arity.inputs) {
    return ctx.Error("node has " + Str(ctx.num_inputs()) + " inputs but its body takes " + Str(arity.states) +
                     " states and " + Str(arity.inputs) + " scan inputs");
  }
  if (ctx.num_outputs() != arity.states + arity.outputs) {
    return ctx.Error("node has " + Str(ctx.num_outputs()) + " outputs but its body yields " + Str(arity.states) +
                     " states and " + Str(arity.outputs) + " scan outputs");
  }
  return arity;
}

// A per-input or per-output attribute list: `count` entries, zeros when absent.
Result<std::vector<int64_t>> ListAttr(const InferenceContext& ctx, const char* name, size_t count, bool direction) {
  if (!ctx.attrs().Has(name)) return std::vector<int64_t>(count, 0);
  std::vector<int64_t> values = ctx.attrs().GetInts(name);
  if (values.size() != count) {
    return ctx.Error(std::string(name) + " has " + Str(values.size()) + " entries, expected " + Str(count));
  }
  for (int64_t v : values) {
    if (direction && v != 0 && v != 1) return ctx.Error(std::string(name) + " entries must be 0 or 1");
  }
  return values;
}

struct ScanConfig {
  ScanArity arity;
  std::vector<int64_t> input_axes, input_dirs, output_axes, output_dirs;
};

Result<ScanConfig> ParseScan(const InferenceContext& ctx, const Subgraph& body) {
  ScanConfig c;
  const bool batched = ctx.opset() < 9;
  EDGEAI_ASSIGN_OR_RETURN(c.arity, CheckScanArity(ctx, body, batched ? 1 : 0));
  const size_t m = c.arity.inputs;
  const size_t k = c.arity.outputs;
  if (batched) {
    EDGEAI_ASSIGN_OR_RETURN(c.input_dirs, ListAttr(ctx, "directions", m, true));
    c.input_axes.assign(m, 1);   // of the batched input
    c.output_axes.assign(k, 0);  // of the element, before the batch axis is put in front
    c.output_dirs.assign(k, 0);
    return c;
  }
  EDGEAI_ASSIGN_OR_RETURN(c.input_axes, ListAttr(ctx, "scan_input_axes", m, false));
  EDGEAI_ASSIGN_OR_RETURN(c.input_dirs, ListAttr(ctx, "scan_input_directions", m, true));
  EDGEAI_ASSIGN_OR_RETURN(c.output_axes, ListAttr(ctx, "scan_output_axes", k, false));
  EDGEAI_ASSIGN_OR_RETURN(c.output_dirs, ListAttr(ctx, "scan_output_directions", k, true));
  return c;
}

// A state's type: the initial value's, with dims the body's output adds; the spec keeps states' shapes fixed.
Result<ValueType> StateType(const InferenceContext& ctx, size_t i, const ValueType& initial, const ValueType& body_in,
                            const ValueType& body_out, size_t batch_dims) {
  if (DtypesConflict(initial.dtype, body_in.dtype) || DtypesConflict(initial.dtype, body_out.dtype)) {
    return ctx.Error("state #" + Str(i) + " starts as " + initial.ToString() + " but the body takes " +
                     body_in.ToString() + " and returns " + body_out.ToString());
  }
  ValueType type = initial;
  if (!body_out.rank_known) return type;
  if (!type.rank_known) {
    if (batch_dims > 0) return type;  // the batch size is unknown: leave the rank unknown too
    type = ValueType::Of(initial.dtype, body_out.dims);
    return type;
  }
  if (type.dims.rank() != body_out.dims.rank() + batch_dims) {
    return ctx.Error("state #" + Str(i) + " starts as " + initial.ToString() + " but the body returns " +
                     body_out.ToString());
  }
  for (size_t d = 0; d < body_out.dims.rank(); ++d) {
    if (type.dims[batch_dims + d] < 0) type.dims[batch_dims + d] = body_out.dims[d];
  }
  return type;
}

// Merges a sequence or batch length `dim` into `known` (-1 while unknown); error when two known values differ.
Status MergeLength(const InferenceContext& ctx, int64_t dim, int64_t* known, const char* what) {
  if (dim < 0) return Status::Ok();
  if (*known >= 0 && *known != dim) {
    return ctx.Error(std::string("scan inputs disagree on the ") + what + ": " + std::to_string(*known) + " vs " +
                     std::to_string(dim));
  }
  *known = dim;
  return Status::Ok();
}

Status InferScan(InferenceContext& ctx) {
  EDGEAI_ASSIGN_OR_RETURN(const Subgraph* body, RequireGraph(ctx, "body"));
  EDGEAI_ASSIGN_OR_RETURN(ScanConfig c, ParseScan(ctx, *body));
  const bool batched = ctx.opset() < 9;
  const size_t first = batched ? 1 : 0;  // declared index of the first state
  const size_t n = c.arity.states;
  int64_t batch = -1;
  int64_t length = -1;
  if (batched && ctx.has_input(0)) {
    const ValueType& lens = ctx.input(0);
    if (lens.dtype != DataType::kInt32 || (lens.rank_known && lens.dims.rank() != 1)) {
      return ctx.Error("sequence_lens must be a 1-D int32 tensor, got " + lens.ToString());
    }
    if (lens.rank_known) EDGEAI_RETURN_IF_ERROR(MergeLength(ctx, lens.dims[0], &batch, "batch size"));
  }
  for (size_t j = 0; j < c.arity.inputs; ++j) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(first + n + j));
    const ValueType& x = ctx.input(first + n + j);
    if (DtypesConflict(x.dtype, body->input_type(n + j).dtype)) {
      return ctx.Error("scan input #" + Str(j) + " is " + x.ToString() + " but the body takes " +
                       body->input_type(n + j).ToString());
    }
    if (!x.rank_known) continue;
    const int64_t rank = static_cast<int64_t>(x.dims.rank());
    if (rank < (batched ? 2 : 1)) return ctx.Error("scan input #" + Str(j) + " " + x.ToString() + " has too few dims");
    const int64_t axis = c.input_axes[j] < 0 ? c.input_axes[j] + rank : c.input_axes[j];
    if (axis < 0 || axis >= rank) {
      return ctx.Error("scan_input_axes entry " + std::to_string(c.input_axes[j]) + " is out of range for " +
                       x.ToString());
    }
    EDGEAI_RETURN_IF_ERROR(MergeLength(ctx, x.dims[axis], &length, "sequence length"));
    if (batched) EDGEAI_RETURN_IF_ERROR(MergeLength(ctx, x.dims[0], &batch, "batch size"));
  }
  for (size_t i = 0; i < n; ++i) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(first + i));
    const ValueType& initial = ctx.input(first + i);
    if (batched && initial.rank_known) {
      if (initial.dims.rank() < 1) {
        return ctx.Error("state #" + Str(i) + " needs a batch dim, got " + initial.ToString());
      }
      EDGEAI_RETURN_IF_ERROR(MergeLength(ctx, initial.dims[0], &batch, "batch size"));
    }
    EDGEAI_ASSIGN_OR_RETURN(ctx.output(i), StateType(ctx, i, initial, body->input_type(i), body->output_type(i),
                                                     batched ? 1 : 0));
  }
  for (size_t k = 0; k < c.arity.outputs; ++k) {
    const ValueType& element = body->output_type(n + k);
    ValueType& out = ctx.output(n + k);
    if (!element.rank_known) {
      out = ValueType::UnknownRank(element.dtype);
      continue;
    }
    out = ValueType::Of(element.dtype, element.dims);
    const int64_t rank = static_cast<int64_t>(element.dims.rank()) + 1;
    const int64_t axis = c.output_axes[k] < 0 ? c.output_axes[k] + rank : c.output_axes[k];
    if (axis < 0 || axis >= rank) {
      return ctx.Error("scan_output_axes entry " + std::to_string(c.output_axes[k]) + " is out of range for a " +
                       "body output of rank " + std::to_string(rank - 1));
    }
    out.dims.insert(static_cast<size_t>(axis), length);
    if (batched) out.dims.insert(0, batch);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------- kernels

// A copy of `x` with dim `axis` moved to the front, so that each index along it is one contiguous block.
Result<Tensor> MoveAxisFirst(const Tensor& x, size_t axis) {
  Shape shape = x.shape();
  const int64_t n = shape[axis];
  const int64_t outer = shape.SizeFromTo(0, axis);
  const size_t block = static_cast<size_t>(shape.SizeFromTo(axis + 1, shape.rank())) * DataTypeSize(x.dtype());
  shape.erase(axis);
  shape.insert(0, n);
  EDGEAI_ASSIGN_OR_RETURN(Tensor moved, Tensor::Allocate(x.dtype(), shape));
  const auto* src = static_cast<const char*>(x.raw_data());
  auto* dst = static_cast<char*>(moved.raw_data());
  for (int64_t o = 0; o < outer && block > 0; ++o) {
    for (int64_t l = 0; l < n; ++l) std::memcpy(dst + (l * outer + o) * block, src + (o * n + l) * block, block);
  }
  return moved;
}

// Element `index` along dim 0 of `x` as a view (the body only reads its inputs).
Tensor ElementView(const Tensor& x, int64_t index, size_t dims_dropped) {
  Shape shape = x.shape();
  for (size_t d = 0; d < dims_dropped; ++d) shape.erase(0);
  const size_t bytes = static_cast<size_t>(shape.NumElements()) * DataTypeSize(x.dtype());
  auto* base = static_cast<char*>(const_cast<void*>(x.raw_data()));
  return Tensor::View(x.dtype(), shape, base == nullptr ? nullptr : base + static_cast<size_t>(index) * bytes);
}

// Writes `element` at `pos` along `axis` of `out`, whose dims are element's with `length` inserted at `axis`.
void PlaceElement(const Tensor& element, Tensor* out, size_t axis, int64_t length, int64_t pos) {
  const int64_t outer = element.shape().SizeFromTo(0, axis);
  const size_t block =
      static_cast<size_t>(element.shape().SizeFromTo(axis, element.rank())) * DataTypeSize(element.dtype());
  if (block == 0) return;
  const auto* src = static_cast<const char*>(element.raw_data());
  auto* dst = static_cast<char*>(out->raw_data());
  for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + (o * length + pos) * block, src + o * block, block);
}

// The scan outputs of one Scan run: allocated when the first element of each arrives, then filled in place.
class ScanOutputs {
 public:
  ScanOutputs(KernelContext& ctx, const ScanConfig& c, size_t batch_dims)
      : ctx_(ctx),
        c_(c),
        batch_dims_(batch_dims),
        outs_(c.arity.outputs, nullptr),
        shapes_(c.arity.outputs),
        axes_(c.arity.outputs, 0) {}

  // Stores `element` (scan output k) at `pos` along its axis, for batch entry `b` when batched.
  Status Put(size_t k, const Tensor& element, int64_t batch, int64_t length, int64_t b, int64_t pos) {
    const size_t index = c_.arity.states + k;
    if (outs_[k] == nullptr) {
      if (element.dtype() != ctx_.inferred_output(index).dtype) {
        return ctx_.Error("scan output #" + Str(k) + " is " + element.Describe() + " but was inferred as " +
                          std::string(DataTypeName(ctx_.inferred_output(index).dtype)));
      }
      const int64_t rank = static_cast<int64_t>(element.rank()) + 1;
      const int64_t axis = c_.output_axes[k] < 0 ? c_.output_axes[k] + rank : c_.output_axes[k];
      if (axis < 0 || axis >= rank) return ctx_.Error("scan_output_axes entry out of range for " + element.Describe());
      axes_[k] = static_cast<size_t>(axis);
      Shape shape = element.shape();
      shape.insert(axes_[k], length);
      if (batch_dims_ > 0) shape.insert(0, batch);
      EDGEAI_RETURN_IF_ERROR(Allocate(index, shape, &outs_[k]));
      shapes_[k] = element.shape();
    } else if (element.shape() != shapes_[k] || element.dtype() != outs_[k]->dtype()) {
      return ctx_.Error("scan output #" + Str(k) + " changed from " + shapes_[k].ToString() + " to " +
                        element.Describe() + " between iterations");
    }
    Tensor slice = batch_dims_ == 0 ? *outs_[k] : ElementView(*outs_[k], b, 1);
    PlaceElement(element, &slice, axes_[k], length, pos);
    return Status::Ok();
  }

  // Outputs that got no element (no iteration ran): empty or zero-filled, shaped from the body's static type.
  Status Finish(const Subgraph& body, int64_t batch, int64_t length) {
    for (size_t k = 0; k < outs_.size(); ++k) {
      if (outs_[k] != nullptr) continue;
      const ValueType& element = body.output_type(c_.arity.states + k);
      const int64_t rank = element.rank_known ? static_cast<int64_t>(element.dims.rank()) + 1 : 1;
      int64_t axis = c_.output_axes[k] < 0 ? c_.output_axes[k] + rank : c_.output_axes[k];
      if (axis < 0 || axis >= rank) axis = 0;
      Shape shape = EmptyStackShape(element, static_cast<size_t>(axis), length);
      if (batch_dims_ > 0) shape.insert(0, batch);
      Tensor* out = nullptr;
      EDGEAI_RETURN_IF_ERROR(Allocate(c_.arity.states + k, shape, &out));
    }
    return Status::Ok();
  }

 private:
  // Zero-filled: opset 8 pads sequences shorter than the longest with zeros.
  Status Allocate(size_t index, const Shape& shape, Tensor** out) {
    EDGEAI_ASSIGN_OR_RETURN(*out, ctx_.Output(index, shape));
    if ((*out)->ByteSize() > 0) std::memset((*out)->raw_data(), 0, (*out)->ByteSize());
    return Status::Ok();
  }

  KernelContext& ctx_;
  const ScanConfig& c_;
  size_t batch_dims_;
  std::vector<Tensor*> outs_;
  std::vector<Shape> shapes_;
  std::vector<size_t> axes_;
};

Status CheckStateShape(const KernelContext& ctx, size_t i, const Tensor& next, const Shape& expected) {
  if (next.shape() == expected) return Status::Ok();
  return ctx.Error("state #" + Str(i) + " changed from " + expected.ToString() + " to " + next.Describe() +
                   " (Scan states keep their shape)");
}

// Both Scan forms: the body graph and the arity and axes parsed from the attributes.
class ScanKernelBase : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    body_ = ctx.attrs().GetGraph("body");
    if (body_ == nullptr) return ctx.Error("missing graph attribute 'body'");
    EDGEAI_ASSIGN_OR_RETURN(config_, ParseScan(ctx, *body_));
    return Status::Ok();
  }

 protected:
  const Subgraph* body_ = nullptr;
  ScanConfig config_;
};

class ScanKernel : public ScanKernelBase {
 public:
  Status Compute(KernelContext& ctx) const override {
    const size_t n = config_.arity.states;
    const size_t m = config_.arity.inputs;
    std::vector<Tensor> sources(m);
    int64_t length = -1;
    for (size_t j = 0; j < m; ++j) {
      const Tensor* x = ctx.input(n + j);
      if (x == nullptr) return ctx.Error("missing scan input #" + Str(j));
      const int64_t axis = x->shape().NormalizeAxis(config_.input_axes[j]);
      if (axis < 0) return ctx.Error("scan_input_axes entry out of range for " + x->Describe());
      if (length >= 0 && x->shape()[axis] != length) return ctx.Error("scan inputs disagree on the sequence length");
      length = x->shape()[axis];
      if (axis == 0) {
        sources[j] = *x;
      } else {
        EDGEAI_ASSIGN_OR_RETURN(sources[j], MoveAxisFirst(*x, static_cast<size_t>(axis)));
      }
    }
    std::vector<Tensor> states(n);
    for (size_t i = 0; i < n; ++i) {
      if (ctx.input(i) == nullptr) return ctx.Error("missing initial state #" + Str(i));
      states[i] = *ctx.input(i);
    }
    ScanOutputs outputs(ctx, config_, 0);
    std::vector<const Tensor*> args(n + m);
    std::vector<Tensor> elements(m);
    for (int64_t t = 0; t < length; ++t) {
      for (size_t j = 0; j < m; ++j) {
        elements[j] = ElementView(sources[j], config_.input_dirs[j] ? length - 1 - t : t, 1);
        args[n + j] = &elements[j];
      }
      for (size_t i = 0; i < n; ++i) args[i] = &states[i];
      EDGEAI_ASSIGN_OR_RETURN(std::vector<Tensor> results, body_->Run(args, ctx));
      if (results.size() != n + config_.arity.outputs) return ctx.Error("body returned the wrong number of outputs");
      for (size_t i = 0; i < n; ++i) {
        EDGEAI_RETURN_IF_ERROR(CheckStateShape(ctx, i, results[i], ctx.input(i)->shape()));
        states[i] = std::move(results[i]);
      }
      for (size_t k = 0; k < config_.arity.outputs; ++k) {
        const int64_t pos = config_.output_dirs[k] ? length - 1 - t : t;
        EDGEAI_RETURN_IF_ERROR(outputs.Put(k, results[n + k], 0, length, 0, pos));
      }
    }
    for (size_t i = 0; i < n; ++i) EDGEAI_RETURN_IF_ERROR(CopyToOutput(ctx, i, states[i], "state #" + Str(i)));
    return outputs.Finish(*body_, 0, length);
  }
};

// Opset 8: every input carries a leading batch axis; each batch entry is scanned on its own, over its own
// sequence length, and scan outputs are zero-padded to the longest sequence.
class Scan8Kernel : public ScanKernelBase {
 public:
  Status Compute(KernelContext& ctx) const override {
    const size_t n = config_.arity.states;
    const size_t m = config_.arity.inputs;
    int64_t batch = -1;
    int64_t length = -1;
    EDGEAI_RETURN_IF_ERROR(Dims(ctx, &batch, &length));
    std::vector<Tensor*> final_states(n);
    for (size_t i = 0; i < n; ++i) {
      EDGEAI_ASSIGN_OR_RETURN(final_states[i], ctx.Output(i, ctx.input(1 + i)->shape()));
      if (final_states[i]->dtype() != ctx.input(1 + i)->dtype()) return ctx.Error("state dtype mismatch");
    }
    const Tensor* lens = ctx.input(0);
    ScanOutputs outputs(ctx, config_, 1);
    std::vector<Tensor> states(n);
    std::vector<Tensor> elements(m);
    std::vector<const Tensor*> args(n + m);
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t len = lens == nullptr ? length : lens->data<int32_t>()[b];
      if (len < 0 || len > length) {
        return ctx.Error("sequence_lens[" + std::to_string(b) + "] = " + std::to_string(len) + " is outside [0, " +
                         std::to_string(length) + "]");
      }
      for (size_t i = 0; i < n; ++i) states[i] = ElementView(*ctx.input(1 + i), b, 1);
      for (int64_t t = 0; t < len; ++t) {
        for (size_t j = 0; j < m; ++j) {
          const Tensor row = ElementView(*ctx.input(1 + n + j), b, 1);
          elements[j] = ElementView(row, config_.input_dirs[j] ? len - 1 - t : t, 1);
          args[n + j] = &elements[j];
        }
        for (size_t i = 0; i < n; ++i) args[i] = &states[i];
        EDGEAI_ASSIGN_OR_RETURN(std::vector<Tensor> results, body_->Run(args, ctx));
        if (results.size() != n + config_.arity.outputs) return ctx.Error("body returned the wrong number of outputs");
        for (size_t i = 0; i < n; ++i) {
          EDGEAI_RETURN_IF_ERROR(CheckStateShape(ctx, i, results[i], states[i].shape()));
          states[i] = std::move(results[i]);
        }
        for (size_t k = 0; k < config_.arity.outputs; ++k) {
          EDGEAI_RETURN_IF_ERROR(outputs.Put(k, results[n + k], batch, length, b, t));
        }
      }
      for (size_t i = 0; i < n; ++i) {
        if (states[i].dtype() != final_states[i]->dtype()) return ctx.Error("state #" + Str(i) + " changed dtype");
        Tensor slot = ElementView(*final_states[i], b, 1);
        if (slot.ByteSize() > 0) std::memcpy(slot.raw_data(), states[i].raw_data(), slot.ByteSize());
      }
    }
    return outputs.Finish(*body_, batch, length);
  }

 private:
  // The batch size and maximum sequence length, checked across inputs.
  Status Dims(const KernelContext& ctx, int64_t* batch, int64_t* length) const {
    const size_t n = config_.arity.states;
    for (size_t i = 0; i < n + config_.arity.inputs; ++i) {
      const Tensor* x = ctx.input(1 + i);
      if (x == nullptr) return ctx.Error("missing input #" + Str(1 + i));
      const bool scanned = i >= n;
      if (x->rank() < (scanned ? 2u : 1u)) return ctx.Error("input " + x->Describe() + " has too few dims");
      if (*batch >= 0 && x->shape()[0] != *batch) return ctx.Error("inputs disagree on the batch size");
      *batch = x->shape()[0];
      if (!scanned) continue;
      if (*length >= 0 && x->shape()[1] != *length) return ctx.Error("scan inputs disagree on the sequence length");
      *length = x->shape()[1];
    }
    if (const Tensor* lens = ctx.input(0)) {
      if (lens->dtype() != DataType::kInt32 || lens->rank() != 1 || lens->shape()[0] != *batch) {
        return ctx.Error("sequence_lens must be int32[" + std::to_string(*batch) + "], got " + lens->Describe());
      }
    }
    return Status::Ok();
  }
};

Status Add(OpRegistry& registry, int since, int until, KernelFactory create) {
  return registry.Register(MakeOpDef("Scan", since, until, {}, InferScan, create));
}

}  // namespace

Status RegisterScanOps(OpRegistry& registry) {
  EDGEAI_RETURN_IF_ERROR(Add(registry, 8, 8, MakeKernel<Scan8Kernel>));
  // 9 dropped the batch axis; 11 only allowed negative axes, which the one definition already accepts.
  EDGEAI_RETURN_IF_ERROR(Add(registry, 9, kMaxOpset, MakeKernel<ScanKernel>));
  return Status::Ok();
}

}  // namespace edgeai::cpu
