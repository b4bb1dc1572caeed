#include <cstdio>
#include <cstdlib>

#include "backend/cpu/cpu_ops.h"

namespace edgeai {
namespace {

OpRegistry BuildCpuRegistry() {
  OpRegistry registry;
  using RegisterFn = Status (*)(OpRegistry&);
  const RegisterFn families[] = {
      cpu::RegisterElementwiseOps, cpu::RegisterCastOps,  cpu::RegisterNormalizationOps, cpu::RegisterReduceOps,
      cpu::RegisterConvOps,        cpu::RegisterMatMulOps, cpu::RegisterPoolOps,         cpu::RegisterShapeOps,
      cpu::RegisterTensorOps,      cpu::RegisterRnnOps,
      cpu::RegisterConstantOps,    cpu::RegisterGatherOps, cpu::RegisterPadOps,
      cpu::RegisterGruOps,         cpu::RegisterLstmOps,
      cpu::RegisterElementwiseUnaryOps, cpu::RegisterElementwiseVariadicOps,
      cpu::RegisterControlFlowOps, cpu::RegisterScanOps,
      cpu::RegisterLossOps, cpu::RegisterIndexOps, cpu::RegisterDataDependentOps, cpu::RegisterMiscOps,
      cpu::RegisterPoolMiscOps,
      cpu::RegisterResizeOps, cpu::RegisterSpatialOps, cpu::RegisterSamplingOps,
      cpu::RegisterFusedOps,  // after RegisterNormalizationOps: reads LayerNormalization-17
      cpu::RegisterScatterOps, cpu::RegisterSignalOps, cpu::RegisterTfIdfOps,
      cpu::RegisterQuantizeOps, cpu::RegisterQuantizedLinearOps, cpu::RegisterConvTransposeOps,
      cpu::RegisterEinsumOps,      cpu::RegisterBlockedLayoutOps, cpu::RegisterConcatConvOps,
      cpu::RegisterTransposeMatMulOps,
  };
  for (RegisterFn family : families) {
    Status status = family(registry);
    if (!status.ok()) {
      // A registration conflict is a bug in the table itself, caught by the first test that runs.
      std::fprintf(stderr, "edgeai: CPU op table is inconsistent: %s\n", status.ToString().c_str());
      std::abort();
    }
  }
  return registry;
}

}  // namespace

const OpRegistry& CpuOpRegistry() {
  static const OpRegistry registry = BuildCpuRegistry();
  return registry;
}

}  // namespace edgeai
