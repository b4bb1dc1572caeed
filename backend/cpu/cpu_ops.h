// The CPU backend's op table. Each op family lives in one file of this folder and exposes one Register
// function; cpu_op_table.cc calls them all, so every CPU kernel is registered exactly once, in one place.
#pragma once

#include "backend/op_registry.h"

namespace edgeai {

// The registry of every CPU op, built on first use. Thread safe.
const OpRegistry& CpuOpRegistry();

namespace cpu {
// An ai.onnx OpDef for opsets [since, until] accepting `types` on input `type_input` (empty: any dtype).
inline OpDef MakeOpDef(const char* op, int since, int until, std::vector<DataType> types, InferFn infer,
                       KernelFactory create, int type_input = 0) {
  OpDef def;
  def.op_type = op;
  def.since_version = since;
  def.until_version = until;
  def.types = std::move(types);
  def.type_input = type_input;
  def.infer = infer;
  def.create = create;
  return def;
}

Status RegisterElementwiseOps(OpRegistry& registry);    // elementwise.cc: Add, Sub, Mul, Div, Pow, Mod, Equal..
Status RegisterElementwiseUnaryOps(OpRegistry& registry);     // elementwise_unary.cc: Relu..Erf, Clip
Status RegisterElementwiseVariadicOps(OpRegistry& registry);  // elementwise_variadic.cc: Max, Min, Sum, Mean,
                                                              //   Where, PRelu
Status RegisterBlockedLayoutOps(OpRegistry& registry);  // blocked_layout_ops.cc: com.edgeai ReorderToBlocked,
                                                        //   ReorderFromBlocked, BlockedConv
// Whether the blocked layout pass should run: its kernels are AVX-512 (EDGEAI_BLOCKED_LAYOUT=0 turns it off).
bool BlockedLayoutPays();
Status RegisterConcatConvOps(OpRegistry& registry);  // concat_conv.cc: com.edgeai ConcatConv
Status RegisterTransposeMatMulOps(OpRegistry& registry);  // transpose_matmul.cc: com.edgeai TransposeMatMul
Status RegisterCastOps(OpRegistry& registry);           // cast.cc: Cast, Identity, Dropout
Status RegisterNormalizationOps(OpRegistry& registry);  // normalization.cc: Softmax, LayerNormalization, BatchNorm
Status RegisterReduceOps(OpRegistry& registry);         // reduce.cc: ReduceMean
Status RegisterConvOps(OpRegistry& registry);           // conv.cc: Conv
Status RegisterMatMulOps(OpRegistry& registry);         // matmul.cc: Gemm, MatMul
Status RegisterPoolOps(OpRegistry& registry);           // pool.cc: MaxPool, AveragePool, GlobalAveragePool
Status RegisterShapeOps(OpRegistry& registry);          // shape_ops.cc: Reshape, Flatten, Squeeze, Unsqueeze, Shape,
                                                        //   Expand, Transpose
Status RegisterTensorOps(OpRegistry& registry);         // tensor_ops.cc: Concat, Split, Slice
Status RegisterConstantOps(OpRegistry& registry);       // constant_ops.cc: Constant, ConstantOfShape, Range
Status RegisterGatherOps(OpRegistry& registry);         // gather_ops.cc: Gather, GatherElements, Tile, Trilu
Status RegisterPadOps(OpRegistry& registry);            // pad_ops.cc: Pad
Status RegisterRnnOps(OpRegistry& registry);            // rnn.cc: RNN
Status RegisterGruOps(OpRegistry& registry);            // rnn_gru.cc: GRU
Status RegisterLstmOps(OpRegistry& registry);           // rnn_lstm.cc: LSTM
Status RegisterControlFlowOps(OpRegistry& registry);    // control_flow.cc: If, Loop
Status RegisterScanOps(OpRegistry& registry);           // control_flow_scan.cc: Scan
Status RegisterLossOps(OpRegistry& registry);           // loss_ops.cc: NegativeLogLikelihoodLoss,
                                                        //   SoftmaxCrossEntropyLoss
Status RegisterIndexOps(OpRegistry& registry);          // index_ops.cc: Hardmax, CumSum, TopK, OneHot, EyeLike,
                                                        //   ReverseSequence
Status RegisterDataDependentOps(OpRegistry& registry);  // data_dependent_ops.cc: Unique, NonZero, Compress
Status RegisterMiscOps(OpRegistry& registry);           // misc_ops.cc: Shrink, IsInf, IsNaN, Det, LRN,
                                                        //   MeanVarianceNormalization
Status RegisterPoolMiscOps(OpRegistry& registry);       // pool_misc_ops.cc: LpPool, MaxUnpool
Status RegisterResizeOps(OpRegistry& registry);         // resize.cc (+ resize_plan.cc): Resize, Upsample
Status RegisterSpatialOps(OpRegistry& registry);        // spatial_ops.cc: DepthToSpace, SpaceToDepth,
                                                        //   NonMaxSuppression
Status RegisterSamplingOps(OpRegistry& registry);       // spatial_sampling.cc: GridSample, RoiAlign
Status RegisterFusedOps(OpRegistry& registry);          // fused_ops.cc: com.edgeai FusedConv, FusedGemm,
                                                        //   FusedMatMul, Gelu, LayerNormalization (after
                                                        //   RegisterNormalizationOps: reuses its -17 def)
Status RegisterScatterOps(OpRegistry& registry);        // scatter_ops.cc: Scatter, ScatterElements, ScatterND,
                                                        //   GatherND
Status RegisterSignalOps(OpRegistry& registry);         // signal_ops.cc: DFT, STFT, Hann/Hamming/BlackmanWindow,
                                                        //   MelWeightMatrix
Status RegisterTfIdfOps(OpRegistry& registry);          // tfidf.cc: TfIdfVectorizer
Status RegisterQuantizeOps(OpRegistry& registry);       // quantize_ops.cc: QuantizeLinear, DequantizeLinear,
                                                        //   DynamicQuantizeLinear
Status RegisterQuantizedLinearOps(OpRegistry& registry);  // quantized_linear_ops.cc (+ quantized_conv.cc):
                                                          //   MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv
Status RegisterConvTransposeOps(OpRegistry& registry);  // conv_transpose.cc: ConvTranspose
Status RegisterEinsumOps(OpRegistry& registry);         // einsum.cc (+ einsum_plan.cc): Einsum
}  // namespace cpu

}  // namespace edgeai
