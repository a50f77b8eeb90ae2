// fastnn._cpu: what this x86-64 CPU and its operating system support, for choosing the core's
// variant at import (fastnn/_variants.py). Built for the baseline instruction set, without Eigen
// or OpenMP, so that it loads on any x86-64 machine.
//
// A feature counts only when the CPU has it (cpuid) and, for AVX and AVX-512, when the OS saves
// the registers it needs on a context switch (XCR0, read with xgetbv once cpuid says OSXSAVE).
#include <pybind11/pybind11.h>

#include <cpuid.h>

#include <cstdint>

namespace py = pybind11;

namespace {

struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned subleaf) {
  Regs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.a, &r.b, &r.c, &r.d)) r = Regs{};
  return r;
}

std::uint64_t xgetbv0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));  // xgetbv
  return (std::uint64_t(hi) << 32) | lo;
}

bool bit(unsigned reg, int n) { return (reg >> n) & 1u; }

py::dict features() {
  const Regs l1 = cpuid(1, 0), l7 = cpuid(7, 0), e1 = cpuid(0x80000001u, 0);
  const bool osxsave = bit(l1.c, 27);
  const std::uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;     // SSE and AVX state
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;   // ... and opmask, ZMM_Hi256, Hi16_ZMM state
  py::dict f;
  // x86-64-v2
  f["cx16"] = bit(l1.c, 13);
  f["lahf_lm"] = bit(e1.c, 0);
  f["popcnt"] = bit(l1.c, 23);
  f["sse3"] = bit(l1.c, 0);
  f["ssse3"] = bit(l1.c, 9);
  f["sse4_1"] = bit(l1.c, 19);
  f["sse4_2"] = bit(l1.c, 20);
  // x86-64-v3
  f["avx"] = bit(l1.c, 28) && os_ymm;
  f["avx2"] = bit(l7.b, 5) && os_ymm;
  f["bmi1"] = bit(l7.b, 3);
  f["bmi2"] = bit(l7.b, 8);
  f["f16c"] = bit(l1.c, 29) && os_ymm;
  f["fma"] = bit(l1.c, 12) && os_ymm;
  f["abm"] = bit(e1.c, 5);  // lzcnt
  f["movbe"] = bit(l1.c, 22);
  f["xsave"] = bit(l1.c, 26);
  // x86-64-v4
  f["avx512f"] = bit(l7.b, 16) && os_zmm;
  f["avx512dq"] = bit(l7.b, 17) && os_zmm;
  f["avx512cd"] = bit(l7.b, 28) && os_zmm;
  f["avx512bw"] = bit(l7.b, 30) && os_zmm;
  f["avx512vl"] = bit(l7.b, 31) && os_zmm;
  return f;
}

}  // namespace

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "What this x86-64 CPU and OS support (cpuid, xgetbv), for fastnn's variant choice.";
  m.def("features", &features,
        "Feature name (as /proc/cpuinfo spells it) -> whether the CPU has it and, for AVX and "
        "AVX-512, the OS saves its registers.");
}
