// Control flow: If and Loop. Bodies are Subgraphs compiled by the graph layer; these kernels only choose or
// repeat body runs and move tensors between iterations. A node's inputs past its declared ones are the bodies'
// captures, which Subgraph::Run finds by itself, so every count here comes from the body, never from
// ctx.num_inputs().
//
// Loop follows onnxruntime (and onnx's reference evaluator) where the spec's pseudo-code is looser: the body's
// condition output ends the loop even when the node has no cond input.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "backend/cpu/control_flow_common.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/subgraph.h"

namespace edgeai::cpu {
namespace control_flow {

ValueType UnionType(const ValueType& a, const ValueType& b) {
  DataType dtype = a.dtype != DataType::kUndefined ? a.dtype : b.dtype;
  if (!a.rank_known || !b.rank_known || a.dims.rank() != b.dims.rank()) return ValueType::UnknownRank(dtype);
  Shape dims = a.dims;
  for (size_t i = 0; i < dims.rank(); ++i) {
    if (dims[i] != b.dims[i]) dims[i] = -1;
  }
  return ValueType::Of(dtype, dims);
}

bool DtypesConflict(DataType a, DataType b) {
  return a != DataType::kUndefined && b != DataType::kUndefined && a != b;
}

Result<const Subgraph*> RequireGraph(const InferenceContext& ctx, const char* name) {
  const Subgraph* graph = ctx.attrs().GetGraph(name);
  if (graph == nullptr) return ctx.Error(std::string("missing graph attribute '") + name + "'");
  return graph;
}

Status CheckOneElement(const InferenceContext& ctx, size_t i, DataType dtype, std::string_view what) {
  if (!ctx.has_input(i)) return Status::Ok();
  const ValueType& type = ctx.input(i);
  if (type.dtype != dtype) {
    return ctx.Error(std::string(what) + " must be " + std::string(DataTypeName(dtype)) + ", got " + type.ToString());
  }
  if (type.rank_known) {
    for (int64_t d : type.dims) {
      if (d > 1 || d == 0) return ctx.Error(std::string(what) + " must hold one element, got " + type.ToString());
    }
  }
  return Status::Ok();
}

Status CopyToOutput(KernelContext& ctx, size_t i, const Tensor& value, std::string_view what) {
  DataType expected = ctx.inferred_output(i).dtype;
  if (value.dtype() != expected) {
    return ctx.Error(std::string(what) + " is " + value.Describe() + " but the output was inferred as " +
                     std::string(DataTypeName(expected)));
  }
  EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(i, value.shape()));
  if (value.ByteSize() > 0) std::memcpy(out->raw_data(), value.raw_data(), value.ByteSize());
  return Status::Ok();
}

Shape EmptyStackShape(const ValueType& element, size_t axis, int64_t stacked) {
  if (!element.rank_known) return Shape{stacked};
  Shape dims = element.dims;
  for (size_t i = 0; i < dims.rank(); ++i) {
    if (dims[i] < 0) dims[i] = 0;
  }
  dims.insert(std::min(axis, dims.rank()), stacked);
  return dims;
}

}  // namespace control_flow

