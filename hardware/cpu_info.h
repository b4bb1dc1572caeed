// CPU discovery: core count, ISA features and cache sizes, for the registry, the CLI and kernel dispatch.
#pragma once

#include <string>

namespace edgeai {

struct CpuInfo {
  std::string vendor;
  std::string model_name;
  int logical_cores = 1;
  bool sse42 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512_vnni = false;
  size_t l1d_bytes = 0;
  size_t l2_bytes = 0;
  size_t l3_bytes = 0;

  // "avx2 fma avx512f ..."
  std::string FeatureString() const;
};

// Read once, then cached. Thread safe.
const CpuInfo& GetCpuInfo();

}  // namespace edgeai
