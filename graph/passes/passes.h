// The standard passes, one per file of this folder.
#pragma once

#include <memory>

#include "graph/passes/pass.h"

namespace edgeai {

// basic
std::unique_ptr<Pass> MakeConstantFoldingPass();      // constant_folding.cc
std::unique_ptr<Pass> MakeShapeFoldingPass();         // shape_folding.cc
std::unique_ptr<Pass> MakeIdentityEliminationPass();  // identity_elimination.cc: Identity, inference Dropout
std::unique_ptr<Pass> MakeDeadCodeEliminationPass();  // dead_code_elimination.cc
// all
std::unique_ptr<Pass> MakeBatchNormFoldingPass();     // batchnorm_folding.cc: into Conv and Gemm
std::unique_ptr<Pass> MakeMatMulAddFusionPass();      // matmul_add_fusion.cc: -> Gemm or com.edgeai FusedMatMul
std::unique_ptr<Pass> MakeActivationFusionPass();     // activation_fusion.cc: -> com.edgeai FusedConv/Gemm/MatMul
std::unique_ptr<Pass> MakeLayerNormFusionPass();      // layer_norm_fusion.cc: -> com.edgeai LayerNormalization
std::unique_ptr<Pass> MakeGeluFusionPass();           // gelu_fusion.cc: -> com.edgeai Gelu
std::unique_ptr<Pass> MakeTransposeMatMulFusionPass();  // transpose_matmul_fusion.cc: -> com.edgeai
                                                        //   TransposeMatMul (attention's head transposes)
std::unique_ptr<Pass> MakeConcatConvFusionPass();    // concat_conv_fusion.cc: Concat -> 1x1 Conv -> ConcatConv
std::unique_ptr<Pass> MakeBlockedLayoutPass();        // blocked_layout.cc: -> com.edgeai BlockedConv (AVX-512)

}  // namespace edgeai