namespace {
using namespace control_flow;

// The value of a one-element tensor of T, as the trip count or a condition.
template <typename T>
Result<T> ReadOneElement(const KernelContext& ctx, const Tensor& t, std::string_view what) {
  if (t.dtype() != DataTypeOf<T>::value || t.NumElements() != 1) {
    return ctx.Error(std::string(what) + " must be one " + std::string(DataTypeName(DataTypeOf<T>::value)) +
                     " element, got " + t.Describe());
  }
  return t.data<T>()[0];
}

// ---------------------------------------------------------------------------------------------------- If

Status InferIf(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(CheckOneElement(ctx, 0, DataType::kBool, "cond"));
  EDGEAI_ASSIGN_OR_RETURN(const Subgraph* then_branch, RequireGraph(ctx, "then_branch"));
  EDGEAI_ASSIGN_OR_RETURN(const Subgraph* else_branch, RequireGraph(ctx, "else_branch"));
  for (const Subgraph* branch : {then_branch, else_branch}) {
    const char* name = branch == then_branch ? "then_branch" : "else_branch";
    if (branch->num_inputs() != 0) {
      return ctx.Error(std::string(name) + " must take no inputs, it declares " + std::to_string(branch->num_inputs()));
    }
    if (branch->num_outputs() != ctx.num_outputs()) {
      return ctx.Error(std::string(name) + " has " + std::to_string(branch->num_outputs()) +
                       " outputs but the node has " + std::to_string(ctx.num_outputs()));
    }
  }
  const Tensor* cond = ctx.input_value(0);
  const Subgraph* chosen = nullptr;
  if (cond != nullptr && cond->dtype() == DataType::kBool && cond->NumElements() == 1) {
    chosen = cond->data<bool>()[0] ? then_branch : else_branch;
  }
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    const ValueType& a = then_branch->output_type(i);
    const ValueType& b = else_branch->output_type(i);
    if (DtypesConflict(a.dtype, b.dtype)) {
      return ctx.Error("output #" + std::to_string(i) + " is " + a.ToString() + " in then_branch but " +
                       b.ToString() + " in else_branch");
    }
    ctx.output(i) = chosen != nullptr ? chosen->output_type(i) : UnionType(a, b);
    if (ctx.output(i).dtype == DataType::kUndefined) {
      ctx.output(i).dtype = a.dtype != DataType::kUndefined ? a.dtype : b.dtype;
    }
  }
  return Status::Ok();
}

class IfKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    then_ = ctx.attrs().GetGraph("then_branch");
    else_ = ctx.attrs().GetGraph("else_branch");
    if (then_ == nullptr || else_ == nullptr) return ctx.Error("missing then_branch or else_branch");
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor* cond_input = ctx.input(0);
    if (cond_input == nullptr) return ctx.Error("missing cond");
    EDGEAI_ASSIGN_OR_RETURN(bool cond, ReadOneElement<bool>(ctx, *cond_input, "cond"));
    const Subgraph* branch = cond ? then_ : else_;
    EDGEAI_ASSIGN_OR_RETURN(std::vector<Tensor> results, branch->Run({}, ctx));
    if (results.size() != ctx.num_outputs()) return ctx.Error("branch returned the wrong number of outputs");
    for (size_t i = 0; i < results.size(); ++i) {
      EDGEAI_RETURN_IF_ERROR(CopyToOutput(ctx, i, results[i], "branch output #" + std::to_string(i)));
    }
    return Status::Ok();
  }

 private:
  const Subgraph* then_ = nullptr;
  const Subgraph* else_ = nullptr;
};

// ---------------------------------------------------------------------------------------------------- Loop

// Loop's arity: N loop-carried values and K scan outputs, as the body declares them.
struct LoopArity {
  size_t carried = 0;
  size_t scans = 0;
};

Result<LoopArity> CheckLoopArity(const InferenceContext& ctx, const Subgraph& body) {
  if (body.num_inputs() < 2) {
    return ctx.Error("body must take at least 2 inputs (iteration_num, cond), it declares " +
                     std::to_string(body.num_inputs()));
  }
  LoopArity arity;
  arity.carried = body.num_inputs() - 2;
  if (body.num_outputs() < 1 + arity.carried) {
    return ctx.Error("body returns " + std::to_string(body.num_outputs()) + " outputs, fewer than cond and its " +
                     std::to_string(arity.carried) + " loop-carried values");
  }
  arity.scans = body.num_outputs() - 1 - arity.carried;
  if (ctx.num_inputs() < 2 + arity.carried) {
    return ctx.Error("node has " + std::to_string(ctx.num_inputs()) + " inputs but its body takes " +
                     std::to_string(arity.carried) + " loop-carried values after M and cond");
  }
  if (ctx.num_outputs() != arity.carried + arity.scans) {
    return ctx.Error("node has " + std::to_string(ctx.num_outputs()) + " outputs but its body yields " +
                     std::to_string(arity.carried) + " loop-carried values and " + std::to_string(arity.scans) +
                     " scan outputs");
  }
  const ValueType& iter = body.input_type(0);
  const ValueType& cond = body.input_type(1);
  if (DtypesConflict(iter.dtype, DataType::kInt64) || DtypesConflict(cond.dtype, DataType::kBool) ||
      DtypesConflict(body.output_type(0).dtype, DataType::kBool)) {
    return ctx.Error("body must take (int64 iteration_num, bool cond) and return a bool cond first, it declares (" +
                     iter.ToString() + ", " + cond.ToString() + ") -> " + body.output_type(0).ToString());
  }
  return arity;
}

