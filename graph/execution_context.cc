#include "graph/execution_context.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "memory/buffer_planner.h"

namespace edgeai {

ExecutionContext::ExecutionContext(const Executor& executor)
    : exec_(executor), graph_(executor.graph()) {
  const auto& steps = exec_.steps();
  states_.resize(steps.size());
  for (size_t s = 0; s < steps.size(); ++s) {
    const Node& node = graph_.nodes[steps[s].node];
    StepState& st = states_[s];
    st.label = node.Label();
    size_t n = node.inputs.size();
    st.input_types.resize(n);
    st.type_ptrs.assign(n, nullptr);
    st.inputs.assign(n, nullptr);
    st.infer = std::make_unique<InferenceContext>(node.name, node.op_type, node.opset, node.attrs, st.type_ptrs,
                                                  st.inputs, node.outputs.size());
    st.planned_types.resize(node.outputs.size());
  }
  size_t slots = exec_.num_slots();
  values_.resize(slots);
  caller_outputs_.assign(slots, nullptr);
  slot_bytes_.assign(slots, 0);
  slot_offset_.assign(slots, -1);
  slot_first_use_.assign(slots, -1);
  slot_shared_input_.assign(slots, -1);
  value_static_.assign(slots, 0);
  shape_static_.assign(slots, 0);
  signature_.resize(graph_.inputs.size() + graph_.captures.size());
}

Status ExecutionContext::BindInputs(const NamedTensors& inputs, NamedTensors* outputs) {
  const RunLimits& limits = exec_.limits();
  for (const auto& entry : inputs) {
    int id = graph_.FindValue(entry.first);
    if (id < 0 || !graph_.IsBound(id)) {
      std::string names;
      for (int in : graph_.inputs) names += (names.empty() ? "" : ", ") + graph_.values[in].name;
      return InvalidArgument("unknown input '" + entry.first + "' (model inputs: " + names + ")");
    }
  }
  bool same_signature = !recording_;
  size_t position = 0;
  auto bind = [&](int id, bool declared) -> Status {
    const Value& v = graph_.values[id];
    auto it = inputs.find(v.name);
    if (it == inputs.end()) {
      return declared ? InvalidArgument("missing input '" + v.name + "'")
                      : Internal("captured value '" + v.name + "' was not bound");
    }
    const Tensor& t = it->second;
    if (declared) {
      bool matches = t.defined() && (t.dtype() == v.type.dtype || v.type.dtype == DataType::kUndefined);
      if (matches && v.type.rank_known) {
        matches = t.rank() == v.type.dims.rank();
        for (size_t i = 0; matches && i < t.rank(); ++i) {
          matches = v.type.dims[i] < 0 || v.type.dims[i] == t.shape()[i];
        }
      }
      if (!matches) {
        return InvalidArgument("input '" + v.name + "': expected " + graph_.Describe(id).Describe() + ", got " +
                               t.Describe());
      }
      if (t.NumElements() > limits.max_tensor_elements) {
        return ResourceExhausted("input '" + v.name + "' has " + std::to_string(t.NumElements()) +
                                 " elements, over the limit of " + std::to_string(limits.max_tensor_elements));
      }
    }
    if (signature_[position] != t.shape()) {
      same_signature = false;
      signature_[position] = t.shape();
    }
    ++position;
    values_[id] = t;
    return Status::Ok();
  };
  for (int id : graph_.inputs) EDGEAI_RETURN_IF_ERROR(bind(id, true));
  for (int id : graph_.captures) EDGEAI_RETURN_IF_ERROR(bind(id, false));
  recording_ = !same_signature;
  for (int id : graph_.outputs) {
    auto it = outputs->find(graph_.values[id].name);
    caller_outputs_[id] = it != outputs->end() && it->second.defined() ? &it->second : nullptr;
  }
  if (recording_) {
    spread_ready_ = false;
    std::fill(slot_bytes_.begin(), slot_bytes_.end(), 0);
    std::fill(slot_offset_.begin(), slot_offset_.end(), -1);
    std::fill(slot_first_use_.begin(), slot_first_use_.end(), -1);
    std::fill(slot_shared_input_.begin(), slot_shared_input_.end(), -1);
    std::fill(value_static_.begin(), value_static_.end(), 0);
    std::fill(shape_static_.begin(), shape_static_.end(), 0);
    for (size_t id = 0; id < graph_.values.size(); ++id) {
      if (graph_.values[id].is_constant()) value_static_[id] = shape_static_[id] = 1;
    }
    for (int id : graph_.inputs) shape_static_[id] = 1;
    for (int id : graph_.captures) shape_static_[id] = 1;
  }
  return Status::Ok();
}

Result<Tensor*> ExecutionContext::Output(size_t i, const Shape& shape) {
  if (i >= num_outputs()) return Internal(state().label + ": output #" + std::to_string(i) + " out of range");
  int slot = step().output_slots[i];
  Tensor& out = values_[slot];
  DataType dtype = inferred_output(i).dtype;
  if (dtype == DataType::kUndefined) return Internal(state().label + ": output #" + std::to_string(i) + " has no dtype");
  if (out.defined() && out.dtype() == dtype && out.NumElements() == shape.NumElements()) {
    EDGEAI_ASSIGN_OR_RETURN(out, out.Reshaped(shape));  // asked again: same storage, new shape
    return &out;
  }
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d != 0 && count > exec_.limits().max_tensor_elements / d)) {
      return ResourceExhausted(state().label + ": output #" + std::to_string(i) + " shape " + shape.ToString() +
                               " is invalid or exceeds the tensor size limit");
    }
    count *= d;
  }
  int64_t bytes = count * static_cast<int64_t>(DataTypeSize(dtype));
  const Tensor* caller = caller_outputs_[slot];
  if (caller != nullptr && caller->dtype() == dtype && caller->shape() == shape) {
    out = Tensor::View(dtype, shape, const_cast<void*>(caller->raw_data()));
  } else if (!recording_ && slot_offset_[slot] >= 0 && bytes <= slot_bytes_[slot] &&
             MayUsePlannedBytes(slot, dtype, bytes)) {
    out = Tensor::View(dtype, shape, PlannedBytes(slot));
  } else {
    EDGEAI_ASSIGN_OR_RETURN(out, Tensor::Allocate(dtype, shape));
  }
  if (recording_) {
    slot_bytes_[slot] = std::max(slot_bytes_[slot], bytes);
    slot_first_use_[slot] = static_cast<int>(current_);
  }
  return &out;
}

