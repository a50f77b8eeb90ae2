#pragma once
// How this core was built: what a user pastes into a bug report (fastnn.show_config()).
#include <string>

namespace fastnn {

struct BuildInfo {
  std::string eigen_version;  // "3.4.0"
  std::string eigen_source;   // "system (/usr/share/eigen3/cmake)" or "PyPI cmeel-eigen (...)"
  std::string simd;           // Eigen's SimdInstructionSetsInUse(): "AVX512, FMA, AVX2, ..."
  std::string compiler;       // "GCC 12.2.0"
  std::string flags;          // the core's compile options ("-O3 -march=native ...")
  bool native = false;        // built with -march=native (FASTNN_NATIVE=ON)
  int openmp = 0;             // _OPENMP (the specification's date, e.g. 201511), 0 without
  std::string vector_math;    // what evaluates tanh and exp: "SLEEF 3.5.1 (AVX2 + FMA, ...)"
};

BuildInfo build_info();

}  // namespace fastnn
