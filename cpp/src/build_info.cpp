#include "fastnn/build_info.hpp"

#include <Eigen/Core>

#include "fastnn/vector_math.hpp"

#ifndef FASTNN_EIGEN_SOURCE
#define FASTNN_EIGEN_SOURCE "?"
#endif
#ifndef FASTNN_BUILD_FLAGS
#define FASTNN_BUILD_FLAGS "?"
#endif

namespace fastnn {

BuildInfo build_info() {
  BuildInfo info;
  info.eigen_version = std::to_string(EIGEN_WORLD_VERSION) + "." +
                       std::to_string(EIGEN_MAJOR_VERSION) + "." +
                       std::to_string(EIGEN_MINOR_VERSION);
  info.eigen_source = FASTNN_EIGEN_SOURCE;
  info.simd = Eigen::SimdInstructionSetsInUse();
#if defined(__clang__)
  info.compiler = std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  info.compiler = std::string("GCC ") + __VERSION__;
#else
  info.compiler = "unknown";
#endif
  info.flags = FASTNN_BUILD_FLAGS;
#ifdef FASTNN_NATIVE_BUILD
  info.native = true;
#endif
#ifdef _OPENMP
  info.openmp = _OPENMP;
#endif
  info.vector_math = vector_math_library();
  return info;
}

}  // namespace fastnn