// An output planned to share its input's buffer may take those bytes only while that input really fills them
// (same place, size and dtype), which the plan guarantees for the shapes it was made for. Should a dynamic
// shape differ, the input may be elsewhere or smaller, and writing over the shared bytes could clobber it:
// the output then gets memory of its own.
bool ExecutionContext::MayUsePlannedBytes(int slot, DataType dtype, int64_t bytes) {
  int shared = slot_shared_input_[slot];
  if (shared < 0) return true;
  const Tensor* in = state().inputs[shared];
  return in != nullptr && in->raw_data() == PlannedBytes(slot) && in->dtype() == dtype &&
         static_cast<int64_t>(in->ByteSize()) == bytes;
}

// Which outputs of step `index` are fixed by the input shapes alone: their shapes when every input's shape is
// and inference read only values that are themselves fixed; their data when every input's data is (or, for
// Shape and Size, when the input's shape is).
void ExecutionContext::NoteStaticness(size_t index) {
  const Executor::Step& s = exec_.steps()[index];
  const Node& node = graph_.nodes[s.node];
  StepState& st = states_[index];
  uint64_t read = st.infer->values_read();
  bool shapes = true;
  bool data = true;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    int id = node.inputs[i];
    if (id < 0) continue;
    bool was_read = (read >> (i < 63 ? i : 63)) & 1;
    shapes = shapes && shape_static_[id] && (!was_read || value_static_[id]);
    data = data && (s.shape_only ? shape_static_[id] : value_static_[id]);
  }
  st.static_shapes = true;
  for (size_t o = 0; o < s.output_slots.size(); ++o) {
    int slot = s.output_slots[o];
    bool known = st.infer->output(o).IsFullyKnown();
    shape_static_[slot] = shapes && known;
    value_static_[slot] = data && shapes && known;
    st.static_shapes = st.static_shapes && shapes && known;
    st.planned_types[o] = st.infer->output(o);
  }
}

