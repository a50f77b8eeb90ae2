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

// Whether this process is a fork() child whose parent could not release its OpenMP thread pool
// before forking (parallel.cpp): fastnn then runs on one thread here.
bool serial_after_fork();
// For tests only: make the next fork() behave as if the pool could not be released.
void simulate_pool_kept_over_fork();

// The calling thread's OpenMP limit (OMP_NUM_THREADS, omp_set_num_threads, threadpoolctl).
inline int max_threads() {
#ifdef _OPENMP
  return serial_after_fork() ? 1 : omp_get_max_threads();
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

// Runs body() on a team of `threads` threads, or -- for one thread -- directly on the caller.
// body's work-sharing constructs (omp for / master / single) are orphaned, so they bind to the
// team, or run serially without one. (A region with `if (false)` would still start a team of
// one, whose barriers cost a futex system call each: ~1 µs a mini-batch on tiny networks.)
template <class Body>
void run_in_team([[maybe_unused]] int threads, Body&& body) {
#ifdef _OPENMP
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    body();
    return;
  }
#endif
  body();
}

// requested <= 0 means "all the calling thread may use".
inline int resolve_threads(int requested) {
  const int n = requested > 0 ? requested : max_threads();
  return kHaveOpenMP && !serial_after_fork() ? n : 1;
}

}  // namespace fastnn