// 1: the loop surely runs at least once; 0: surely never; -1: unknown before running.
int KnownToIterate(const InferenceContext& ctx) {
  int answer = 1;
  if (ctx.has_input(0)) {
    const Tensor* m = ctx.input_value(0);
    if (m == nullptr || m->dtype() != DataType::kInt64 || m->NumElements() != 1) {
      answer = -1;
    } else if (m->data<int64_t>()[0] <= 0) {
      return 0;
    }
  }
  if (ctx.has_input(1)) {
    const Tensor* c = ctx.input_value(1);
    if (c == nullptr || c->dtype() != DataType::kBool || c->NumElements() != 1) return -1;
    if (!c->data<bool>()[0]) return 0;
  }
  return answer;
}

Status InferLoop(InferenceContext& ctx) {
  EDGEAI_ASSIGN_OR_RETURN(const Subgraph* body, RequireGraph(ctx, "body"));
  EDGEAI_ASSIGN_OR_RETURN(LoopArity arity, CheckLoopArity(ctx, *body));
  EDGEAI_RETURN_IF_ERROR(CheckOneElement(ctx, 0, DataType::kInt64, "trip count M"));
  EDGEAI_RETURN_IF_ERROR(CheckOneElement(ctx, 1, DataType::kBool, "cond"));
  const int iterates = KnownToIterate(ctx);
  for (size_t i = 0; i < arity.carried; ++i) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(2 + i));
    const ValueType& initial = ctx.input(2 + i);
    const ValueType& declared = body->input_type(2 + i);
    const ValueType& next = body->output_type(1 + i);
    if (DtypesConflict(initial.dtype, declared.dtype) || DtypesConflict(initial.dtype, next.dtype)) {
      return ctx.Error("loop-carried value #" + std::to_string(i) + " starts as " + initial.ToString() +
                       " but the body takes " + declared.ToString() + " and returns " + next.ToString());
    }
    ValueType type = iterates == 0 ? initial : iterates == 1 ? next : UnionType(initial, next);
    type.dtype = initial.dtype;
    ctx.output(i) = type;
  }
  for (size_t k = 0; k < arity.scans; ++k) {
    const ValueType& element = body->output_type(1 + arity.carried + k);
    ValueType& out = ctx.output(arity.carried + k);
    if (iterates == 0) {
      out = ValueType::Of(element.dtype, EmptyStackShape(element, 0, 0));
    } else if (!element.rank_known) {
      out = ValueType::UnknownRank(element.dtype);
    } else {
      out = ValueType::Of(element.dtype, element.dims);
      out.dims.insert(0, -1);
    }
  }
  return Status::Ok();
}

class LoopKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    body_ = ctx.attrs().GetGraph("body");
    if (body_ == nullptr) return ctx.Error("missing graph attribute 'body'");
    EDGEAI_ASSIGN_OR_RETURN(LoopArity arity, CheckLoopArity(ctx, *body_));
    carried_ = arity.carried;
    scans_ = arity.scans;
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    int64_t max_trips = std::numeric_limits<int64_t>::max();
    bool cond = true;
    if (const Tensor* m = ctx.input(0)) {
      EDGEAI_ASSIGN_OR_RETURN(max_trips, ReadOneElement<int64_t>(ctx, *m, "trip count M"));
    }
    if (const Tensor* c = ctx.input(1)) {
      EDGEAI_ASSIGN_OR_RETURN(cond, ReadOneElement<bool>(ctx, *c, "cond"));
    }
    std::vector<Tensor> carried(carried_);
    for (size_t i = 0; i < carried_; ++i) {
      const Tensor* initial = ctx.input(2 + i);
      if (initial == nullptr) return ctx.Error("missing initial value of loop-carried value #" + std::to_string(i));
      carried[i] = *initial;  // a handle: the body never writes its inputs
    }
    // The body returns owning tensors that never alias its inputs, so these two can be rewritten in place.
    EDGEAI_ASSIGN_OR_RETURN(Tensor iteration, Tensor::Allocate(DataType::kInt64, Shape{}));
    EDGEAI_ASSIGN_OR_RETURN(Tensor cond_in, Tensor::Allocate(DataType::kBool, Shape{}));
    std::vector<std::vector<Tensor>> scanned(scans_);
    std::vector<const Tensor*> args(2 + carried_);
    int64_t trip = 0;
    for (; trip < max_trips && cond; ++trip) {
      iteration.data<int64_t>()[0] = trip;
      cond_in.data<bool>()[0] = cond;
      args[0] = &iteration;
      args[1] = &cond_in;
      for (size_t i = 0; i < carried_; ++i) args[2 + i] = &carried[i];
      EDGEAI_ASSIGN_OR_RETURN(std::vector<Tensor> results, body_->Run(args, ctx));
      if (results.size() != 1 + carried_ + scans_) return ctx.Error("body returned the wrong number of outputs");
      EDGEAI_ASSIGN_OR_RETURN(cond, ReadOneElement<bool>(ctx, results[0], "body output cond"));
      for (size_t i = 0; i < carried_; ++i) carried[i] = std::move(results[1 + i]);
      for (size_t k = 0; k < scans_; ++k) {
        Tensor& element = results[1 + carried_ + k];
        if (!scanned[k].empty() && (element.shape() != scanned[k][0].shape() ||
                                    element.dtype() != scanned[k][0].dtype())) {
          return ctx.Error("scan output #" + std::to_string(k) + " is " + element.Describe() + " at iteration " +
                           std::to_string(trip) + " but was " + scanned[k][0].Describe() + " before");
        }
        scanned[k].push_back(std::move(element));
      }
    }
    for (size_t i = 0; i < carried_; ++i) {
      EDGEAI_RETURN_IF_ERROR(CopyToOutput(ctx, i, carried[i], "loop-carried value #" + std::to_string(i)));
    }
    for (size_t k = 0; k < scans_; ++k) EDGEAI_RETURN_IF_ERROR(StackScanOutput(ctx, k, scanned[k]));
    return Status::Ok();
  }

 private:
  Status StackScanOutput(KernelContext& ctx, size_t k, const std::vector<Tensor>& elements) const {
    const size_t index = carried_ + k;
    if (elements.empty()) {
      Shape shape = EmptyStackShape(body_->output_type(1 + carried_ + k), 0, 0);
      return ctx.Output(index, shape).status();
    }
    const Tensor& first = elements[0];
    if (first.dtype() != ctx.inferred_output(index).dtype) {
      return ctx.Error("scan output #" + std::to_string(k) + " is " + first.Describe() +
                       " but was inferred as " + std::string(DataTypeName(ctx.inferred_output(index).dtype)));
    }
    Shape shape = first.shape();
    shape.insert(0, static_cast<int64_t>(elements.size()));
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(index, shape));
    const size_t bytes = first.ByteSize();
    auto* dst = static_cast<char*>(out->raw_data());
    for (size_t t = 0; t < elements.size() && bytes > 0; ++t) {
      std::memcpy(dst + t * bytes, elements[t].raw_data(), bytes);
    }
    return Status::Ok();
  }

  const Subgraph* body_ = nullptr;
  size_t carried_ = 0;
  size_t scans_ = 0;
};

Status Add(OpRegistry& registry, const char* op, int since, int until, InferFn infer, KernelFactory create) {
  return registry.Register(MakeOpDef(op, since, until, {}, infer, create));
}

}  // namespace

Status RegisterControlFlowOps(OpRegistry& registry) {
  // Versions after 1 only widen the value types (sequences, optionals) that edgeai does not hold; tensor
  // semantics are unchanged, so one definition serves every opset.
  EDGEAI_RETURN_IF_ERROR(Add(registry, "If", 1, kMaxOpset, InferIf, MakeKernel<IfKernel>));
  EDGEAI_RETURN_IF_ERROR(Add(registry, "Loop", 1, kMaxOpset, InferLoop, MakeKernel<LoopKernel>));
  return Status::Ok();
}

}  // namespace edgeai::cpu