Status ExecutionContext::RunStep(size_t index) {
  current_ = index;
  const Executor::Step& s = exec_.steps()[index];
  const Node& node = graph_.nodes[s.node];
  StepState& st = states_[index];
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    int id = node.inputs[i];
    if (id < 0) continue;
    const Tensor* t = graph_.values[id].is_constant() ? &graph_.values[id].constant : &values_[id];
    if (!t->defined()) return Internal(st.label + ": input '" + graph_.values[id].name + "' was not computed");
    st.input_types[i].dtype = t->dtype();
    st.input_types[i].rank_known = true;
    st.input_types[i].dims = t->shape();
    st.type_ptrs[i] = &st.input_types[i];
    st.inputs[i] = t;
  }
  if (recording_ || !st.static_shapes) {
    st.infer->Reset(st.type_ptrs.data(), st.inputs.data());
    EDGEAI_RETURN_IF_ERROR(s.def->infer(*st.infer));
    current_types_ = &st.infer->outputs();
    if (recording_) NoteStaticness(index);
  } else {
    current_types_ = &st.planned_types;
  }
  const bool profile = exec_.limits().profile;
  auto start = profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  EDGEAI_RETURN_IF_ERROR(s.kernel->Compute(*this));
  if (profile) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
    s.stats[0].fetch_add(ns.count(), std::memory_order_relaxed);
    s.stats[1].fetch_add(1, std::memory_order_relaxed);
  }
  for (size_t o = 0; o < s.output_slots.size(); ++o) {
    int slot = s.output_slots[o];
    if (!values_[slot].defined() && node.outputs[o] >= 0) {
      return Internal(st.label + " did not produce output '" + graph_.values[slot].name + "'");
    }
    if (node.outputs[o] < 0) values_[slot] = Tensor();  // nobody reads an absent output
  }
  for (int id : s.release_after) values_[id] = Tensor();
  return Status::Ok();
}

Status ExecutionContext::BuildPlan() {
  std::vector<BufferRequest> requests;
  std::vector<int> slots;
  std::vector<int> last_use(values_.size(), -1);
  const auto& steps = exec_.steps();
  for (size_t s = 0; s < steps.size(); ++s) {
    for (int id : graph_.nodes[steps[s].node].inputs) {
      if (id >= 0) last_use[id] = static_cast<int>(s);
    }
  }
  std::vector<char> is_output(values_.size(), 0);
  for (int id : graph_.outputs) is_output[id] = 1;
  std::vector<int> request_of(values_.size(), -1);
  for (size_t slot = 0; slot < values_.size(); ++slot) {
    if (slot_first_use_[slot] < 0 || is_output[slot] || slot_bytes_[slot] == 0) continue;
    request_of[slot] = static_cast<int>(requests.size());
    BufferRequest request;
    request.bytes = slot_bytes_[slot];
    request.first_use = slot_first_use_[slot];
    request.last_use = std::max(last_use[slot], slot_first_use_[slot]);
    requests.push_back(request);
    slots.push_back(static_cast<int>(slot));
  }
  // The debugging layout (reuse_memory off) keeps every tensor apart, aliases included.
  const bool reuse = exec_.limits().reuse_memory;
  int64_t aliased = reuse ? PlanSharing(request_of, &requests) : 0;
  BufferPlan plan = PlanBuffers(requests, Arena::kAlignment, reuse);
  EDGEAI_RETURN_IF_ERROR(arena_.Reserve(static_cast<size_t>(plan.arena_bytes)));
  for (size_t r = 0; r < slots.size(); ++r) slot_offset_[slots[r]] = plan.offsets[r];
  // The spread layout, for runs whose threads share no cache (ThreadPool::ThreadsShareCache): every buffer
  // its own bytes, so that each address is written by one step, and (the pool dealing out each loop alike)
  // by one thread, every run. Reused bytes are written by one core and then by the other, which there means
  // fetching each line from the other core's cache: measured on a 2-vCPU VM whose vCPUs sat on two CCDs,
  // squeezenet1_1 and mobilenet_v2 ran ~20% faster at 2 threads spread; with a shared cache the reused
  // layout is 10-30% faster (its freed buffers are still in the core's L2). The arena is reserved here so that a
  // switch allocates nothing; its pages are touched only once a spread run writes them.
  spread_ready_ = false;
  if (reuse && exec_.limits().memory_layout != MemoryLayout::kReuse && pool_->threads() > 1 &&
      plan.total_bytes <= kMaxSpreadBytes && plan.total_bytes > plan.arena_bytes) {
    BufferPlan spread = PlanBuffers(requests, Arena::kAlignment, false);
    // Not NaN-filled: the same kernels run on the NaN-filled reused arena. Without the memory, runs reuse.
    if (spread_arena_.Reserve(static_cast<size_t>(spread.arena_bytes), false).ok()) {
      spread_offset_.assign(values_.size(), -1);
      for (size_t r = 0; r < slots.size(); ++r) spread_offset_[slots[r]] = spread.offsets[r];
      spread_ready_ = true;
    }
  }
  exec_.RecordPlan(
      MemoryPlanStats{plan.arena_bytes, plan.total_bytes, static_cast<int64_t>(slots.size()), aliased});
  return Status::Ok();
}

