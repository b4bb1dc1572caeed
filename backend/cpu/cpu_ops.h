// The CPU backend's op table. Each op family lives in one file of this folder and exposes one Register
// function; cpu_op_table.cc calls them all, so every CPU kernel is registered exactly once, in one place.
#pragma once

#include "backend/op_registry.h"

namespace edgeai {

// The registry of every CPU op, built on first use. Thread safe.
const OpRegistry& CpuOpRegistry();

namespace cpu {
Status RegisterElementwiseOps(OpRegistry& registry);    // elementwise.cc: Add..Erf, Relu, Clip, Sigmoid, Tanh, Where
Status RegisterCastOps(OpRegistry& registry);           // cast.cc: Cast, Identity, Dropout
Status RegisterNormalizationOps(OpRegistry& registry);  // normalization.cc: Softmax, LayerNormalization, BatchNorm
Status RegisterReduceOps(OpRegistry& registry);         // reduce.cc: ReduceMean
Status RegisterConvOps(OpRegistry& registry);           // conv.cc: Conv
Status RegisterMatMulOps(OpRegistry& registry);         // matmul.cc: Gemm, MatMul
Status RegisterPoolOps(OpRegistry& registry);           // pool.cc: MaxPool, AveragePool, GlobalAveragePool
Status RegisterShapeOps(OpRegistry& registry);          // shape_ops.cc: Reshape, Flatten, Squeeze, Unsqueeze, Shape,
                                                        //   Expand, Transpose
Status RegisterTensorOps(OpRegistry& registry);         // tensor_ops.cc: Concat, Split, Slice, Gather, Constant,
                                                        //   ConstantOfShape
Status RegisterRnnOps(OpRegistry& registry);            // rnn.cc: GRU, LSTM
}  // namespace cpu

}  // namespace edgeai
