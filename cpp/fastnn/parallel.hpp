#pragma once
// OpenMP helpers. fastnn has one level of parallelism: OpenMP over a fixed partition of the work
// (row chunks, parameter slices); every Eigen product inside runs single-threaded.
#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastnn {

constexpr bool kHaveOpenMP =
#ifdef _OPENMP
    true;
#else
    false;
#endif

// The calling thread's OpenMP limit (OMP_NUM_THREADS, omp_set_num_threads, threadpoolctl).
inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// The calling thread's number in the current team (0 outside parallel regions).
inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// requested <= 0 means "all the calling thread may use".
inline int resolve_threads(int requested) {
  const int n = requested > 0 ? requested : max_threads();
  return kHaveOpenMP ? n : 1;
}

}  // namespace fastnn
