// Helpers shared by the control-flow kernels (control_flow.cc: If, Loop; control_flow_scan.cc: Scan).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "backend/kernel.h"
#include "backend/subgraph.h"

namespace edgeai::cpu::control_flow {

// What is known of a value that is either `a` or `b`: equal dims stay, others become unknown; ranks that
// differ give an unknown rank. The dtype is a's when known, else b's.
ValueType UnionType(const ValueType& a, const ValueType& b);
// True when both dtypes are known and differ.
bool DtypesConflict(DataType a, DataType b);
// The graph attribute `name`, or an error naming the node.
Result<const Subgraph*> RequireGraph(const InferenceContext& ctx, const char* name);
// When input i is present: an error unless it has `dtype` and can hold exactly one element.
Status CheckOneElement(const InferenceContext& ctx, size_t i, DataType dtype, std::string_view what);
// Copies `value` into output i (with value's shape); an error when its dtype is not the inferred one.
Status CopyToOutput(KernelContext& ctx, size_t i, const Tensor& value, std::string_view what);
// The shape of `stacked` elements of static type `element` stacked along a new `axis`, for empty results:
// unknown element dims count as 0 and an unknown rank gives [stacked].
Shape EmptyStackShape(const ValueType& element, size_t axis, int64_t stacked);

}  // namespace edgeai::cpu::control_flow
