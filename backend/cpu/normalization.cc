// PLACEHOLDER: this family's kernels are not written yet.
#include "backend/cpu/cpu_ops.h"

namespace edgeai::cpu {

Status RegisterNormalizationOps(OpRegistry&) { return Status::Ok(); }

}  // namespace edgeai::cpu