// Decides which of the steps' permitted sharings (Executor::Step::in_place) hold for the recorded sizes and
// links those requests (alias_of); returns how many. Walking the steps in order, each value's group is the set
// of tensors already sharing its buffer, and the group's last use the last step that reads any of them. A view
// may always join its input's group: it only reads. An in-place output may join only when no step after this
// one reads the group, since it overwrites the bytes. Sizes must match, so that every member of a group has the
// same layout (an elementwise op then reads and writes element k at the same place even when both of its
// inputs are in the group), and two outputs of one step never take the same group.
int64_t ExecutionContext::PlanSharing(const std::vector<int>& request_of, std::vector<BufferRequest>* requests) {
  std::vector<BufferRequest>& req = *requests;
  std::vector<int> group(req.size());
  std::vector<int> group_last(req.size());
  for (size_t r = 0; r < req.size(); ++r) {
    group[r] = static_cast<int>(r);
    group_last[r] = req[r].last_use;
  }
  int64_t aliased = 0;
  std::vector<int> taken;
  const auto& steps = exec_.steps();
  for (size_t s = 0; s < steps.size(); ++s) {
    const Executor::Step& step = steps[s];
    const Node& node = graph_.nodes[step.node];
    taken.clear();
    for (const InPlace& share : step.in_place) {
      int out = step.output_slots[share.output];
      int in = node.inputs[share.input];
      int ro = request_of[out];
      int ri = request_of[in];
      if (ro < 0 || ri < 0 || slot_shared_input_[out] >= 0 || req[ro].first_use != static_cast<int>(s) ||
          req[ro].bytes != req[ri].bytes) {
        continue;
      }
      int g = group[ri];
      if (std::find(taken.begin(), taken.end(), g) != taken.end()) continue;
      if (!share.view && group_last[g] > static_cast<int>(s)) continue;  // read later: cannot overwrite
      req[ro].alias_of = ri;
      group[ro] = g;
      group_last[g] = std::max(group_last[g], req[ro].last_use);
      slot_shared_input_[out] = share.input;
      taken.push_back(g);
      ++aliased;
    }
  }
  return aliased;
}

Status ExecutionContext::CollectOutputs(NamedTensors* outputs) {
  for (int id : graph_.outputs) {
    const Value& v = graph_.values[id];
    const Tensor& t = v.is_constant() ? v.constant : values_[id];
    const Tensor* caller = caller_outputs_[id];
    if (caller != nullptr && caller->raw_data() == t.raw_data() && caller->shape() == t.shape()) continue;
    if (caller != nullptr && caller->dtype() == t.dtype() && caller->shape() == t.shape()) {
      if (t.ByteSize() != 0) std::memcpy(const_cast<void*>(caller->raw_data()), t.raw_data(), t.ByteSize());
      continue;
    }
    // Anything not owned outright (a constant, the caller's input, an arena view) is copied out.
    bool owned = t.owns_data() && !v.is_constant() && !graph_.IsBound(id);
    if (owned) {
      (*outputs)[v.name] = t;
    } else {
      EDGEAI_ASSIGN_OR_RETURN((*outputs)[v.name], t.Clone());
    }
  }
  return Status::Ok();
}

Status ExecutionContext::Run(const NamedTensors& inputs, NamedTensors* outputs, const ThreadPool& pool) {
  pool_ = &pool;
  Status status = BindInputs(inputs, outputs);
  if (status.ok()) {
    pool.Execute([&] {
      use_spread_ = spread_ready_ && pool.threads() > 1 &&
                    (exec_.limits().memory_layout == MemoryLayout::kSpread || !pool.ThreadsShareCache());
      for (size_t s = 0; s < exec_.steps().size(); ++s) {
        status = RunStep(s);
        if (!status.ok()) return;
      }
    });
  }
  if (status.ok() && recording_) {
    status = BuildPlan();
    recording_ = !status.ok();
  }
  if (status.ok()) status = CollectOutputs(outputs);
  if (!status.ok()) recording_ = true;  // a failed run leaves no plan behind
  for (Tensor& t : values_) t = Tensor();
  std::fill(caller_outputs_.begin(), caller_outputs_.end(), nullptr);
  return status;
}

}  // namespace edgeai
