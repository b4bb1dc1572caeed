#include "hardware/cpu_info.h"

#include <fstream>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace edgeai {
namespace {

size_t ReadCacheSize(int index) {
  std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
  std::string text;
  if (!(in >> text) || text.empty()) return 0;
  size_t multiplier = 1;
  char unit = text.back();
  if (unit == 'K') multiplier = 1024;
  if (unit == 'M') multiplier = 1024 * 1024;
  if (multiplier != 1) text.pop_back();
  try {
    return std::stoul(text) * multiplier;
  } catch (...) {
    return 0;
  }
}

CpuInfo Detect() {
  CpuInfo info;
  info.logical_cores = static_cast<int>(std::thread::hardware_concurrency());
  if (info.logical_cores < 1) info.logical_cores = 1;
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx)) {
    char vendor[13] = {};
    *reinterpret_cast<unsigned*>(vendor) = ebx;
    *reinterpret_cast<unsigned*>(vendor + 4) = edx;
    *reinterpret_cast<unsigned*>(vendor + 8) = ecx;
    info.vendor = vendor;
  }
  __builtin_cpu_init();
  info.sse42 = __builtin_cpu_supports("sse4.2");
  info.avx = __builtin_cpu_supports("avx");
  info.avx2 = __builtin_cpu_supports("avx2");
  info.fma = __builtin_cpu_supports("fma");
  info.avx512f = __builtin_cpu_supports("avx512f");
  info.avx512bw = __builtin_cpu_supports("avx512bw");
  info.avx512vl = __builtin_cpu_supports("avx512vl");
  info.avx512_vnni = __builtin_cpu_supports("avx512vnni");
#endif
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) info.model_name = line.substr(colon + 2);
      break;
    }
  }
  info.l1d_bytes = ReadCacheSize(0);
  info.l2_bytes = ReadCacheSize(2);
  info.l3_bytes = ReadCacheSize(3);
  return info;
}

}  // namespace

std::string CpuInfo::FeatureString() const {
  std::string out;
  auto add = [&](bool has, const char* name) {
    if (!has) return;
    if (!out.empty()) out += " ";
    out += name;
  };
  add(sse42, "sse4.2");
  add(avx, "avx");
  add(avx2, "avx2");
  add(fma, "fma");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512_vnni, "avx512vnni");
  return out;
}

const CpuInfo& GetCpuInfo() {
  static const CpuInfo info = Detect();
  return info;
}

}  // namespace edgeai
